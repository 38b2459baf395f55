"""Cases the words list one after another are one chain of branches, not separate tests.

"For a defective unit, mark the RMA replaced ... For a unit damaged in transit, ask the
account manager to approve a refund ... For a wrong item, mark it replaced", "for a gold
account create it with severity 2, for a platinum account create it with severity 1",
"where the severity is Medium, ...; where the severity is High, ...": each case after the
first is tested only when the ones before did not hold. The small model writes such
cases flat, or as IFs one after another, and the case said last for what is left ("for
any other type, only write a log entry", "for everyone else") as one more IF.

`CASE_CLAUSE` ("for" and who or what the case is about, opening a clause) is a test that
graph/uncovered_branches.py puts around the steps it governs, as it does an "if" clause.
Here, in a block, an IF right after an IF or ELSEIF becomes an ELSEIF where both are the
same kind of case: both open with "for" so, or both open with the same word ("if",
"where", "when") and test the same thing (the same words up to the last: "where the
severity is Medium", "where the severity is High"). An IF right after an IF or ELSEIF
whose words are a case for what is left (`CATCH_ALL`) becomes the chain's ELSE. An IF
that tests the other case of the IF before and something more ("If it is entitled and
the amount is 1000 or more" after "If the account is not entitled") is its ELSEIF too.
Two cases written in the other order than said are first put in the order said.

Of the hand-written train and dev gold flows' requirements, a `CASE_CLAUSE` opens the
words of an IF, ELSEIF or ELSE 16 times of 20 (the others: "for scheduled changes" inside
a step's words, a duration, a note to the reader). No hand-written, synthetic or
rephrased train or dev gold flow (3,563) changes; with each gold ELSE or ELSEIF that
follows an IF or ELSEIF made an IF, 102 of 946 ELSEs and 15 of 529 ELSEIFs come back (the
others are "otherwise" and negations, graph/negated_tests.py's, or other tests).
"""

from __future__ import annotations

import re

from flowgen.flow.model import Component, Flow, subtree_end
from flowgen.graph.negated_tests import says_the_opposite

# "for" + the case, where a clause opens: not a loop ("for each"), a duration ("for 2
# days", "for at most 8 hours"), a recipient said of everyone ("for anyone"), nor the
# case for what is left (`CATCH_ALL`).
CASE_CLAUSE = re.compile(
    r"(?:^|(?<=[.;:,!?(])|\b(?:and|but)\s+|\s-\s+|\d\)\s*)\s*(?P<word>for)\s+"
    r"(?!(?:each|every|all|example|instance|now|this|that|them|it|him|her|us|me|those"
    r"|these|the next|the rest|the first|the last|at least|at most|up to|more than"
    r"|less than|over|under|about|another|\d+)\b)"
    r"(?!(?:any|every|no)(?:one|body|thing)\b)(?!any other\b)",
    re.I,
)
# The words of the case for what is left: "any other type", "everyone else", "in all
# other cases".
_ANY_OTHER = r"(?:any|all)\s+other"
_ANYONE_ELSE = r"(?:any|every)(?:one|body|thing)\s+else"
_OTHER_CASES = r"in\s+(?:all|any)\s+other\s+cases?"
# A branch's words that are that case: "for any other type", "for everyone else",
# "anything else:".
CATCH_ALL = re.compile(rf"^(?:for\s+)?(?:{_ANY_OTHER}|{_ANYONE_ELSE}|{_OTHER_CASES})\b", re.I)
# Where the requirement says it ("...; for everyone else, an email"): "any other" and
# "everyone else" only after "for", where they open the case.
CATCH_ALL_SAID = re.compile(
    rf"\b(?:for\s+(?:{_ANY_OTHER}|{_ANYONE_ELSE})|{_OTHER_CASES}|(?:any|every)thing\s+else)\b",
    re.I,
)
_OPENERS = frozenset({"if", "where", "when", "for"})
_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
# Words that say nothing of what a case tests.
_FILLER = frozenset({"the", "a", "an", "its", "it's", "it", "is", "are", "of"})


