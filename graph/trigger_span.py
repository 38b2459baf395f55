"""A record trigger's span moved to the clause that names the trigger.

The outline's first line carries the trigger's span, and the inputs stage reads it: the
tables offered for the trigger are searched with it, a table its words name is the only
one admitted (graph/named_table.py), and the condition keeps only the terms it names
(graph/unnamed_terms.py). Requirements written as user stories or emails open with who
is asking ("As a vulnerability manager, I want ...", "Hi Flow team, after the storage
outage ..."), and the small model takes that opening as the trigger's span; it also
writes a step's words there ("for 12 hours", "on-call engineer"). The trigger's table
was then picked from the wrong words: "As the collaboration lead" gave `task_sla` where
the requirement says "when a department record is created".

Where a record trigger's span says nothing of a trigger (no "when", "new", "is
closed", ... of graph/trigger_cues.py) and the requirement has a clause that names a
record trigger, that clause becomes the span, unless the span is part of it ("a P1
incident" in "When a P1 incident is created") or the clause's subject is a pronoun
("when it is created": the record is named elsewhere, often in the span). Annotations
are not scored by FlowSim; only what the inputs stage reads changes.
"""

from __future__ import annotations

import re

from flowgen.flow.model import Flow
from flowgen.graph.trigger_cues import _LATER, _OPENING, RECORD_CUES, record_trigger_clause

RECORD_TRIGGERS = frozenset({"record_create", "record_update", "record_create_or_update"})
# "when it is created", "whenever they are reassigned": the record is named elsewhere
_PRONOUN_SUBJECT = re.compile(
    r"^\W*(?:when(?:ever)?|once|as soon as|each time|every time|any ?time|if|upon|after)"
    r"\s+(?:it|they|this|these|those)\b"
)


def names_a_trigger(span: str) -> bool:
    """Whether the span's words say when the flow runs."""
    text = " ".join(span.lower().split())
    return bool(
        _OPENING.match(text)
        or _LATER.search(text)
        or any(pattern.search(text) for _, pattern in RECORD_CUES)
    )


def trigger_clause(requirement: str) -> str | None:
    """The words of the requirement's clause that names a record trigger, as written."""
    text = " ".join(requirement.split())
    lowered = text.lower()
    found = record_trigger_clause(lowered)
    if found is None or found[1] is None:
        return None
    match = found[0]
    # lower() keeps the length of nearly all text; where it does not, the lowered words
    return (text if len(text) == len(lowered) else lowered)[match.start() : match.end()].strip()


def restore_trigger_span(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """`flow` with its record trigger's span set to the clause that names the trigger
    (see above), and `old -> new` for the trace."""
    trigger = flow.trigger
    if trigger is None or flow.trigger_type not in RECORD_TRIGGERS:
        return flow, []
    span = " ".join((trigger.annotation or "").split())
    if names_a_trigger(span):
        return flow, []
    clause = trigger_clause(requirement)
    if clause is None or _PRONOUN_SUBJECT.match(clause.lower()):
        return flow, []
    if span and span.lower() in clause.lower():
        return flow, []
    moved = trigger.model_copy(update={"annotation": clause})
    return flow.model_copy(update={"trigger": moved}), [f"{span!r} -> {clause!r}"]
