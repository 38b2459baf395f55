"""Fields the words say are empty (graph/absent_fields.py): "P1 incidents with no
assignee" is `assigned_toISEMPTY`, "if the user has no manager" `{{2.item.manager}}ISEMPTY`."""

from __future__ import annotations

import pytest
from flows import flow as make_flow
from flows import generated, gold_cases, inputs_of, shipped_catalogs, step

from flowgen.flow.model import Flow
from flowgen.flow.validator import PillRoot, pill_roots
from flowgen.graph.absent_fields import (
    absent_columns,
    absent_pill_condition,
    add_absent_fields,
)

CATALOGS = shipped_catalogs()
ACME = CATALOGS["acme-itsm"]
GLOBEX = CATALOGS["globex-csm"]


def _condition(span: str, query: str | None, table: str = "incident") -> str | None:
    catalog = ACME if ACME.table(table) else GLOBEX
    return add_absent_fields(query, table, None, span, catalog.columns(table))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "query", "table", "grounded"),
    [
        (
            "P1 incidents with no assignee",
            "priority=1",
            "incident",
            "priority=1^assigned_toISEMPTY",
        ),
        (
            "unassigned high priority incidents",
            "active=true",
            "incident",
            "active=true^assigned_toISEMPTY",
        ),
        (
            "find every active user without a manager",
            "active=true",
            "sys_user",
            "active=true^managerISEMPTY",
        ),
        (
            "new cases without a contact",
            "state=1",
            "sn_customerservice_case",
            "state=1^contactISEMPTY",
        ),
        # the model's emptiness on a column the words never name is its guess at this one
        (
            "chat cases with no assignee",
            "contactISEMPTY^channel=chat",
            "sn_customerservice_case",
            "assigned_toISEMPTY^channel=chat",
        ),
        # an ISNOTEMPTY on it turns around
        ("incidents with no assignee", "assigned_toISNOTEMPTY", "incident", "assigned_toISEMPTY"),
        # already said; a phrase that names no column; OR left alone
        ("incidents with no assignee", "assigned_toISEMPTY", "incident", None),
        (
            "cases sitting in Awaiting Info without a reply from the customer",
            "state=18",
            "sn_customerservice_case",
            None,
        ),
        ("incidents with no assignee", "priority=1^ORpriority=2", "incident", None),
    ],
)
def test_a_condition_tests_the_emptiness_its_words_name(
    span: str, query: str, table: str, grounded: str | None
) -> None:
    assert _condition(span, query, table) == grounded


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "condition", "grounded"),
    [
        ("if the user has no manager", "{{2.item.active}}=false", "{{2.item.manager}}ISEMPTY"),
        (
            "if it has no assignee",
            "{{2.item.assignment_group.name}}=support",
            "{{2.item.assigned_to}}ISEMPTY",
        ),
        # the look-up holds the emptiness: "if one was found" stays a test of the record
        ("if it is still unassigned", "{{2.record}}ISNOTEMPTY", None),
        # two tests, or no absent column named
        ("if it has no assignee", "{{2.item.active}}=true^{{2.item.priority}}=1", None),
        ("if it is active", "{{2.item.active}}=true", None),
    ],
)
def test_an_if_tests_the_emptiness_its_words_name(
    span: str, condition: str, grounded: str | None
) -> None:
    pills = [
        PillRoot("2.item", "record", "sys_user" if "user" in span else "incident"),
        PillRoot("2.record", "record", "incident"),
    ]
    assert absent_pill_condition(condition, span, pills, ACME.columns) == grounded


@pytest.mark.unit
def test_gold_conditions_already_test_what_their_words_say_is_empty() -> None:
    """Every record trigger, look-up and IF of the hand-written and synthetic train and dev
    flows: the rule changes none, though the words of a dozen name an absent column."""
    changed: list[str] = []
    named = 0
    for case in gold_cases("handwritten", "synthetic"):
        catalog = CATALOGS[case.installation]
        gold = Flow.model_validate(case.flow)
        items = [(case.flow.get("trigger") or {}, "table", "condition")]
        items += [
            (c, "table", "conditions")
            for c in case.flow["components"]
            if c["definition"] in ("look_up_records", "look_up_record")
        ]
        for item, table_input, query_input in items:
            values = inputs_of(item)
            table = values.get(table_input)
            if not table or catalog.table(table) is None:
                continue
            span, columns = item.get("annotation") or "", catalog.columns(table)
            named += bool(absent_columns(span, columns))
            if add_absent_fields(values.get(query_input), table, None, span, columns):
                changed.append(case.id)
        for comp in gold.components:
            condition = inputs_of(comp.model_dump()).get("condition")
            if (
                comp.definition in ("IF", "ELSEIF")
                and condition
                and absent_pill_condition(
                    condition,
                    comp.annotation or "",
                    pill_roots(gold, catalog, comp.order, "condition"),
                    catalog.columns,
                )
            ):
                changed.append(case.id)
    assert changed == []
    assert named >= 10


def test_the_graph_adds_the_emptiness_a_look_up_names(synced_store) -> None:
    """Through the graph with a replayed answer: "check for P1 incidents with no assignee"
    answered `active=true^priority=1` also tests the assignee's emptiness."""
    answered = make_flow(
        step(
            1,
            "look_up_records",
            annotation="check for P1 incidents with no assignee",
            table="incident",
            conditions="active=true^priority=1",
        ),
        trigger=("repeat", {"interval": "1970-01-01 00:30:00"}),
        annotation="Every 30 minutes",
    )
    result = generated(
        synced_store, answered, "Every 30 minutes, check for P1 incidents with no assignee"
    )
    assert result is not None
    look_up = result["components"][0]
    assert inputs_of(look_up)["conditions"] == "active=true^priority=1^assigned_toISEMPTY"
