"""Outline repairs the grammar cannot express: a FOREACH with nothing to loop over."""

from __future__ import annotations

from flowgen.flow.catalog import Catalog
from flowgen.flow.model import Flow
from flowgen.flow.validator import validate_flow
from flowgen.graph.outline_repair import unwrap_loops_without_lists


def outline(trigger: str, components: list[tuple[int | None, str, str]]) -> Flow:
    """(block, category, definition) per component, orders 1..N."""
    return Flow.model_validate(
        {
            "name": "t",
            "trigger": {"type": trigger, "annotation": "when", "inputs": []},
            "components": [
                {
                    "order": i + 1,
                    "block": block,
                    "category": category,
                    "definition": definition,
                    "annotation": f"step {i + 1}",
                }
                for i, (block, category, definition) in enumerate(components)
            ],
        }
    )


def shape(flow: Flow) -> list[tuple[int, int | None, str]]:
    return [(c.order, c.block, c.definition) for c in flow.components]


def test_a_loop_over_the_trigger_record_is_unwrapped(catalog: Catalog) -> None:
    flow = outline(
        "record_update",
        [
            (None, "flowlogic", "IF"),
            (1, "flowlogic", "FOREACH"),
            (2, "action", "update_record"),
            (2, "flowlogic", "SKIPITERATION"),
            (None, "action", "send_email"),
        ],
    )
    repaired, removed = unwrap_loops_without_lists(flow, catalog)
    assert removed == ["step 2"]
    assert shape(repaired) == [(1, None, "IF"), (2, 1, "update_record"), (3, None, "send_email")]
    assert not any(e.kind == "structure" for e in validate_flow(repaired, catalog).errors)


def test_a_loop_over_looked_up_records_is_kept(catalog: Catalog) -> None:
    flow = outline(
        "daily",
        [
            (None, "action", "look_up_records"),
            (None, "flowlogic", "FOREACH"),
            (2, "action", "update_record"),
        ],
    )
    repaired, removed = unwrap_loops_without_lists(flow, catalog)
    assert removed == [] and shape(repaired) == shape(flow)


def test_a_lookup_after_the_loop_does_not_count(catalog: Catalog) -> None:
    flow = outline(
        "daily",
        [
            (None, "flowlogic", "FOREACH"),
            (1, "action", "update_record"),
            (None, "action", "look_up_records"),
        ],
    )
    repaired, removed = unwrap_loops_without_lists(flow, catalog)
    assert removed == ["step 1"]
    assert shape(repaired) == [(1, None, "update_record"), (2, None, "look_up_records")]
