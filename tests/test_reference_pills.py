"""A reference column holds a record, never a date, number or text
(graph/reference_pills.py)."""

from __future__ import annotations

import json

import pytest
from flows import DATA, flow, inactive_user_flow, inputs_of, log, shipped_catalogs, step

from flowgen.flow.catalog import Catalog
from flowgen.flow.model import Flow
from flowgen.graph.reference_pills import settle_reference_pills


def settled(flow_dict: dict, order: int, catalog: Catalog) -> tuple[dict[str, str], list[str]]:
    """Item `order`'s inputs after the rule, and the changes."""
    model = Flow.model_validate(flow_dict)
    item = model.component(order)
    assert item is not None
    definition = catalog.step(item.definition)
    assert definition is not None
    inputs, changes = settle_reference_pills(
        list(item.inputs), definition.inputs, model, order, catalog, catalog.columns
    )
    return {i.name: i.value for i in inputs}, changes


def daily_look_up(conditions: str) -> dict:
    """A daily flow that looks up incidents by `conditions`: its pills are the run's."""
    return flow(
        step(1, "look_up_records", table="incident", conditions=conditions),
        trigger=("daily", {"time": "1970-01-01 09:00:00"}),
    )


def test_a_field_of_the_record_is_cut_back_to_the_record() -> None:
    """ "find all incidents assigned to them" as `assigned_to={{trigger.current.active}}`:
    the trigger's record is the user `assigned_to` refers to."""
    itsm = shipped_catalogs()["acme-itsm"]
    values, changes = settled(
        inactive_user_flow("active=true^assigned_to={{trigger.current.active}}", "x=1"), 1, itsm
    )
    assert values["conditions"] == "active=true^assigned_to={{trigger.current}}"
    assert changes == ["assigned_to={{trigger.current.active}} -> assigned_to={{trigger.current}}"]


def test_a_scalar_pill_with_no_record_in_it_loses_its_term() -> None:
    itsm = shipped_catalogs()["acme-itsm"]
    scheduled = daily_look_up("active=true^assigned_to={{trigger.run_start_time}}")
    values, changes = settled(scheduled, 1, itsm)
    assert values["conditions"] == "active=true"
    assert changes == ["assigned_to={{trigger.run_start_time}} dropped"]
    # a query left with no term goes with it
    alone = daily_look_up("assigned_to={{trigger.run_start_time}}")
    values, _ = settled(alone, 1, itsm)
    assert "conditions" not in values and values["table"] == "incident"


@pytest.mark.parametrize(
    "conditions",
    [
        "assigned_to={{trigger.current}}^active=true",  # a record of the table
        "assigned_to.manager={{trigger.current.manager}}",  # a reference of it
        "short_description={{trigger.current.name}}",  # not a reference column
        "assigned_to={{trigger.current.no_such_field}}",  # a field the catalog lacks
    ],
)
def test_records_references_and_other_columns_stay(conditions: str) -> None:
    itsm = shipped_catalogs()["acme-itsm"]
    values, changes = settled(inactive_user_flow(conditions, "x=1"), 1, itsm)
    assert values["conditions"] == conditions and changes == []


def test_no_gold_flow_changes() -> None:
    """Every gold term that compares a reference column with a pill takes a record or a
    reference (624 in train and dev, hand-written and synthetic)."""
    catalogs = shipped_catalogs()
    changed = []
    for path in (DATA / "handwritten.jsonl", DATA / "synthetic.jsonl"):
        for case in map(json.loads, path.read_text().splitlines()):
            if case["split"] not in ("train", "dev") or not case.get("flow"):
                continue
            catalog = catalogs[case["installation"]]
            model = Flow.model_validate(case["flow"])
            items = [(c.order, c.inputs, catalog.step(c.definition)) for c in model.components]
            if model.trigger and model.trigger.type:
                trigger = catalog.trigger(model.trigger.type)
                items.append((0, model.trigger.inputs, trigger))
            for order, inputs, definition in items:
                if definition is None:
                    continue
                _, changes = settle_reference_pills(
                    list(inputs), definition.inputs, model, order, catalog, catalog.columns
                )
                changed += changes
    assert changed == []


def test_inputs_without_a_table_stay() -> None:
    itsm = shipped_catalogs()["acme-itsm"]
    values, changes = settled(flow(log(1, message="{{trigger.current.number}}")), 1, itsm)
    assert values == inputs_of(log(1, message="{{trigger.current.number}}")) and changes == []


@pytest.mark.parametrize(
    ("conditions", "left"),
    [
        # a dropped term opening a new query passes that on: its group stays a group
        (
            "active=true^NQassigned_to={{trigger.run_start_time}}^priority=1",
            "active=true^NQpriority=1",
        ),
        ("assigned_to={{trigger.run_start_time}}^ORpriority=1", "priority=1"),
    ],
)
def test_dropping_a_term_keeps_the_query_well_formed(conditions: str, left: str) -> None:
    itsm = shipped_catalogs()["acme-itsm"]
    values, _ = settled(daily_look_up(conditions), 1, itsm)
    assert values["conditions"] == left
