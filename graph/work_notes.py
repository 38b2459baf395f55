"""A work note added on its own is the installation's Add Work Note step.

"add a work note to the incident that the major incident team has been engaged": where
the installation has `add_work_note` (acme-itsm's catalog), the hand-written gold flows
of train and dev write it for a span that opens by adding a work note in 9 of 10 (the
tenth, itsm-train-006, writes an update of `work_notes`; the demo flow demo-002 did too
and now uses the step), but the synthetic corpus never learned the
step and writes `update_record` there 99 times, so the adapter does too (dev: 7 flows).
A core `update_record` whose span opens so ("add a work note", "just put a work note",
"leave a short work note") becomes `add_work_note` where the catalog has it; a work note
that comes with another change ("send it back to Assess with a work note") stays an
update. Installations without the step write every work note with `update_record`.
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import CORE_SCOPE, CatalogView
from flowgen.flow.model import Flow

WORK_NOTE_STEP = "add_work_note"
ADDS_A_NOTE = re.compile(
    r"^(?:(?:just|then|also|and|it|the flow|finally)\s+)*"
    r"(?:adds?|puts?|leaves?|writes?|posts?|logs?)\s+(?:a|an)\s+(?:short\s+|brief\s+)?"
    r"work\s+note\b",
    re.I,
)


def name_work_notes(flow: Flow, catalog: CatalogView) -> tuple[Flow, list[str]]:
    """`flow` with each update whose span adds a work note renamed `add_work_note` (see
    above), and `"order: update_record -> add_work_note"` for each."""
    step = catalog.step(WORK_NOTE_STEP)
    if step is None:
        return flow, []
    renamed: list[str] = []
    comps = list(flow.components)
    for i, comp in enumerate(comps):
        if (
            comp.definition == "update_record"
            and comp.scope == CORE_SCOPE
            and ADDS_A_NOTE.match((comp.annotation or "").strip())
        ):
            comps[i] = comp.model_copy(
                update={"definition": WORK_NOTE_STEP, "scope": step.scope, "inputs": []}
            )
            renamed.append(f"{comp.order}: update_record -> {WORK_NOTE_STEP}")
    return (flow.model_copy(update={"components": comps}), renamed) if renamed else (flow, [])
