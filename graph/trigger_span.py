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
record trigger, that clause becomes the span, unless the clause's subject is a pronoun
("when it is created": the record is named elsewhere, often in the span). A span that
is part of the clause moves to all of it (forty-ninth session): "a customer's sentiment
on a case" left out "turns negative", and the condition was read from the record's
words alone (`escalatedCHANGESTOtrue`). On the rephrased train cases 8 spans so move
(one flow closer to gold, by 0.11 full, one further, by 0.03), on dev 5 (csm-dev-007 and
itsm-dev-voices-12 closer), and 2 of the 3,684 gold spans. A span in
the context said before the sentence that names the trigger moves too, whatever it says
("HR is tired of chasing IT to set up accounts for new starters", whose "new" reads as a
new record; graph/unasked_steps.py, forty-eighth session). Annotations are not scored by
FlowSim; only what the inputs stage reads changes.

A span that names the trigger but stops short of its clause takes all of it too
(fifty-second session): the record without its event ("when the catalog task of a
laptop" of "... get closed as complete"), or the event without the test joined to it by
"and its", "and the", "whose", "where" ("Whenever a new incident is logged" of "... whose
short description mentions the word 'password'"; "and attach the results link" is a
step, not a test). A terse requirement's trigger is what its arrow follows ("incident
assignment group changes -> mail the new group's manager", "P2 ticket -> On Hold: add a
comment ..."), whatever the model's span: the 66 gold spans of requirements so written
are those words. On the rephrased train cases 20 spans so move, on dev 5; of the 3,563
gold spans 3 more move (two cut short of a test, one ending on an aside).

An inbound email trigger's span that says nothing of an email coming in ("If nobody is
on call") moves to the clause that does ("whenever a message from monitoring@acme.example
lands with ALERT in its subject"; forty-ninth session; no gold span moves). An aside in
brackets that ends the clause ("on-call shift created (any group, primary or backup)")
is left out of it: it says what the trigger does not test.

A schedule trigger's span that runs over sentences and does not hold the words naming
the schedule ("The flow looks up all active contracts whose end date is within the next
60 days and then goes through each of those contracts. If ...", 104 words, for "Create a
flow that runs on the 1st of every month at 7:00 AM") becomes the clause that does: the
rules that add the asks no span covers then read the words it had held (forty-eighth
session).
"""

from __future__ import annotations

import re

from flowgen.flow.model import Flow
from flowgen.graph.trigger_cues import (
    _LATER,
    _OPENING,
    CUES,
    RECORD_CUES,
    record_trigger_clause,
)
from flowgen.graph.unasked_steps import in_context

RECORD_TRIGGERS = frozenset({"record_create", "record_update", "record_create_or_update"})
# The words of an inbound email arriving (graph/trigger_cues.py).
_EMAIL_CUE = dict(RECORD_CUES)["email"]
# The schedules graph/trigger_cues.py names in so many words.
SCHEDULES = frozenset({"repeat", "daily", "weekly", "monthly", "run_once"})
# Where a clause ends: punctuation, not a full stop or colon inside a word ("7:00").
_CLAUSE_BREAK = re.compile(r"[,;!?]|[.:](?!\S)")
_SENTENCE_BREAK = re.compile(r"[.!?]\s")
_ASIDE = re.compile(r"\s*\([^()]*\)\s*$")
# A terse requirement's trigger, before its first arrow, or before a colon the one arrow
# before it leads to ("rma -> label sent: wait 10d, ..."); the 66 gold spans of
# requirements so written are these words.
_ARROW_OPENING = re.compile(r"^([^.;:>]*?)\s*(?:->|=>|→)")
_ARROW_TO_STATE = re.compile(r"^([^.;:>]*?(?:->|=>|→)[^.;:>]*?):\s")
# What a trigger's clause tests besides its event: "... is logged whose short description
# mentions ...", "... is created and its CVSS score is 9.0 or higher". A step joined by
# "and" opens with its verb ("and attach the results link"), a test with what it tests.
_JOINED_TEST = re.compile(
    r"^\s+(?:whose|where)\s|^\s+and\s+(?:its|the|their|his|her|an?|that|this|it)\s"
)
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
    clause = (text if len(text) == len(lowered) else lowered)[match.start() : match.end()]
    # an aside at its end says what the trigger does not test: "on-call shift created
    # (any group, primary or backup)"
    return _ASIDE.sub("", clause).strip()


def arrow_clause(requirement: str) -> str | None:
    """The trigger of a terse requirement that opens with one and an arrow: the words
    before the arrow ("incident assignment group changes -> mail the new group's
    manager"), or up to the colon where the arrow leads to a state ("P2 ticket -> On
    Hold: add a comment ..."); None for any other requirement."""
    text = " ".join(requirement.split())
    before = _ARROW_OPENING.match(text)
    if before is None:
        return None
    to_state = _ARROW_TO_STATE.match(text)
    # an aside at its end, as in `trigger_clause`: "on-call shift created (any group,
    # primary or backup) ->"
    return _ASIDE.sub("", (to_state or before).group(1)).strip() or None


def schedule_clause(requirement: str, trigger: str) -> str | None:
    """The clause of the requirement (between punctuation) that holds the words naming
    schedule trigger `trigger` (graph/trigger_cues.py's `CUES`), as written."""
    text = " ".join(requirement.split())
    pattern = dict(CUES).get(trigger)
    match = pattern.search(text.lower()) if pattern is not None else None
    if match is None:
        return None
    start = max([0] + [m.end() for m in _CLAUSE_BREAK.finditer(text, 0, match.start())])
    stop = _CLAUSE_BREAK.search(text, match.end())
    return text[start : stop.start() if stop else len(text)].strip() or None


def restore_trigger_span(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """`flow` with its record trigger's span set to the clause that names the trigger
    (see above), or its schedule trigger's to the clause that names the schedule where
    the span does not hold those words, and `old -> new` for the trace."""
    trigger = flow.trigger
    if trigger is None:
        return flow, []
    span = " ".join((trigger.annotation or "").split())
    arrow = arrow_clause(requirement)
    if arrow is not None:
        return (flow, []) if span == arrow else _moved(flow, span, arrow)
    if flow.trigger_type in SCHEDULES:
        return _restore_schedule_span(flow, requirement)
    if flow.trigger_type == "email":
        return _restore_email_span(flow, requirement)
    if flow.trigger_type not in RECORD_TRIGGERS:
        return flow, []
    clause = trigger_clause(requirement)
    if clause is None or _PRONOUN_SUBJECT.match(clause.lower()):
        return flow, []
    if clause.lower() in span.lower():
        return flow, []
    if names_a_trigger(span) and not in_context(span, requirement) and not _cut_short(span, clause):
        return flow, []
    return _moved(flow, span, clause)


def _cut_short(span: str, clause: str) -> bool:
    """Whether `span` is the start of the trigger's clause without what the clause goes
    on to test: the record without its event ("when the catalog task of a laptop" of "...
    get closed as complete"), or the event without a test joined to it
    ("Whenever a new incident is logged" of "... whose short description mentions ...")."""
    text, whole = span.lower(), clause.lower()
    at = whole.find(text)
    if at < 0 or len(text) == len(whole):
        return False
    if not any(pattern.search(text) for _, pattern in RECORD_CUES):
        return any(pattern.search(whole) for _, pattern in RECORD_CUES)
    return at == 0 and bool(_JOINED_TEST.match(whole[len(text) :]))


def _restore_schedule_span(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """A schedule trigger's span that runs over sentences and does not hold the words
    naming its schedule ("The flow looks up all active contracts ..." for "runs on the
    1st of every month at 7:00 AM") becomes the clause that does."""
    assert flow.trigger is not None and flow.trigger_type is not None
    span = " ".join((flow.trigger.annotation or "").split())
    pattern = dict(CUES)[flow.trigger_type]
    # only a span that ran on over sentences of steps; a short one ("15th @ 9am") may
    # state the schedule in words the cues do not read
    if pattern.search(span.lower()) or not _SENTENCE_BREAK.search(span):
        return flow, []
    clause = schedule_clause(requirement, flow.trigger_type)
    if clause is None or clause == span:
        return flow, []
    return _moved(flow, span, clause)


def _restore_email_span(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """An inbound email trigger's span that says nothing of an email arriving ("If nobody
    is on call") becomes the clause that does ("whenever a message from
    monitoring@acme.example lands with ALERT in its subject")."""
    assert flow.trigger is not None
    span = " ".join((flow.trigger.annotation or "").split())
    if _EMAIL_CUE.search(span.lower()):
        return flow, []
    text = " ".join(requirement.split())
    found = record_trigger_clause(text.lower())
    if found is None or found[1] != ["email"] or len(text) != len(text.lower()):
        return flow, []
    clause = text[found[0].start() : found[0].end()].strip()
    if clause == span:
        return flow, []
    return _moved(flow, span, clause)


def _moved(flow: Flow, span: str, clause: str) -> tuple[Flow, list[str]]:
    """`flow` with its trigger's span set to `clause`, and `old -> new` for the trace."""
    assert flow.trigger is not None
    moved = flow.trigger.model_copy(update={"annotation": clause})
    return flow.model_copy(update={"trigger": moved}), [f"{span!r} -> {clause!r}"]
