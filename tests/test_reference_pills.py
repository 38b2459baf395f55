"""A reference column holds a record, never a date, number or text
(graph/reference_pills.py)."""

from __future__ import annotations

import pytest
from flows import (
    flow,
    gold_cases,
    inactive_user_flow,
    inputs_of,
    log,
    logic,
    own_step,
    shipped_catalogs,
    step,
)

from flowgen.flow.catalog import Catalog
from flowgen.flow.model import Flow
from flowgen.flow.validator import validate_flow
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


def daily_update(values: str) -> dict:
    """A daily flow that looks up one incident and sets `values` on it."""
    return flow(
        step(1, "look_up_record", table="incident", conditions="active=true"),
        step(2, "update_record", table_name="incident", record="{{1.record}}", values=values),
        trigger=("daily", {"time": "1970-01-01 09:00:00"}),
    )


def test_a_scalar_pill_with_no_record_in_it_loses_its_term_in_values() -> None:
    itsm = shipped_catalogs()["acme-itsm"]
    values, changes = settled(
        daily_update("priority=1^assigned_to={{trigger.run_start_time}}"), 2, itsm
    )
    assert values["values"] == "priority=1"
    assert changes == ["assigned_to={{trigger.run_start_time}} dropped"]
    # a query left with no term goes with it
    values, _ = settled(daily_update("assigned_to={{trigger.run_start_time}}"), 2, itsm)
    assert "values" not in values and values["record"] == "{{1.record}}"


def test_a_scalar_pill_with_no_record_in_it_loses_its_term_in_conditions() -> None:
    """The validator reports such a term (`pill_type_mismatch`); asking the model again
    mended none of dev's five (thirty-ninth session), so the term goes."""
    itsm = shipped_catalogs()["acme-itsm"]
    scheduled = daily_look_up("active=true^assigned_to={{trigger.run_start_time}}")
    errors = validate_flow(scheduled, itsm).errors
    assert [e.code for e in errors] == ["pill_type_mismatch"]
    assert "of type datetime" in errors[0].message
    values, changes = settled(scheduled, 1, itsm)
    assert values["conditions"] == "active=true"
    assert changes == ["assigned_to={{trigger.run_start_time}} dropped"]


def test_a_record_of_another_table_takes_its_own_reference_of_that_name() -> None:
    """ "the other tasks of the same incident", on an incident task: `incident` holds an
    incident, and the trigger's task has one of that name."""
    itsm = shipped_catalogs()["acme-itsm"]
    siblings = flow(
        step(
            1, "look_up_records", table="incident_task", conditions="incident={{trigger.current}}"
        ),
        trigger=("record_create", {"table": "incident_task"}),
    )
    values, changes = settled(siblings, 1, itsm)
    assert values["conditions"] == "incident={{trigger.current.incident}}"
    assert changes == ["incident={{trigger.current}} -> incident={{trigger.current.incident}}"]


def test_a_record_of_another_table_moves_to_the_column_that_refers_to_it() -> None:
    """ "find the incidents on this server" as `assigned_to={{trigger.current}}`: a server is
    no user, and `cmdb_ci` is the one incident column that holds a server."""
    itsm = shipped_catalogs()["acme-itsm"]
    on_server = flow(
        step(1, "look_up_records", table="incident", conditions="assigned_to={{trigger.current}}"),
        trigger=(
            "record_update",
            {"table": "cmdb_ci_server", "condition": "operational_statusCHANGES"},
        ),
    )
    values, changes = settled(on_server, 1, itsm)
    assert values["conditions"] == "cmdb_ci={{trigger.current}}"
    assert changes == ["assigned_to={{trigger.current}} -> cmdb_ci={{trigger.current}}"]
    assert validate_flow(on_server, itsm).errors[0].code == "pill_type_mismatch"


def test_a_record_no_rule_mends_leaves_values() -> None:
    """A user's record where a problem is asked: the user has no problem reference, no
    problem is in scope, and four incident columns hold a user."""
    itsm = shipped_catalogs()["acme-itsm"]
    values, changes = settled(
        inactive_user_flow("active=true", "problem_id={{trigger.current}}"), 3, itsm
    )
    assert "values" not in values
    assert changes == ["problem_id={{trigger.current}} dropped"]


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
    reference (624 in train and dev, hand-written and synthetic); every reference input
    of a step a record, every identifier input its record's column of that name."""
    catalogs = shipped_catalogs()
    changed = []
    for case in gold_cases("handwritten", "synthetic"):
        catalog = catalogs[case.installation]
        model = Flow.model_validate(case.flow)
        items = [(c.order, c.inputs, catalog.step(c.definition)) for c in model.components]
        if model.trigger and model.trigger.type:
            items.append((0, model.trigger.inputs, catalog.trigger(model.trigger.type)))
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


