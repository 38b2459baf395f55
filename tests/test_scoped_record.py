"""The record in scope a look-up's words point back at (graph/scoped_record.py): "find
all incidents assigned to them" is `assigned_to={{trigger.current}}`."""

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

from flowgen.flow.model import Flow
from flowgen.flow.validator import PillRoot, pill_roots
from flowgen.graph.scoped_record import add_scoped_record

CATALOGS = shipped_catalogs()
USER = PillRoot("trigger.current", "record", "sys_user")
MODEL = PillRoot("2.item", "record", "cmdb_model")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "table", "span", "query", "pills", "grounded"),
    [
        # the column the words name, where several reach the user
        (
            "acme-itsm",
            "incident",
            "find all incidents assigned to them",
            "active=true",
            [USER],
            "assigned_to={{trigger.current}}^active=true",
        ),
        # the one column that reaches the loop's record, in place of a literal on it
        (
            "globex-csm",
            "sn_customerservice_case",
            "find the open cases on it",
            "active=true^product=cameras",
            [MODEL],
            "product={{2.item}}^active=true",
        ),
        # several columns and none named; no word points back; a pill already there
        ("acme-itsm", "incident", "find their open incidents", "active=true", [USER], None),
        ("acme-itsm", "incident", "find all open incidents", "active=true", [USER], None),
        (
            "acme-itsm",
            "incident",
            "find all incidents assigned to them",
            "assigned_to={{trigger.current}}",
            [USER],
            None,
        ),
    ],
)
def test_a_look_up_is_about_the_record_its_words_point_back_at(
    installation: str,
    table: str,
    span: str,
    query: str,
    pills: list[PillRoot],
    grounded: str | None,
) -> None:
    columns = CATALOGS[installation].columns
    assert add_scoped_record(query, table, span, pills, columns) == grounded


@pytest.mark.unit
def test_gold_look_ups_test_the_record_the_words_point_back_at() -> None:
    """The look-ups of the hand-written and synthetic train and dev flows: none changes;
    with their terms on records left out, the rule writes gold's back wherever it writes
    one (53 of them)."""
    written = right = changed = 0
    for case in gold_cases("handwritten", "synthetic"):
        catalog = CATALOGS[case.installation]
        gold_flow = Flow.model_validate(case.flow)
        for comp in gold_flow.components:
            values = inputs_of(comp.model_dump())
            table = values.get("table")
            if not comp.definition.startswith("look_up_record") or not table:
                continue
            roots = pill_roots(gold_flow, catalog, comp.order, "conditions")
            span, gold = comp.annotation or "", values.get("conditions") or ""
            changed += add_scoped_record(gold, table, span, roots, catalog.columns) is not None
            left = "^".join(t for t in gold.split("^") if "{{" not in t) or None
            new = add_scoped_record(left, table, span, roots, catalog.columns)
            if new is not None:
                written += 1
                right += new.split("^")[0] in gold.split("^")
    assert changed == 0
    assert written >= 50 and right == written, (written, right)


def test_the_graph_looks_up_the_users_incidents(synced_store) -> None:
    """Through the graph with a replayed answer: "find all incidents assigned to them"
    answered `active=true` looks up the user's."""
    answered = inactive_user_flow("active=true", "assigned_to={{trigger.current.manager}}")
    result = generated(synced_store, answered, INACTIVE_USER)
    assert result is not None
    look_up = result["components"][0]
    assert inputs_of(look_up)["conditions"] == "assigned_to={{trigger.current}}^active=true"
