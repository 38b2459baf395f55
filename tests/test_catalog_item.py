"""The catalog item a requested item's or catalog task's trigger names
(graph/catalog_item.py), on the shipped acme-itsm catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from flows import gold_cases, shipped_catalogs

from flowgen.flow.catalog import load_catalog
from flowgen.flow.model import FlowInput
from flowgen.graph.catalog_item import add_catalog_item, item_named

REPO = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(REPO / "catalogs" / "acme-itsm.yaml")


def _inputs(table: str, condition: str | None = None) -> list[FlowInput]:
    inputs = [FlowInput(name="table", value=table)]
    if condition is not None:
        inputs.append(FlowInput(name="condition", value=condition))
    return inputs


def _condition(inputs: list[FlowInput]) -> str | None:
    return next((i.value for i in inputs if i.name == "condition"), None)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("annotation", "item"),
    [
        ("When a requested item for a new monitor is approved", "monitor"),
        ("when the catalog task of a laptop get closed as complete", "laptop"),
        ("When a catalog request is submitted for a new phone", "phone"),
        ("when a requested item for a standing desk gets approved", "standing desk"),
        # who the request is for, or no item at all
        ("When a requested item for a new hire is approved", None),
        ("When a requested item for the user is closed", None),
        ("When a requested item is approved", None),
    ],
)
def test_the_item_a_request_is_for_is_read_from_its_words(annotation: str, item: str) -> None:
    assert item_named(annotation) == item


@pytest.mark.unit
def test_the_item_is_added_to_a_requested_items_or_catalog_tasks_condition() -> None:
    said = "When a requested item for a new monitor is approved"
    inputs, added = add_catalog_item(
        _inputs("sc_req_item", "approvalCHANGESTOapproved"), said, CATALOG
    )
    assert added == "cat_itemLIKEmonitor"
    assert _condition(inputs) == "approvalCHANGESTOapproved^cat_itemLIKEmonitor"
    # a catalog task reaches the item through its requested item; no condition yet
    inputs, _ = add_catalog_item(
        _inputs("sc_task"), "When a catalog task for a laptop is created", CATALOG
    )
    assert _condition(inputs) == "request_item.cat_itemLIKElaptop"


@pytest.mark.unit
def test_an_item_already_tested_or_another_table_is_left_alone() -> None:
    said = "When a requested item for a new monitor is approved"
    tested = _inputs("sc_req_item", "cat_item=abc^approvalCHANGESTOapproved")
    assert add_catalog_item(tested, said, CATALOG) == (tested, None)
    other = _inputs("incident", "stateCHANGESTO6")
    assert add_catalog_item(other, "When an incident for a laptop is resolved", CATALOG) == (
        other,
        None,
    )


@pytest.mark.unit
def test_gold_triggers_that_name_an_item_already_test_it() -> None:
    """No hand-written or synthetic gold record trigger changes: where the words name an
    item (4 of them), the experts' condition tests it already."""
    catalogs = shipped_catalogs()
    named = changed = 0
    for case in gold_cases("handwritten", "synthetic"):
        trigger = (case.flow or {}).get("trigger") or {}
        span = trigger.get("annotation")
        catalog = catalogs.get(case.installation)
        if not str(trigger.get("type")).startswith("record_") or not span or catalog is None:
            continue
        inputs = [FlowInput(**i) for i in trigger.get("inputs", [])]
        named += item_named(span) is not None and any(
            i.value in ("sc_req_item", "sc_task") for i in inputs if i.name == "table"
        )
        changed += add_catalog_item(inputs, span, catalog)[1] is not None
    assert named >= 4 and changed == 0
