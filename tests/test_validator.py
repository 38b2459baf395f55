"""One failing and one passing flow for every validator rule (spec §2)."""

from __future__ import annotations

import json

import pytest
from flows import flow, log, logic, step

from flowgen.flow.errors import CODES
from flowgen.flow.validator import validate_flow

LOOKUP = {"table": "incident", "conditions": "active=true"}
SUBFLOW = (None, {})

# code -> (flow that breaks the rule, a close flow that keeps it)
CASES: dict[str, tuple[object, object]] = {
    "unparseable": ('{"trigger": ', flow(log(1))),
    "invalid_type": (
        flow({"order": "1", "category": "action", "definition": "log", "inputs": []}),
        flow(log(1)),
    ),
    "too_large": (flow(*[log(i) for i in range(1, 502)]), flow(*[log(i) for i in range(1, 50)])),
    "order_sequence": (flow(log(1), log(3)), flow(log(1), log(2))),
    "order_not_depth_first": (
        flow(logic(1, "IF", condition="{{trigger.current.priority}}=1"), log(2), log(3, 1)),
        flow(logic(1, "IF", condition="{{trigger.current.priority}}=1"), log(2, 1), log(3)),
    ),
    "block_unknown": (flow(log(1, 2), log(2)), flow(logic(1, "TRY"), log(2, 1))),
    "block_not_container": (flow(log(1), log(2, 1)), flow(logic(1, "TRY"), log(2, 1))),
    "unknown_flowlogic": (
        flow(logic(1, "WHILE", condition="{{trigger.current.active}}=true"), log(2, 1)),
        flow(logic(1, "DOUNTIL", condition="{{trigger.current.active}}=true"), log(2, 1)),
    ),
    "misplaced_branch": (
        flow(log(1), logic(2, "ELSE"), log(3, 2)),
        flow(
            logic(1, "IF", condition="{{trigger.current.priority}}=1"),
            log(2, 1),
            logic(3, "ELSE"),
            log(4, 3),
        ),
    ),
    "path_outside_parallel": (
        flow(logic(1, "PATH"), log(2, 1)),
        flow(logic(1, "PARALLEL"), logic(2, "PATH", 1), log(3, 2), logic(4, "PATH", 1), log(5, 4)),
    ),
    "parallel_paths": (
        flow(logic(1, "PARALLEL"), logic(2, "PATH", 1), log(3, 2)),
        flow(logic(1, "PARALLEL"), logic(2, "PATH", 1), log(3, 2), logic(4, "PATH", 1), log(5, 4)),
    ),
    "loop_control_outside_loop": (
        flow(logic(1, "IF", condition="{{trigger.current.priority}}=1"), logic(2, "EXITLOOP", 1)),
        flow(
            step(1, "look_up_records", **LOOKUP),
            logic(2, "FOREACH", items="{{1.records}}"),
            logic(3, "IF", 2, condition="{{2.item.priority}}=1"),
            logic(4, "EXITLOOP", 3),
        ),
    ),
    "subflow_outputs_outside_subflow": (
        flow(logic(1, "ASSIGNSUBFLOWOUTPUTS", result="done")),
        flow(logic(1, "ASSIGNSUBFLOWOUTPUTS", result="done"), trigger=SUBFLOW),
    ),
    "goback_target": (
        flow(log(1), logic(2, "GOBACKTO", step="5")),
        flow(log(1), logic(2, "GOBACKTO", step="1")),
    ),
    "empty_block": (
        flow(logic(1, "IF", condition="{{trigger.current.priority}}=1")),
        flow(logic(1, "IF", condition="{{trigger.current.priority}}=1"), log(2, 1)),
    ),
    "unknown_trigger": (
        flow(log(1), trigger=("record_delete", {"table": "incident"})),
        flow(log(1), trigger=("record_create", {"table": "incident"})),
    ),
    "unknown_step": (flow(step(1, "close_incident")), flow(step(1, "log", log_message="x"))),
    "wrong_category": (
        flow(step(1, "log", category="subflow", log_message="x")),
        flow(step(1, "log", log_message="x")),
    ),
    "wrong_scope": (
        flow(step(1, "log", scope="sn_ms_teams_ah", log_message="x")),
        flow(step(1, "log", log_message="x")),
    ),
    "unknown_input": (
        flow(step(1, "look_up_record", tabel="incident")),
        flow(step(1, "look_up_record", table="incident")),
    ),
    "duplicate_input": (
        flow(
            {
                **step(1, "look_up_record", table="incident"),
                "inputs": [{"name": "table", "value": "incident"}] * 2,
            }
        ),
        flow(step(1, "look_up_record", table="incident")),
    ),
    "missing_input": (
        flow(step(1, "look_up_record", conditions="active=true")),
        flow(step(1, "look_up_record", table="incident", conditions="active=true")),
    ),
    "empty_input": (
        flow(step(1, "look_up_record", table="incident", conditions="")),
        flow(step(1, "look_up_record", table="incident")),
    ),
    "unknown_table": (
        flow(step(1, "look_up_record", table="incidnet")),
        flow(step(1, "look_up_record", table="incident")),
    ),
    "unknown_column": (
        flow(step(1, "look_up_record", table="incident", conditions="caller_id.managr=x")),
        flow(step(1, "look_up_record", table="incident", conditions="caller_id.manager.vip=true")),
    ),
    "unknown_choice": (
        flow(step(1, "look_up_record", table="incident", conditions="state=9")),
        flow(step(1, "look_up_record", table="incident", conditions="stateIN1,2^priority<=2")),
    ),
    "bad_query": (
        flow(step(1, "look_up_record", table="incident", conditions="priority is high")),
        flow(step(1, "look_up_record", table="incident", conditions="priority=1^ORDERBYnumber")),
    ),
    "pill_syntax": (
        flow(step(1, "log", log_message="hi {{trigger.current.number")),
        flow(step(1, "log", log_message="hi {{trigger.current.number}}")),
    ),
    "pill_unknown_step": (
        flow(step(1, "look_up_record", **LOOKUP), step(2, "log", log_message="{{9.record}}")),
        flow(step(1, "look_up_record", **LOOKUP), step(2, "log", log_message="{{1.record}}")),
    ),
    "pill_later_step": (
        flow(step(1, "log", log_message="{{2.record}}"), step(2, "look_up_record", **LOOKUP)),
        flow(step(1, "look_up_record", **LOOKUP), step(2, "log", log_message="{{1.record}}")),
    ),
    "pill_out_of_scope": (
        flow(
            logic(1, "IF", condition="{{trigger.current.priority}}=1"),
            step(2, "look_up_record", 1, **LOOKUP),
            step(3, "log", log_message="{{2.record}}"),
        ),
        flow(
            logic(1, "IF", condition="{{trigger.current.priority}}=1"),
            step(2, "look_up_record", 1, **LOOKUP),
            step(3, "log", 1, log_message="{{2.record}}"),
        ),
    ),
    "pill_unknown_output": (
        flow(step(1, "look_up_record", **LOOKUP), step(2, "log", log_message="{{1.records}}")),
        flow(step(1, "look_up_record", **LOOKUP), step(2, "log", log_message="{{1.status}}")),
    ),
    "pill_unknown_field": (
        flow(step(1, "log", log_message="{{trigger.current.caller_id.managr}}")),
        flow(step(1, "log", log_message="{{trigger.current.caller_id.manager.email}}")),
    ),
    "pill_type_mismatch": (
        flow(
            step(1, "look_up_records", **LOOKUP),
            step(2, "update_record", table_name="incident", record="{{1.records}}"),
        ),
        flow(
            step(1, "look_up_records", **LOOKUP),
            logic(2, "FOREACH", items="{{1.records}}"),
            step(3, "update_record", 2, table_name="incident", record="{{2.item}}"),
        ),
    ),
}


