"""An IF on an approval's outcome, given by its words (graph/approval_outcome.py): after an
Ask for Approval, "if they reject it" tests `approval_state` for `rejected`."""

from __future__ import annotations

from typing import Any

import pytest
from flows import DATA, flow, generated, inputs_of, shipped_catalogs, step

from flowgen.flow.catalog import Catalog
from flowgen.flow.model import Flow
from flowgen.graph.approval_outcome import approval_outcome
from flowgen.training.cases import read_cases

ASKED = step(
    1,
    "ask_for_approval",
    annotation="ask the CAB for approval",
    table_name="change_request",
    record="{{trigger.current}}",
)
CHANGE_APPROVAL = ("record_update", {"table": "change_request", "condition": "riskCHANGESTO1"})


def _outline(span: str, *before: dict[str, Any]) -> Flow:
    steps = [*before, step(len(before) + 1, "IF", category="flowlogic", annotation=span)]
    return Flow.model_validate(flow(*steps, trigger=CHANGE_APPROVAL))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "condition"),
    [
        ("if they reject it", "{{1.approval_state}}=rejected"),
        ("If the CAB approves", "{{1.approval_state}}=approved"),
        ("once approval is granted", "{{1.approval_state}}=approved"),
        ("if it is denied", "{{1.approval_state}}=rejected"),
        # a negation, both outcomes, or neither: the model writes it
        ("if they don't approve", None),
        ("if it is approved or rejected within a day", None),
        ("if the risk is still high", None),
    ],
)
def test_an_if_after_an_approval_tests_the_outcome_its_words_say(
    catalog: Catalog, span: str, condition: str | None
) -> None:
    given = approval_outcome(_outline(span, ASKED), 2, catalog)
    assert (given or {}).get("condition") == condition


@pytest.mark.unit
def test_no_approval_asked_gives_nothing(catalog: Catalog) -> None:
    assert approval_outcome(_outline("if approved"), 1, catalog) is None


@pytest.mark.unit
def test_every_gold_approval_outcome_is_the_one_given() -> None:
    """Every IF and ELSEIF of the hand-written and synthetic train and dev flows that the
    rule answers is answered as gold (756 of them)."""
    installations = shipped_catalogs()
    answered = 0
    for name in ("handwritten", "synthetic"):
        for case in read_cases([DATA / f"{name}.jsonl"]):
            if case.split not in ("train", "dev") or not case.flow:
                continue
            outline = Flow.model_validate(case.flow)
            for comp in outline.components:
                given = approval_outcome(outline, comp.order, installations[case.installation])
                if given is not None:
                    answered += 1
                    condition = {i.name: i.value for i in comp.inputs}.get("condition")
                    assert given["condition"] == condition, (case.id, comp.annotation)
    assert answered >= 700


def test_the_graph_gives_the_outcome_without_asking_the_model(synced_store: Any) -> None:
    answered = flow(
        ASKED,
        step(
            2,
            "IF",
            category="flowlogic",
            annotation="if they reject it",
            condition="{{1.approval_state}}=approved",
        ),
        step(
            3,
            "update_record",
            block=2,
            annotation="cancel the change",
            table_name="change_request",
            record="{{trigger.current}}",
            values="state=4",
        ),
        trigger=CHANGE_APPROVAL,
        annotation="When a change request's risk is set to Very High",
    )
    result = generated(
        synced_store,
        answered,
        "When a change request's risk is set to Very High, ask the CAB for approval, and"
        " cancel the change if they reject it.",
    )
    assert result is not None
    assert inputs_of(result["components"][1])["condition"] == "{{1.approval_state}}=rejected"