def is_case(words: str) -> bool:
    """Whether a branch's words open with `CASE_CLAUSE`'s "for"."""
    found = CASE_CLAUSE.match(words.strip())
    return found is not None and found.start("word") == 0


def _same_case_kind(first: str, second: str) -> bool:
    """Whether two branches' words are cases of one test (see above)."""
    if is_case(first) and is_case(second):
        return True
    a, b = _WORD.findall(first.lower()), _WORD.findall(second.lower())
    if len(a) < 3 or len(b) < 3 or a[0] != b[0] or a[0] not in _OPENERS:
        return False
    # the same words up to the last, one of them saying what is tested
    lead_a, lead_b = a[1:-1], b[1:-1]
    return lead_a == lead_b and any(w not in _FILLER for w in lead_a) and a[-1] != b[-1]


def _otherwise_and(first: str, second: str) -> bool:
    """Whether `second` tests the other case of `first` and something more: "If the
    account is not entitled", then "If it is entitled and the amount is 1000 or more"."""
    parts = re.split(r"\s+and\s+", second, maxsplit=1)
    return len(parts) == 2 and says_the_opposite(first, parts[0])


def _said_before(requirement: str, earlier: str, later: str) -> bool:
    """Whether the words `earlier` are said before `later` (cases chain in the order said;
    the model may write a case's steps before those of the case said first)."""
    at_earlier, at_later = requirement.find(earlier), requirement.find(later)
    return at_earlier < 0 or at_later < 0 or at_earlier < at_later


def _turned(flow: Flow, requirement: str) -> tuple[Component, str] | None:
    """The first IF that follows an IF or ELSEIF of the same kind of case, or that is the
    case for what is left; with what it becomes."""
    for comp in flow.components:
        if comp.definition != "IF" or comp.category != "flowlogic":
            continue
        before, _ = flow.neighbours(comp)
        if before is None or before.definition not in ("IF", "ELSEIF"):
            continue
        words, earlier = (comp.annotation or "").strip(), (before.annotation or "").strip()
        if not _said_before(requirement, earlier, words):
            continue
        if CATCH_ALL.match(words):
            return comp, "ELSE"
        if _same_case_kind(earlier, words) or _otherwise_and(earlier, words):
            return comp, "ELSEIF"
    return None


def _misordered(flow: Flow, requirement: str) -> tuple[int, int, int] | None:
    """(start, middle, end) indexes of the first two sibling IFs, each alone in its chain,
    that are cases of one kind said in the other order: the later case's IF and steps
    at [start, middle), the earlier's at [middle, end)."""
    comps = flow.components
    for at, comp in enumerate(comps):
        if comp.definition != "IF" or comp.category != "flowlogic":
            continue
        _, after = flow.neighbours(comp)
        if after is None or after.definition != "IF":
            continue
        words, later = (comp.annotation or "").strip(), (after.annotation or "").strip()
        if not is_case(words) or not is_case(later) or _said_before(requirement, words, later):
            continue
        middle = subtree_end(comps, comp.order)
        end = subtree_end(comps, after.order)
        _, next_after = flow.neighbours(after)
        if next_after is None or next_after.definition not in ("ELSEIF", "ELSE"):
            return at, middle, end
    return None


def chain_cases(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """`flow` with each IF that is the next case of the chain before it made an ELSEIF,
    and the case for what is left its ELSE (its condition dropped); and the changes as
    `definition | words` (for the trace). Two cases written in the other order than said
    ("for an IP address, ...; for a SHA-256 file hash, ...", the look-up of the hash
    written first) are put in the order said first."""
    changed: list[str] = []
    while (swap := _misordered(flow, requirement)) is not None:
        start, middle, end = swap
        comps = flow.components
        changed.append(f"moved | {comps[middle].annotation}")
        flow = flow.with_components(
            [*comps[:start], *comps[middle:end], *comps[start:middle], *comps[end:]]
        )
    while (found := _turned(flow, requirement)) is not None:
        comp, definition = found
        changed.append(f"{definition} | {comp.annotation}")
        inputs = [] if definition == "ELSE" else comp.inputs
        flow = flow.with_changed(comp, definition=definition, inputs=inputs)
    return flow, changed