def test_every_code_has_a_case() -> None:
    assert set(CASES) == set(CODES)


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_fails_on_breaking_flow(code: str, catalog) -> None:
    bad, _ = CASES[code]
    report = validate_flow(bad, catalog)
    codes = [e.code for e in report.errors]
    assert code in codes, f"expected {code}, got {[str(e) for e in report.errors]}"
    error = next(e for e in report.errors if e.code == code)
    assert error.message and error.kind == CODES[code][0]


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_passes_on_keeping_flow(code: str, catalog) -> None:
    _, good = CASES[code]
    report = validate_flow(good, catalog)
    assert report.errors == [], [str(e) for e in report.errors]


def test_errors_name_the_component_order(catalog) -> None:
    bad = flow(log(1), step(2, "look_up_record", table="incidnet"))
    [error] = validate_flow(bad, catalog).errors
    assert (error.order, error.path) == (2, "components[1].inputs[0]")
    assert "incidnet" in error.message


def test_outline_stage_skips_required_inputs(catalog) -> None:
    outline = flow(step(1, "look_up_record"), trigger=("record_update", {}))
    assert validate_flow(outline, catalog, stage="outline").ok
    codes = {e.code for e in validate_flow(outline, catalog, stage="full").errors}
    assert codes == {"missing_input"}


