"""Repairs of an outline that the grammar cannot rule out but the catalog can.

A FOREACH needs a list to loop over: an output of type records (or array) of the trigger
or of an earlier step in scope. The small model sometimes writes a FOREACH over the
trigger's one record ("for the incident, update it"); no inputs can fix that, and sending
it back to the outline call rarely helps (the dev runs of adapter v1 answered such
feedback by writing the same loop again, or by refusing). The loop is unwrapped instead:
its steps act on the one record, which is what such requirements mean.
"""

from __future__ import annotations

from flowgen.flow.catalog import CatalogView
from flowgen.flow.model import Component, Flow
from flowgen.flow.validator import pill_roots

LIST_TYPES = {"records", "array"}
LOOPS = {"FOREACH", "DOUNTIL"}
LOOP_LEAVES = {"EXITLOOP", "SKIPITERATION"}


def has_list_to_loop(flow: Flow, catalog: CatalogView, order: int) -> bool:
    return any(r.type in LIST_TYPES for r in pill_roots(flow, catalog, order, "items"))


def unwrap_loops_without_lists(flow: Flow, catalog: CatalogView) -> tuple[Flow, list[str]]:
    """The flow with every FOREACH that has nothing to loop over replaced by its body,
    and the annotations of the loops removed (for the trace)."""
    removed: list[str] = []
    while True:
        loop = next(
            (
                c
                for c in flow.components
                if c.category == "flowlogic"
                and c.definition == "FOREACH"
                and not has_list_to_loop(flow, catalog, c.order)
            ),
            None,
        )
        if loop is None:
            return flow, removed
        removed.append(loop.annotation or f"FOREACH at step {loop.order}")
        flow = _unwrap(flow, loop)


def _unwrap(flow: Flow, loop: Component) -> Flow:
    by_order = {c.order: c for c in flow.components}

    def in_a_loop(block: int | None) -> bool:
        while block is not None:
            if by_order[block].definition in LOOPS:
                return True
            block = by_order[block].block
        return False

    kept: list[Component] = []
    for comp in flow.components:
        if comp.order == loop.order:
            continue
        block = loop.block if comp.block == loop.order else comp.block
        if comp.definition in LOOP_LEAVES and comp.block == loop.order and not in_a_loop(block):
            continue  # EXITLOOP / SKIPITERATION mean nothing outside a loop
        kept.append(comp.model_copy(update={"block": block}))
    renumber = {c.order: i + 1 for i, c in enumerate(kept)}
    components = [
        c.model_copy(
            update={
                "order": renumber[c.order],
                "block": renumber.get(c.block) if c.block is not None else None,
            }
        )
        for c in kept
    ]
    return flow.model_copy(update={"components": components})
