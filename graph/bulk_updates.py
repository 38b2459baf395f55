"""A look-up, a loop over what it found and one update of each: one bulk update.

"grab every change in Scheduled and push it back to Assess", "all active users in that
department get the new head as their manager": the small model writes `look_up_records`,
a FOREACH over its records and an `update_record` of each item, where the hand-written
train flows write one `update_multiple_records` (41 of the 48 hand-written train and dev
flows with one or the other whose requirement says neither "each" nor "them"). Where the
words say "each", gold loops in 156 of 236 (hand-written and synthetic); where they say
"them", the hand-written gold loops in 5 of 14, dev's five among them: the model's loop
stays there. Where the words say neither, the three become one update_multiple_records
on the look-up's words, through
the update's when those follow them (its inputs are asked afresh: table, conditions,
values). A loop that holds more than the update, or an update of something else than
the looped item, is left: only the outline's shape is read here, so an update inside
the loop counts as the item's.

Gold: it changes 5 of the 3,368 hand-written and synthetic train and dev flows (loops
whose words say "every" or "all" and no "each"). Measured (forty-eighth session) on the
outlines of the rephrased train cases and of dev: docs/results.md.
"""

from __future__ import annotations

import re

from flowgen.flow.model import Component, Flow

# Words that ask for the loop: "for each", "each one", "every one of them", "them".
EACH = re.compile(r"\b(?:each|every one|one by one|for every|them)\b", re.I)
MAX_SPAN = 240  # characters: a joined span longer than this keeps the look-up's own


def merge_bulk_updates(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """The flow with each look-up / loop / single update run written as one
    update_multiple_records where the words ask for no loop (see above), and the merged
    spans (for the trace)."""
    if EACH.search(requirement):
        return flow, []
    merged: list[str] = []
    while (run := _bulk_run(flow)) is not None:
        look_up, loop, update = run
        span = _joined_span(requirement, look_up.annotation, update.annotation)
        bulk = look_up.model_copy(
            update={"definition": "update_multiple_records", "inputs": [], "annotation": span}
        )
        gone = {loop.order, update.order}
        components = [
            bulk if c.order == look_up.order else c for c in flow.components if c.order not in gone
        ]
        flow = flow.with_components(components)
        merged.append(span or "update_multiple_records")
    return flow, merged


def _bulk_run(flow: Flow) -> tuple[Component, Component, Component] | None:
    """The first look_up_records followed in its block by a FOREACH that holds exactly one
    update_record and nothing else."""
    comps = flow.components
    for i, look_up in enumerate(comps[:-2]):
        loop, update = comps[i + 1], comps[i + 2]
        if (
            look_up.definition == "look_up_records"
            and loop.definition == "FOREACH"
            and loop.block == look_up.block
            and update.definition == "update_record"
            and update.block == loop.order
            and not any(c.block == loop.order for c in comps if c is not update)
            and not any(c.block == update.order for c in comps)
        ):
            return look_up, loop, update
    return None


def _joined_span(requirement: str, first: str | None, last: str | None) -> str | None:
    """The requirement's words from `first` through `last` when `last` follows it closely,
    else `first`."""
    if not first or not last:
        return first
    start = requirement.find(first)
    end = requirement.find(last, start + len(first)) if start >= 0 else -1
    if start < 0 or end < 0 or end + len(last) - start > MAX_SPAN:
        return first
    return requirement[start : end + len(last)]
