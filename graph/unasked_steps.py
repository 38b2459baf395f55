"""Steps written on words that ask for no step: the request for the flow itself, and
the context said before the trigger.

Requirements written by other hands ask for the flow before they say what it does:
"Create a flow that runs whenever a case is flagged ...", "Could we set up a flow so
that ...", "Could you build something so that ...". The small model reads the verb as
a step: `create_record | Create a flow`, `update_multiple_records | set up a flow`,
`look_up_records | get something so that whenever a chat case gets closed`. Such a step
does nothing the requirement asks; it costs the flow a component and an inputs call.

A record step (create, update, look up, delete) whose span opens with a verb of making
(create, set up, build, make, get, have, write, design, automate) and goes on, after at
most an article and an adjective, to "flow", "workflow", "automation", "something" or
"process", is dropped, with a block it leaves empty. Those are the steps the verb itself
becomes. Another step on such words stays: the model knew the step and misplaced its
span (`create_salesforce_case | get a flow` where the words ask for "a matching case
... in Salesforce"), and flow logic tests something ("if Splunk finds something").

Gold: no step of the 3,543 hand-written, synthetic and rephrased train and dev flows,
nor of the test and ood ones, has such a span (the spans that say "flow" are flow log
entries, ENDFLOW and flow variables).

The same writers open with why they ask ("Hi, people who report security issues get
confused when the severity of their ticket drops without any explanation. Could we send
the reporter an email whenever ..."), and the model wrote steps on those words:
`look_up_record | get confused when the severity of their ticket drops`, `update_record |
keep forgetting to hold the CAB review`. Such context comes in the sentences before the
one that names the trigger (graph/trigger_cues.py). A record step or a message whose
words occur only there is dropped the same way; 1 of the gold steps above lies so
("retention policy RP-7: purge closed incidents older than 7 yrs. monthly, 1st @ 02:00,
log the count", whose trigger follows its first step).
"""

from __future__ import annotations

import re

from flowgen.flow.flowlogic import without_empty_blocks
from flowgen.flow.model import Component, Flow
from flowgen.graph.trigger_cues import CUES, record_trigger_clause

META_REQUEST = re.compile(
    r"^\s*(?:(?:please|could\s+(?:you|we)|can\s+(?:you|we)|we\s+(?:need|want|would\s+like)"
    r"(?:\s+to)?)\s+)?"
    r"(?:create|set\s+up|setup|build|make|get|have|write|design|automate|put\s+together)\s+"
    r"(?:(?:us|me)\s+)?(?:(?:a|an|one|some|this|the)\s+)?"
    r"(?:(?:new|simple|small|quick|little|automated|automatic)\s+)?"
    r"(?:flow|workflow|automation|something|process)\b",
    re.I,
)


# The core steps a verb of making becomes when read as an ask.
RECORD_STEPS = frozenset(
    {
        "create_record",
        "update_record",
        "update_multiple_records",
        "create_or_update_record",
        "look_up_record",
        "look_up_records",
        "delete_record",
        "delete_multiple_records",
    }
)


# Messages the context's verbs become as well ("get confused ... without any explanation"
# as `send_email`).
MESSAGES = frozenset({"send_email", "send_sms", "log"})
SENTENCE_START = re.compile(r"(?<=[.!?])\s+(?=\S)")


def asks_for_the_flow(span: str | None) -> bool:
    """Whether `span` is words asking for the flow itself ("Create a flow", "set up a
    flow", "build something so that ...")."""
    return bool(span and META_REQUEST.match(span))


def context_end(requirement: str) -> int | None:
    """Where the sentence that names the trigger starts in `requirement` (lower case,
    single spaces), when sentences come before it; None otherwise."""
    text = " ".join(requirement.lower().split())
    named = [m.start() for _, pattern in CUES if (m := pattern.search(text))]
    clause = record_trigger_clause(text)
    if clause is not None:
        named.append(clause[0].start())
    if not named:
        return None
    at = min(named)
    start = max([0] + [m.end() for m in SENTENCE_START.finditer(text) if m.end() <= at])
    return start or None


def in_context(span: str | None, requirement: str) -> bool:
    """Whether `span` occurs in `requirement` only before the sentence that names the
    trigger (`context_end`)."""
    return _in_context(span, " ".join(requirement.lower().split()), context_end(requirement))


def _in_context(span: str | None, text: str, end: int | None) -> bool:
    """`in_context` on the requirement's lower-case, single-spaced `text`, whose trigger
    sentence starts at `end`."""
    if end is None or not span:
        return False
    last = text.rfind(" ".join(span.lower().split()))
    return last >= 0 and last + len(" ".join(span.split())) <= end


def drop_unasked_steps(flow: Flow, requirement: str | None = None) -> tuple[Flow, list[str]]:
    """The flow without the record steps written on words that ask for the flow itself,
    and (with `requirement`) the record steps and messages written on the context before
    the trigger's sentence (see above), and their spans (for the trace). A step whose
    going would leave an IF its ELSE follows (or a TRY its CATCH) without a step stays,
    and so does the flow's last step."""
    # where the context ends is read once: the loop below looks again after each drop
    text = " ".join(requirement.lower().split()) if requirement is not None else ""
    end = context_end(requirement) if requirement is not None else None

    def unasked(comp: Component) -> bool:
        if comp.definition in RECORD_STEPS and asks_for_the_flow(comp.annotation):
            return True
        return comp.definition in RECORD_STEPS | MESSAGES and _in_context(
            comp.annotation, text, end
        )

    dropped: list[str] = []
    skipped: set[tuple[str, str | None]] = set()
    while True:
        # orders are renumbered after each drop: look again
        comp = next(
            (
                c
                for c in flow.components
                if unasked(c) and (c.definition, c.annotation) not in skipped
            ),
            None,
        )
        if comp is None:
            return flow, dropped
        kept = without_empty_blocks([c for c in flow.components if c.order != comp.order])
        # the flow's last step stays: the rules after this one add asks to a flow that
        # has steps, and a step on the wrong words still names what was asked
        if kept is None or not any(c.category != "flowlogic" for c in kept):
            skipped.add((comp.definition, comp.annotation))
            continue
        flow = flow.with_components(kept)
        dropped.append(comp.annotation or comp.definition)
