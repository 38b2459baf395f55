"""FlowSim equals ServiceNow's published reference (StarFlow `flow_similarity.py`) on
every stored pair, outline and full. The reference values were computed with the
reference code by benchmarks/flowsim_reference.py (`--write`), which also re-checks them
against a checkout of StarFlow."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from flowgen.metrics.flowsim import flowsim

PAIRS = REPO / "tests" / "data" / "flowsim_reference" / "pairs.jsonl"
TOLERANCE = 1e-9


def load_pairs() -> list[dict]:
    return [json.loads(line) for line in PAIRS.read_text(encoding="utf-8").splitlines() if line]


def test_enough_pairs_of_every_kind() -> None:
    pairs = load_pairs()
    assert len(pairs) >= 300
    kinds = {p["kind"] for p in pairs}
    for wanted in (
        "identical",
        "drop_step",
        "rename_step",
        "reorder_steps",
        "renest_step",
        "edit_condition",
        "edit_value",
        "change_trigger",
        "starflow_subflow",
        "starflow_vs_flow",
        "unparseable",
        "empty_text",
        "empty_object",
    ):
        assert wanted in kinds


@pytest.mark.parametrize("variant", ["outline", "full"])
def test_every_pair_agrees_with_the_reference(variant: str) -> None:
    disagreements = []
    for pair in load_pairs():
        ours = flowsim(pair["pred"], pair["gold"], variant)  # type: ignore[arg-type]
        expected = pair["reference"][variant]
        if abs(ours - expected) > TOLERANCE:
            disagreements.append((pair["id"], pair["kind"], ours, expected))
    assert not disagreements, f"{len(disagreements)} pair(s) differ: {disagreements[:10]}"


def test_decoded_gold_scores_like_its_text() -> None:
    # The scorer passes gold flows as decoded JSON, the reference gets text.
    for pair in load_pairs()[:80]:
        for variant in ("outline", "full"):
            gold = json.loads(pair["gold"])
            assert flowsim(pair["pred"], gold, variant) == flowsim(  # type: ignore[arg-type]
                pair["pred"],
                pair["gold"],
                variant,  # type: ignore[arg-type]
            )