def vip_user_flow(*steps: dict) -> dict:
    """`steps` under "when a user becomes a VIP"."""
    return flow(
        *steps, trigger=("record_update", {"table": "sys_user", "condition": "vipCHANGESTOtrue"})
    )


def raise_priority(order: int, record: str) -> dict:
    """An update of an incident `record` to priority 1."""
    return step(order, "update_record", table_name="incident", record=record, values="priority=1")


def test_a_record_input_takes_a_record_of_its_table() -> None:
    """A step's record input mended as a query term is: the record's own reference of the
    input's name, else the one record of the table in scope; else left for the validator."""
    itsm = shipped_catalogs()["acme-itsm"]
    # the incident of the task that triggered the flow
    paged = flow(
        step(
            1,
            "notify_major_incident_team",
            category="subflow",
            scope="x_acme_itsm",
            incident="{{trigger.current}}",
        ),
        trigger=("record_create", {"table": "incident_task"}),
    )
    values, changes = settled(paged, 1, itsm)
    assert values["incident"] == "{{trigger.current.incident}}"
    assert changes == ["incident={{trigger.current}} -> {{trigger.current.incident}}"]
    # the one incident in scope, where the trigger's record is a user
    updated = vip_user_flow(
        step(1, "look_up_record", table="incident", conditions="caller_id={{trigger.current}}"),
        raise_priority(2, record="{{trigger.current}}"),
    )
    values, _ = settled(updated, 2, itsm)
    assert values["record"] == "{{1.record}}"
    # nothing to mend it with: as written
    alone = vip_user_flow(raise_priority(1, record="{{trigger.current}}"))
    values, changes = settled(alone, 1, itsm)
    assert values["record"] == "{{trigger.current}}" and changes == []


def hr_case_flow(*steps: dict) -> dict:
    """`steps` under "when an HR lifecycle case is updated" (umbrella-workplace)."""
    return flow(*steps, trigger=("record_update", {"table": "sn_hr_le_case"}))


@pytest.mark.unit
def test_a_reference_input_holding_a_field_takes_a_record() -> None:
    """An installation's step on a record it never saw in training (umb-devu-c-09,
    umb-devu-b-04 with adapter v11): the person's name where the person is asked, the
    case's type where its building is. The longest part of the pill that is a record of
    the input's table, else the record's own reference of the input's name, else the
    one record of that table in scope."""
    umbrella = shipped_catalogs()["umbrella-workplace"]
    prepared = hr_case_flow(
        own_step(
            "umbrella-workplace",
            1,
            "prepare_workspace",
            person="{{trigger.current.subject_person.name}}",
            building="{{trigger.current.subject_person.name}}",
            start_date="{{trigger.current.effective_date}}",
        )
    )
    values, changes = settled(prepared, 1, umbrella)
    assert values["person"] == "{{trigger.current.subject_person}}"
    assert values["building"] == "{{trigger.current.building}}"
    assert values["start_date"] == "{{trigger.current.effective_date}}" and len(changes) == 2
    # a count where a building is asked, inside a loop over buildings: the loop's item
    cleaned = flow(
        step(1, "look_up_records", table="x_umb_building", conditions="open=true"),
        logic(2, "FOREACH", items="{{1.records}}"),
        own_step("umbrella-workplace", 3, "create_work_order", 2, building="{{1.count}}"),
        trigger=("monthly", {"time": "1970-01-01 06:00:00"}),
    )
    values, _ = settled(cleaned, 3, umbrella)
    assert values["building"] == "{{2.item}}"
    # a date where a person is asked, and no record of people in scope to take
    dated = flow(
        own_step("umbrella-workplace", 1, "reserve_desk", person="{{trigger.run_start_time}}"),
        trigger=("daily", {"time": "1970-01-01 06:00:00"}),
    )
    values, changes = settled(dated, 1, umbrella)
    assert values["person"] == "{{trigger.run_start_time}}" and changes == []


@pytest.mark.unit
def test_an_identifier_input_takes_the_records_column_of_its_name() -> None:
    """umb-devu-a-11: Workday's employee ID written as the case's short description."""
    umbrella = shipped_catalogs()["umbrella-workplace"]
    terminated = hr_case_flow(
        own_step(
            "umbrella-workplace",
            1,
            "terminate_worker",
            employee_id="{{trigger.current.short_description}}",
            last_day="{{trigger.current.effective_date}}",
        )
    )
    values, changes = settled(terminated, 1, umbrella)
    assert values["employee_id"] == "{{trigger.current.employee_id}}"
    assert changes == [
        "employee_id={{trigger.current.short_description}} -> {{trigger.current.employee_id}}"
    ]
