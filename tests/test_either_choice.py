"""Either of two settings the words name (graph/either_choice.py): "a gold or platinum
account's case" is `account.customer_tierINgold,platinum`."""

from __future__ import annotations

import pytest
from flows import flow as make_flow
from flows import generated, gold_cases, inputs_of, shipped_catalogs, step

from flowgen.graph.either_choice import add_either_choice, either_choice

CATALOGS = shipped_catalogs()
CASE = "sn_customerservice_case"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "table", "span", "query", "grounded"),
    [
        # one reference away, in the order said
        (
            "globex-csm",
            CASE,
            "When a new case is opened for a gold or platinum account",
            None,
            "account.customer_tierINgold,platinum",
        ),
        (
            "globex-csm",
            CASE,
            "When a case for a product in the Routers or Switches product line gets escalated",
            "escalatedCHANGESTOtrue",
            "escalatedCHANGESTOtrue^product.product_lineINrouters,switches",
        ),
        # by the labels of the table's own column, in place of the model's term on it
        (
            "acme-itsm",
            "problem",
            "Look up all active problems in Root Cause Analysis or Fix in Progress",
            "active=true^problem_state=103",
            "active=true^problem_stateIN103,104",
        ),
        # by values after the column's label
        (
            "initech-secops",
            "sn_vul_vulnerable_item",
            "open critical + high vulns (risk rating 1 or 2)",
            "state=1",
            "state=1^risk_ratingIN1,2",
        ),
        # nothing joined by "or"; OR left alone
        ("globex-csm", CASE, "When a gold account's case is opened", "category=billing", None),
        (
            "globex-csm",
            CASE,
            "a gold or platinum account's case",
            "priority=1^ORpriority=2",
            None,
        ),
    ],
)
def test_a_condition_tests_either_setting_its_words_join(
    installation: str, table: str, span: str, query: str | None, grounded: str | None
) -> None:
    columns = CATALOGS[installation].columns
    assert add_either_choice(query, table, span, columns) == grounded


@pytest.mark.unit
def test_gold_conditions_test_the_pairs_their_words_name() -> None:
    """The record triggers and look-ups of the hand-written and synthetic train and dev
    flows whose words join two choices of one column: 8 test exactly that pair; the
    other two ("risk High or Very High" written `risk<=2`, and a trigger whose gold
    leaves out the "priority 1 or 2" its words give) test no other."""
    right = wrong = 0
    for case in gold_cases("handwritten", "synthetic"):
        catalog = CATALOGS[case.installation]
        trigger = case.flow.get("trigger") or {}
        items = [(trigger, "condition")] if trigger.get("type", "").startswith("record") else []
        items += [
            (c, "conditions")
            for c in case.flow["components"]
            if c["definition"] in ("look_up_records", "look_up_record")
        ]
        for item, query_input in items:
            values = inputs_of(item)
            table = values.get("table")
            if not table or catalog.table(table) is None:
                continue
            found = either_choice(item.get("annotation") or "", table, catalog.columns)
            if found is None:
                continue
            term = f"{found[0]}IN{','.join(found[1])}"
            if term in (values.get(query_input) or "").split("^"):
                right += 1
            else:
                wrong += 1
    assert right >= 8 and wrong <= 2, (right, wrong)


def test_the_graph_adds_the_pair_a_look_up_names(synced_store) -> None:
    """Through the graph with a replayed answer: the look-up tests either state its
    words join with "or"."""
    span = "Look up all active problems in Root Cause Analysis or Fix in Progress"
    answered = make_flow(
        step(1, "look_up_records", annotation=span, table="problem", conditions="active=true"),
        trigger=("daily", {"time": "1970-01-01 08:00:00"}),
        annotation="Every day at 8am",
    )
    result = generated(synced_store, answered, f"Every day at 8am, {span.lower()}")
    assert result is not None
    look_up = result["components"][0]
    assert inputs_of(look_up)["conditions"] == "active=true^problem_stateIN103,104"