def test_without_catalog_only_catalog_free_rules_run() -> None:
    unknown_everything = flow(
        step(1, "teleport", planet="mars"), trigger=("psychic", {"table": "dreams"})
    )
    assert validate_flow(unknown_everything).ok
    assert not validate_flow(flow(logic(1, "IF", condition="x=1"))).ok  # empty block


def test_dountil_condition_may_use_its_own_body(catalog) -> None:
    body = flow(
        logic(1, "DOUNTIL", condition="{{2.record.state}}=6"),
        step(2, "look_up_record", 1, **LOOKUP),
    )
    assert validate_flow(body, catalog).ok
    # ... but a step after the loop may not.
    after = flow(
        logic(1, "DOUNTIL", condition="{{trigger.current.state}}=6"),
        step(2, "look_up_record", 1, **LOOKUP),
        step(3, "log", log_message="{{2.record}}"),
    )
    assert [e.code for e in validate_flow(after, catalog).errors] == ["pill_out_of_scope"]


def test_foreach_item_only_inside_its_loop(catalog) -> None:
    outside = flow(
        step(1, "look_up_records", **LOOKUP),
        logic(2, "FOREACH", items="{{1.records}}"),
        log(3, 2),
        step(4, "log", log_message="{{2.item.number}}"),
    )
    [error] = validate_flow(outside, catalog).errors
    assert error.code == "pill_out_of_scope" and "only exists inside" in error.message


def test_choice_values_checked_through_pills_in_if_conditions(catalog) -> None:
    bad = flow(logic(1, "IF", condition="{{trigger.current.state}}=42"), log(2, 1))
    assert [e.code for e in validate_flow(bad, catalog).errors] == ["unknown_choice"]


def test_foreach_item_dot_walks_the_looped_table(catalog) -> None:
    good = flow(
        step(1, "look_up_records", **LOOKUP),
        logic(2, "FOREACH", items="{{1.records}}"),
        step(3, "log", 2, log_message="{{2.item.caller_id.email}}"),
    )
    assert validate_flow(good, catalog).ok
    bad = flow(
        step(1, "look_up_records", **LOOKUP),
        logic(2, "FOREACH", items="{{1.records}}"),
        step(3, "log", 2, log_message="{{2.item.caller_id.emial}}"),
    )
    assert [e.code for e in validate_flow(bad, catalog).errors] == ["pill_unknown_field"]


def test_refusal_is_not_an_error() -> None:
    report = validate_flow("null")
    assert report.refusal and report.ok


def test_example_flow_is_valid(catalog) -> None:
    from conftest import REPO

    text = (REPO / "examples" / "reassign_inactive_user_incidents.json").read_text()
    assert validate_flow(json.loads(text), catalog).ok


@pytest.mark.parametrize(
    ("conditions", "wrong"),
    [
        ("assigned_to={{trigger.current.assigned_to}}", None),  # the incident's own assignee
        ("parent={{trigger.current}}", None),  # an incident is a task
        ("assigned_to={{trigger.current.caller_id}}", None),  # a user
        ("assigned_to={{trigger.current.short_description}}", None),  # text may be a sys_id
        ("assigned_to={{trigger.current.active}}", "of type boolean"),
        ("assigned_to={{trigger.current.opened_at}}", "of type datetime"),
        ("assignment_group={{trigger.current.caller_id}}", "a record of sys_user"),
        ("problem_id={{trigger.current}}", "a record of incident"),
    ],
)
def test_a_reference_term_holds_a_record_of_its_table(
    conditions: str, wrong: str | None, catalog
) -> None:
    """A reference column stores a sys_id: compared with a date or with a user where a
    group is asked, the query matches nothing in ServiceNow."""
    looked_up = flow(step(1, "look_up_records", table="incident", conditions=conditions))
    errors = validate_flow(looked_up, catalog).errors
    if wrong is None:
        assert errors == []
    else:
        assert [e.code for e in errors] == ["pill_type_mismatch"]
        assert wrong in errors[0].message and errors[0].order == 1
