"""The person or group an assignment's words name (graph/named_assignee.py): "assign them
to their manager" is `assigned_to={{trigger.current.manager}}`."""

from __future__ import annotations

import pytest
from flows import DATA, generated, inputs_of, logic, shipped_catalogs, step
from flows import flow as make_flow

from flowgen.flow.model import Flow, FlowInput
from flowgen.flow.validator import PillRoot, pill_roots
from flowgen.graph.named_assignee import assign_named
from flowgen.training.cases import read_cases

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


@pytest.mark.unit
def test_gold_assignments_are_the_ones_the_words_name() -> None:
    """Every update_record of the hand-written and synthetic train and dev flows: the rule
    changes none; with an unnamed value in place of gold's, the term it writes is gold's
    wherever it names an assignee (47 of them)."""
    named = wrong = changed = 0
    for name in ("handwritten", "synthetic"):
        for case in read_cases([DATA / f"{name}.jsonl"]):
            if case.split not in ("train", "dev") or not case.flow:
                continue
            catalog = CATALOGS[case.installation]
            gold_flow = Flow.model_validate(case.flow)
            for comp in gold_flow.components:
                if comp.definition != "update_record":
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


def test_the_graph_assigns_whom_the_words_name(synced_store) -> None:
    """Through the graph with a replayed answer: the model's `state=7` for "assign them to
    their manager" becomes the user's manager."""
    answered = make_flow(
        step(
            1,
            "look_up_records",
            annotation="find all incidents assigned to them",
            table="incident",
            conditions="assigned_to={{trigger.current}}",
        ),
        logic(2, "FOREACH", items="{{1.records}}"),
        step(
            3,
            "update_record",
            2,
            annotation="assign them to their manager",
            table_name="incident",
            record="{{2.item}}",
            values="state=7",
        ),
        trigger=("record_update", {"table": "sys_user", "condition": "activeCHANGESTOfalse"}),
        annotation="Every time a user becomes inactive",
    )
    result = generated(
        synced_store,
        answered,
        "Every time a user becomes inactive, find all incidents assigned to them and assign"
        " them to their manager",
    )
    assert result is not None
    update = next(c for c in result["components"] if c["definition"] == "update_record")
    assert inputs_of(update)["values"] == "assigned_to={{trigger.current.manager}}"
