"""An IF's yes-or-no test follows its words (graph/if_polarity.py): the rule itself, the
gold flows it must leave alone, and through the graph."""

from __future__ import annotations

import pytest
from flows import flow, generated, gold_steps, inputs_of, shipped_catalogs, step

from flowgen.flow.validator import PillRoot
from flowgen.graph.if_polarity import CONDITION_LOGIC, boolean_emptiness, settle_polarity


@pytest.mark.unit
@pytest.mark.parametrize(
    ("condition", "span", "settled"),
    [
        ("{{3.entitled}}=true", "if they are not entitled", "{{3.entitled}}=false"),
        ("{{2.item.u_reviewer}}=true", "if it has no reviewer yet", "{{2.item.u_reviewer}}=false"),
        ("{{1.malicious}}=false", "if VirusTotal calls it malicious", "{{1.malicious}}=true"),
        ("{{1.in_freeze}}!=true", "if it isn't in a freeze", "{{1.in_freeze}}!=true"),
        ("{{1.entitled}}=true", "if they are entitled", "{{1.entitled}}=true"),
        # only a lone boolean test of a pill
        ("{{1.count}}>0", "if none were found", "{{1.count}}>0"),
        ("{{1.a}}=true^{{1.b}}=true", "if not both", "{{1.a}}=true^{{1.b}}=true"),
        ("active=true", "if it is not active", "active=true"),
    ],
)
def test_a_boolean_test_follows_its_words(condition: str, span: str, settled: str) -> None:
    assert settle_polarity(condition, span) == settled


@pytest.mark.unit
@pytest.mark.parametrize(
    ("condition", "valued"),
    [
        ("{{1.entitled}}ISNOTEMPTY", "{{1.entitled}}=true"),
        ("{{1.entitled}}ISEMPTY", "{{1.entitled}}=false"),
        ("{{2.item.account.active}}ISNOTEMPTY", "{{2.item.account.active}}=true"),
        # not a boolean, or not alone
        ("{{2.item.contact}}ISNOTEMPTY", None),
        ("{{1.entitled}}ISNOTEMPTY^{{2.item.active}}=true", None),
    ],
)
def test_an_emptiness_test_of_a_yes_or_no_pill_tests_its_value(
    condition: str, valued: str | None
) -> None:
    columns = shipped_catalogs()["globex-csm"].columns
    pills = [
        PillRoot("1.entitled", "boolean", None),
        PillRoot("2.item", "record", "sn_customerservice_case"),
    ]
    assert boolean_emptiness(condition, pills, columns) == valued


@pytest.mark.unit
def test_gold_boolean_tests_already_follow_their_words() -> None:
    seen = 0
    for _, comp in gold_steps("handwritten", "synthetic"):
        if comp["definition"] not in CONDITION_LOGIC:
            continue
        condition = inputs_of(comp).get("condition", "")
        if settle_polarity(condition, "if not") == settle_polarity(condition, "if"):
            continue  # not a lone boolean test
        seen += 1
        assert settle_polarity(condition, comp.get("annotation") or "") == condition
    assert seen > 100


def test_the_graph_settles_an_if_by_its_words(synced_store) -> None:
    """Through the graph with a replayed answer that tests the opposite of the words."""
    answered = flow(
        step(
            1,
            "IF",
            category="flowlogic",
            annotation="if the caller is not a VIP",
            condition="{{trigger.current.caller_id.vip}}=true",
        ),
        step(
            2,
            "update_record",
            block=1,
            annotation="lower the priority",
            table_name="incident",
            record="{{trigger.current}}",
            values="priority=4",
        ),
        trigger=("record_create", {"table": "incident"}),
        annotation="When an incident is created",
    )
    result = generated(
        synced_store,
        answered,
        "When an incident is created, if the caller is not a VIP, lower the priority",
    )
    assert result is not None
    conditions = {c["order"]: inputs_of(c).get("condition") for c in result["components"]}
    assert conditions[1] == "{{trigger.current.caller_id.vip}}=false"
