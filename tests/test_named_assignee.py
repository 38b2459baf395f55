"""The person or group an assignment's words name (graph/named_assignee.py): "assign them
to their manager" is `assigned_to={{trigger.current.manager}}`."""

from __future__ import annotations

import pytest
from flows import (
    INACTIVE_USER,
    generated,
    gold_cases,
    inactive_user_flow,
    inputs_of,
    shipped_catalogs,
)

from flowgen.flow.model import Flow, FlowInput
from flowgen.flow.validator import PillRoot, pill_roots
from flowgen.graph.named_assignee import ASSIGNING_STEPS, assign_named

CATALOGS = shipped_catalogs()
ACME = CATALOGS["acme-itsm"]
INCIDENT = PillRoot("trigger.current", "record", "incident")
GROUP_FOUND = PillRoot("1.record", "record", "sys_user_group")


def _values(span: str, written: str, pills: list[PillRoot], table: str = "incident") -> str:
    inputs = [
        FlowInput(name="table_name", value=table),
        FlowInput(name="record", value="{{trigger.current}}"),
        FlowInput(name="values", value=written),
    ]
    new, _ = assign_named("update_record", inputs, span, pills, ACME, ACME.columns)
    return inputs_of({"inputs": [i.model_dump() for i in new]})["values"]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "written", "pills", "values"),
    [
        # a person reached through the record's references
        (
            "assign it to the manager of its assignment group",
            "state=7",
            [INCIDENT],
            "assigned_to={{trigger.current.assignment_group.manager}}",
        ),
        (
            "reassign it to the caller's manager",
            "priority=2",
            [INCIDENT],
            "assigned_to={{trigger.current.caller_id.manager}}",
        ),
        # a group by its name: the one a look-up found
        (
            "route it to the Database group",
            "state=2",
            [INCIDENT, GROUP_FOUND],
            "assignment_group={{1.record}}",
        ),
        # what else the words name stays, in their order
        (
            "reassign it to the caller's manager and raise its priority to 1",
            "priority=1^state=7",
            [INCIDENT],
            "assigned_to={{trigger.current.caller_id.manager}}^priority=1",
        ),
        (
            "set the priority to 1 and assign it to the caller's manager",
            "priority=1",
            [INCIDENT],
            "priority=1^assigned_to={{trigger.current.caller_id.manager}}",
        ),
        # a group by its name that no look-up found; no one named; nothing handed over
        ("assign it to the Database group", "state=2", [INCIDENT], "state=2"),
        ("assign it to them", "state=2", [INCIDENT], "state=2"),
        ("wipe its assigned user", "assigned_to=", [INCIDENT], "assigned_to="),
    ],
)
def test_an_update_goes_to_whom_its_words_name(
    span: str, written: str, pills: list[PillRoot], values: str
) -> None:
    assert _values(span, written, pills) == values


REVIEW = PillRoot("trigger.current", "record", "x_initech_access_review")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("definition", "span", "inputs", "pills", "changed"),
    [
        # a task made for a person, after its content
        (
            "create_task",
            "create a task for the application owner to remove the admin rights",
            {"field_values": "short_description=Remove the admin rights"},
            [REVIEW],
            {
                "field_values": "short_description=Remove the admin rights"
                "^assigned_to={{trigger.current.application.owned_by}}"
            },
        ),
        # a catalog task's group is an input of its own
        (
            "create_catalog_task",
            "create a catalog task for that group to set up the room",
            {"requested_item": "{{trigger.request_item}}", "short_description": "Set up"},
            [GROUP_FOUND],
            {"assignment_group": "{{1.record}}"},
        ),
        # an incident opened for a person is about them
        (
            "create_record",
            "open a security incident for the reviewer with the details",
            {"table_name": "sn_si_incident", "values": "severity=1"},
            [REVIEW],
            {},
        ),
    ],
)
def test_a_record_made_for_someone_goes_to_them(
    definition: str,
    span: str,
    inputs: dict[str, str],
    pills: list[PillRoot],
    changed: dict[str, str],
) -> None:
    secops = CATALOGS["initech-secops"]
    given = [FlowInput(name=k, value=v) for k, v in inputs.items()]
    new, _ = assign_named(definition, given, span, pills, secops, secops.columns)
    assert {i.name: i.value for i in new} == {**inputs, **changed}


@pytest.mark.unit
def test_gold_assignments_are_the_ones_the_words_name() -> None:
    """Every update and create of the hand-written and synthetic train and dev flows: the
    rule changes none; with an unnamed value in place of gold's (a create's assignee left
    out), the term it writes is gold's wherever it names an assignee (46 updates, 23
    creates)."""
    named = wrong = changed = 0
    created: list[bool] = []
    for case in gold_cases("handwritten", "synthetic"):
        catalog = CATALOGS[case.installation]
        gold_flow = Flow.model_validate(case.flow)
        for comp in gold_flow.components:
            if comp.definition not in ASSIGNING_STEPS:
                continue
            if comp.definition != "update_record":
                created += _made_for(gold_flow, comp, catalog)
                continue
            roots = pill_roots(gold_flow, catalog, comp.order, "values")
            span = comp.annotation or ""
            _, changes = assign_named(
                comp.definition, comp.inputs, span, roots, catalog, catalog.columns
            )
            changed += bool(changes)
            gold = inputs_of(comp.model_dump())
            probe = [
                FlowInput(name=i.name, value="zzz=unnamed" if i.name == "values" else i.value)
                for i in comp.inputs
            ]
            new, changes = assign_named(
                comp.definition, probe, span, roots, catalog, catalog.columns
            )
            if changes:
                named += 1
                written = inputs_of({"inputs": [i.model_dump() for i in new]})["values"]
                wrong += not set(written.split("^")) <= set(gold["values"].split("^"))
    assert changed == 0
    assert named >= 45 and wrong == 0, (named, wrong)
    assert len(created) >= 20 and all(created), created


def _made_for(flow: Flow, comp, catalog) -> list[bool]:
    """For a gold create: nothing changes as written; with its assignee left out, the
    rule writes it back where it writes one (one bool per write, True if gold's)."""
    values_input = ASSIGNING_STEPS[comp.definition][1]
    roots = pill_roots(flow, catalog, comp.order, values_input)
    span = comp.annotation or ""
    _, changes = assign_named(comp.definition, comp.inputs, span, roots, catalog, catalog.columns)
    assert changes == [], changes
    gold = inputs_of(comp.model_dump())
    left_out = [
        FlowInput(
            name=i.name,
            value="^".join(
                t
                for t in i.value.split("^")
                if not t.startswith(("assigned_to=", "assignment_group="))
            ),
        )
        for i in comp.inputs
        if not (comp.definition == "create_catalog_task" and i.name == "assignment_group")
    ]
    new, changes = assign_named(comp.definition, left_out, span, roots, catalog, catalog.columns)
    if not changes:
        return []
    written = inputs_of({"inputs": [i.model_dump() for i in new]})[values_input]
    return [set(written.split("^")) <= set(gold.get(values_input, "").split("^"))]


def test_the_graph_assigns_whom_the_words_name(synced_store) -> None:
    """Through the graph with a replayed answer: the model's `state=7` for "assign them to
    their manager" becomes the user's manager."""
    answered = inactive_user_flow("assigned_to={{trigger.current}}", "state=7")
    result = generated(synced_store, answered, INACTIVE_USER)
    assert result is not None
    update = next(c for c in result["components"] if c["definition"] == "update_record")
    assert inputs_of(update)["values"] == "assigned_to={{trigger.current.manager}}"
