"""Installation steps the words name in a clause no step covers.

The small model drops the first or the last of two actions joined by "and": "page the
on-call engineer in PagerDuty and post the number in Slack" comes out as the Slack post
alone, "create a war room channel in Slack and suspend their Okta login" as the channel
alone. graph/uncovered_asks.py adds the core steps such clauses ask for (an email, a
text, a log entry, an update); this module adds the installation's own steps, where a
clause names one as graph/named_steps.py reads a
span (its verb and its whole object, or its vendor with its verb): "suspend their Okta
login" is `suspend_okta_user`, "let the manager know on Teams" `send_chat_message`. Any
of the installation's own steps (not the core ones), not only those the outline was
offered: retrieval ranks a clause's step low often enough ("let the manager know on
Teams" finds escalations and Teams channels first), and the words here name it outright.

A clause is the requirement's words from a clause start (a sentence, a semicolon, a
comma, "and", "then") to its end (graph/uncovered_asks.py's `CLAUSE_END`), and it is
uncovered when no step's span and not the trigger's overlaps it. A step already in the
flow is not added again (the model wrote it, on other words). It goes where
graph/uncovered_asks.py puts its steps: after the step whose span comes last before the
clause, in that step's block. Runs before graph/uncovered_asks.py, so a clause named
here ("let the manager know on Teams") is not also read as an email. Words before the
verb that say when ("otherwise escalate the case") or who ("the flow opens a Jira
task") are not the step's.

On the 3,348 hand-written and synthetic train and dev flows the rule adds a step to one;
with each of their 872 installation steps that hold no other steps left out in turn, it
adds 119 back, each the step left out, 115 where the gold outline has it.

A clause that runs a subflow by its label ("the system shall run the Onboard New Hire
subflow for the case") names it as graph/named_subflows.py reads a step's span, and a
specification's modal ("shall", "is to") is the subject's, not the step's (fifty-sixth
session): of the 61 gold subflows (hand-written, synthetic, rephrased; train, dev,
library, dev-unseen) left out in turn, 36 are put back (20 before), and no gold flow
gains a step.
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import CORE_SCOPE, CatalogView
from flowgen.flow.model import Component, Flow
from flowgen.graph.named_steps import Span, StepCue, named_step
from flowgen.graph.named_subflows import named_subflow, subflow_labels
from flowgen.graph.uncovered_asks import CLAUSE_END, CLAUSE_START, _insert, _place, step_spans

# The subject before a clause's verb in a specification, with the modal a formal one
# puts before it: "the flow sends ...", "it raises a Jira task", "the system shall run
# the Onboard New Hire subflow".
SUBJECT = re.compile(
    r"(?:(?:the |this |our )?(?:flow|workflow|system|automation|process)|it)\s+"
    r"(?:(?:shall|will|must|should|is to|needs to|has to)\s+)?",
    re.I,
)
# Words before a clause's verb that say when, not what: "otherwise escalate the case".
LEADING = re.compile(r"(?:(?:otherwise|else|then|also|just)\b,?\s*)+", re.I)


def clause_bounds(requirement: str) -> list[tuple[int, int]]:
    """(start, end) of each clause of the requirement, in order, none empty and none
    overlapping: a clause ends where the next one starts ("Once a decision is made: if it
    is revoke, suspend the user in Okta" is three)."""
    marks = list(CLAUSE_START.finditer(requirement))
    starts = sorted({0, *(m.end() for m in marks)})
    found: list[tuple[int, int]] = []
    for start in starts:
        stop = CLAUSE_END.search(requirement, start)
        end = stop.start() if stop else len(requirement)
        following = [m.start() for m in marks if m.start() >= start]
        end = min([end, *following])
        if end > start and requirement[start:end].strip():
            found.append((start, end))
    return found


def add_uncovered_steps(
    flow: Flow, requirement: str, catalog: CatalogView
) -> tuple[Flow, list[str]]:
    """`flow` with a step added for each uncovered clause that names one of the
    installation's own steps, and `"name | words"` for each step added."""
    if not flow.components:
        return flow, []
    own = {s.name: s for s in catalog.steps if s.scope != CORE_SCOPE}
    # What named_steps reads of a step: its name, label (a vendor in brackets) and description.
    cues = {
        name: StepCue.of(step.model_dump(include={"name", "label", "description"}))
        for name, step in own.items()
    }
    subflows = subflow_labels(catalog)  # none is a core step
    added: list[str] = []
    spans = step_spans(requirement, flow)
    for start, end in clause_bounds(requirement):
        if any(s < end and start < e for s, e, _ in spans):
            continue
        words = requirement[start:end].strip()
        start = requirement.index(words, start)
        # "If the subflow fails, the flow opens a Jira task", "otherwise escalate the
        # case": the step's words are the verb's; the subject that specifications give and
        # the words that say when are not.
        for opening in (LEADING, SUBJECT):
            if said := opening.match(words):
                start += said.end()
                words = words[said.end() :]
        # "run the Onboard New Hire subflow for the case" names its subflow by label, as
        # graph/named_subflows.py reads a step's span; a clause names any step by its verb.
        name = named_subflow(words, subflows)
        if name is None:
            name = named_step(words, "", cues.values())
            # "the affected host in CrowdStrike" may name a step as a model's span, but a
            # clause without a verb describes, it asks nothing.
            if name is not None and Span.of(words).lead not in cues[name].verbs:
                continue
        if name is None or any(c.definition == name for c in flow.components):
            continue
        step = own[name]
        new = Component(
            order=-1, category=step.category, definition=name, scope=step.scope, annotation=words
        )
        flow = _insert(flow, new, _place(flow, requirement, start, spans))
        spans = step_spans(requirement, flow)
        added.append(f"{name} | {words}")
    return flow, added
