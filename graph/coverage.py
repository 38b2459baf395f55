"""The coverage rule: an outline may not end while a clear action of the requirement has
no step.

A small model stops early on long requirements ("do the following: first ... second ...
then ..."): it writes the trigger and a step or two and ends. Each outline line carries
the span of the requirement it came from, so what is left uncovered is visible while
decoding. The rule cuts the requirement into clauses (as step retrieval does), keeps
those that ask for an action (an imperative verb such as notify, create, assign), and
when the model would end the outline while one of them shares no words with any
annotation, the engine takes its next most likely token instead (a new line). It asks
again at each would-be end, at most a few times per outline, so a clause the model
cannot place does not make it write forever.
"""

from __future__ import annotations

import re
from typing import Literal

from flowgen.graph.retrieval import clauses

# Imperative forms only: "created" and "updated" describe a trigger, "create" asks for a step.
ACTION_VERBS = frozenset(
    """
    add alert approve ask assign attach call cancel check close comment copy create delete
    email escalate file find generate get inform link log look mark message move notify open
    page post raise reassign remind remove reopen resolve run schedule send set start
    submit tell text update wait
    """.split()
)
STOPWORDS = frozenset(
    "a an the to of and or for in on at by with it its them their they this that is are be "
    "then also all any each every".split()
)
MAX_EXTENSIONS = 4
# When the rule applies: never, on every requirement, or on those with at least
# LONG_ACTIONS action clauses. Dev's 100 short requirements have at most 4 (one has 4);
# 23 of its 24 long ones have 5 or more.
Coverage = Literal["off", "long", "on"]
LONG_ACTIONS = 4
DEFAULT_COVERAGE: Coverage = "off"


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in STOPWORDS}


def action_clauses(requirement: str) -> list[str]:
    """The clauses of the requirement that ask for an action."""
    found = []
    for clause in clauses(requirement):
        words = re.findall(r"[a-z]+", clause.lower())
        if any(w in ACTION_VERBS for w in words):
            found.append(clause)
    return found


def long_requirement(requirement: str) -> bool:
    """Whether the requirement asks for LONG_ACTIONS actions or more (what "long" means
    to the coverage rule and to how many examples a prompt shows)."""
    return len(action_clauses(requirement)) >= LONG_ACTIONS


def uncovered(actions: list[str], annotations: list[str]) -> list[str]:
    """The action clauses none of whose content words appears in an annotation; a clause
    half of whose words an annotation holds counts as covered."""
    spans = [_words(a) for a in annotations if a.strip()]
    left = []
    for clause in actions:
        words = _words(clause)
        if words and not any(len(words & span) * 2 >= len(words) for span in spans):
            left.append(clause)
    return left


def outline_annotations(outline: str) -> list[str]:
    """The annotation of each line of outline text written so far (empty where none)."""
    return [line.partition(" | ")[2] for line in outline.splitlines()]


class CoverageRule:
    """`may_end` for one outline call (engine.base.GenerationRequest)."""

    def __init__(self, requirement: str):
        self.actions = action_clauses(requirement)
        self.extensions = 0

    @classmethod
    def when(cls, coverage: Coverage, requirement: str) -> CoverageRule | None:
        """The rule for this requirement under `coverage`, or None where it does not apply."""
        if coverage == "off" or (coverage == "long" and not long_requirement(requirement)):
            return None
        return cls(requirement)

    def __call__(self, text: str) -> bool:
        if not self.actions or self.extensions >= MAX_EXTENSIONS or text.startswith("REFUSE"):
            return True
        if not uncovered(self.actions, outline_annotations(text)):
            return True
        self.extensions += 1
        return False


class MissingSteps:
    """`may_redo` for one outline call (engine.base.GenerationRequest): whether a step
    line that repeats an earlier one should be written again, differently, rather than
    end the outline. Only while an action clause has no step yet and the outline is not
    already long for what was asked (`2 * clauses + 2` step lines): past that, a model
    that repeats itself is looping, not missing steps (on dev, redoing there wrote up to
    27 steps where 10 were asked)."""

    def __init__(self, requirement: str):
        self.actions = action_clauses(requirement)

    def __call__(self, text: str) -> bool:
        steps = sum(line.lstrip().startswith("- ") for line in text.splitlines())
        if steps >= 2 * len(self.actions) + 2:
            return False
        return bool(uncovered(self.actions, outline_annotations(text)))
