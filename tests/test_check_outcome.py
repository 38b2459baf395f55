"""An IF on what the step before it found out (graph/check_outcome.py): after Check
Entitlement, "if they are not entitled" tests `entitled` for `false`."""

from __future__ import annotations

from typing import Any

import pytest
from flows import flow, gold_cases, inputs_of, shipped_catalogs, step

from flowgen.flow.model import Flow
from flowgen.graph.check_outcome import check_outcome

CASE_OPENED = ("record_create", {"table": "sn_customerservice_case"})
CHECKED = step(1, "check_entitlement", annotation="check the account's entitlement")


def _outline(span: str, *before: dict[str, Any]) -> Flow:
    steps = [*before, step(len(before) + 1, "IF", category="flowlogic", annotation=span)]
    return Flow.model_validate(flow(*steps, trigger=CASE_OPENED))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "condition"),
    [
        ("if they are entitled", "{{1.entitled}}=true"),
        ("if the account is not entitled", "{{1.entitled}}=false"),
        ("with no active entitlement", "{{1.entitled}}=false"),
        ("if it does", "{{1.entitled}}=true"),
        # words about something else: the model's test
        ("if the case is priority 1", None),
    ],
)
def test_an_if_after_a_check_tests_its_outcome(span: str, condition: str | None) -> None:
    csm = shipped_catalogs()["globex-csm"]
    given = check_outcome(_outline(span, CHECKED), 2, csm)
    assert (given or {}).get("condition") == condition


@pytest.mark.unit
def test_only_right_after_the_check() -> None:
    """A step between the check and the IF, or an IF first in its block, is the model's
    to test."""
    csm = shipped_catalogs()["globex-csm"]
    between = step(2, "update_record", annotation="set the case to Awaiting Info")
    assert check_outcome(_outline("if they are entitled", CHECKED, between), 3, csm) is None
    assert check_outcome(_outline("if they are entitled"), 1, csm) is None


@pytest.mark.unit
def test_every_gold_if_after_a_check_is_given_as_gold_has_it() -> None:
    """The hand-written and synthetic train and dev gold flows: every IF or ELSEIF the rule
    gives a condition tests what gold tests (18 hand-written, none synthetic)."""
    catalogs = shipped_catalogs()
    given = 0
    for case in gold_cases("handwritten", "synthetic"):
        gold = Flow.model_validate(case.flow)
        for comp in gold.components:
            found = check_outcome(gold, comp.order, catalogs[case.installation])
            if found is not None:
                given += 1
                assert found["condition"] == inputs_of(comp.model_dump())["condition"], case.id
    assert given >= 15
