"""A step written on the words of two asks keeps the first; the second is left to the
rules that add what no step covers.

The small model sometimes writes one step over "post a summary to the soc-leads Slack
channel and log the closure" or "email the contact a reminder and reopen the case": the
log entry and the reopening are never written, and the rules that add a step for an
uncovered ask (graph/uncovered_steps.py, graph/uncovered_asks.py) see those words as
covered. Here a step's span that goes on with "and" and an action verb ("and log", ",
and then email") ends before the "and", so those rules read the second ask as they read
any other. They add a step only where the words ask for one they know (an email, a
text, a log entry, an update, an installation's step the words name), and a message
already written on other words answers an ask of its kind, so a span cut where no second
step follows changes nothing but the span.

Updates are left whole: "reassign it to the CI's support group and raise its priority
to critical" is one Update Record in the gold flows (its values hold both), and so are
the bulk updates and work notes that read the same way. The other case's ask is cut off
any step's span, an update's too: "create a private Slack war room, otherwise add the
event count to the work notes" holds the ELSE's update, which graph/uncovered_asks.py
then puts in the ELSE.

Measured (forty-fifth session): on the hand-written and synthetic train and dev gold
flows the spans of 9 are cut and no outline changes; with two neighbouring gold steps
whose words "and" joins written as the first alone on both spans, 200 of 392 second
steps come back through the repairs (181 through graph/uncovered_asks.py alone; the rest
are asks no rule knows: catalog tasks, "send the sender the new incident number"). Live
on dev: docs/results.md.
"""

from __future__ import annotations

import re

from flowgen.flow.model import Component, Flow
from flowgen.graph.core_verbs import UPDATE_VERBS
from flowgen.graph.coverage import ACTION_VERBS
from flowgen.graph.uncovered_asks import NOTE_VERBS

# The verbs that open an ask: an action's, or a change to a record ("and note it in the work
# notes", "and stamp the revoked date").
VERBS = ACTION_VERBS | UPDATE_VERBS | NOTE_VERBS | {"reply"}
# Steps whose one span holds several settings of the same records.
WHOLE = frozenset({"update_record", "update_multiple_records", "add_work_note"})
_ASK = r"(?=(?:" + "|".join(sorted(VERBS)) + r")s?\b(?!\s+(?:notes?|codes?|dates?|times?)\b))"
# ", and then log the closure", " and post a status page update": where a second ask opens;
# not "... containing the short description and close notes", a field.
JOINED = re.compile(r",?\s+and\s+(?:then\s+)?" + _ASK, re.I)
# ", otherwise add the event count to the work notes": the other case's ask, which no step
# holds with its own, an update's included.
OTHER_CASE = re.compile(r"[,;]\s*(?:otherwise|else)\s+" + _ASK, re.I)


def split_joined_asks(flow: Flow) -> tuple[Flow, list[str]]:
    """`flow` with each action's span that runs on into a second ask cut before it, and
    `"order: kept words"` for each cut span."""
    cut: list[str] = []
    components = []
    for comp in flow.components:
        match = None if comp.category == "flowlogic" else _second_ask(comp)
        if match is None:
            components.append(comp)
            continue
        kept = (comp.annotation or "")[: match.start()].rstrip(" ,")
        components.append(comp.model_copy(update={"annotation": kept}))
        cut.append(f"{comp.order}: {kept}")
    if not cut:
        return flow, []
    return flow.model_copy(update={"components": components}), cut


def _second_ask(comp: Component) -> re.Match[str] | None:
    """Where the first second ask in `comp`'s span opens: an "otherwise" for any step, an
    "and" only for a step that is not `WHOLE`."""
    words = comp.annotation or ""
    found = [OTHER_CASE.search(words)]
    if comp.definition not in WHOLE:
        found.append(JOINED.search(words))
    return min((m for m in found if m), key=lambda m: m.start(), default=None)
