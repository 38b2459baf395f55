"""A record trigger's condition operators set by the trigger (graph/trigger_condition.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from flowgen.flow.encoded_query import parse_query
from flowgen.flow.model import FlowInput
from flowgen.graph.trigger_condition import CHANGE_OPERATORS, settle_change_operators

REPO = Path(__file__).resolve().parent.parent


def settled(trigger: str, condition: str) -> str:
    inputs = [
        FlowInput(name="table", value="incident"),
        FlowInput(name="condition", value=condition),
    ]
    out, _ = settle_change_operators(trigger, inputs)
    assert out[0] == inputs[0]
    return out[1].value


@pytest.mark.unit
@pytest.mark.parametrize(
    ("trigger", "condition", "expected"),
    [
        # an update that names no change: its first plain term is the change
        ("record_update", "u_verdict=phishing", "u_verdictCHANGESTOphishing"),
        (
            "record_update",
            "priority=1^ORpriority=2^category=network",
            "priorityCHANGESTO1^ORpriority=2^category=network",
        ),
        # a change already named, or nothing to make one of: as written
        ("record_update", "stateCHANGESTO6^priority=1", "stateCHANGESTO6^priority=1"),
        ("record_update", "assigned_toCHANGES", "assigned_toCHANGES"),
        ("record_update", "risk_score>80", "risk_score>80"),
        (
            "record_update",
            "caller_id={{trigger.current.opened_by}}",
            "caller_id={{trigger.current.opened_by}}",
        ),
        # an insert changes nothing: CHANGESTO means =
        ("record_create", "attack_vectorCHANGESTOweb^severity=1", "attack_vector=web^severity=1"),
        ("record_create", "category=network", "category=network"),
        # other triggers are left alone
        ("record_create_or_update", "stateCHANGESTO6", "stateCHANGESTO6"),
    ],
)
def test_the_trigger_decides_whether_its_condition_names_a_change(
    trigger: str, condition: str, expected: str
) -> None:
    assert settled(trigger, condition) == expected


@pytest.mark.unit
def test_the_gold_conditions_of_the_corpus_are_already_settled() -> None:
    """Every hand-written record_create condition, and every record_update one that
    names a change, stays as written (the rule is the corpus's own convention)."""
    checked = 0
    for line in (REPO / "data" / "handwritten.jsonl").read_text().splitlines():
        flow = json.loads(line).get("flow") or {}
        trigger = flow.get("trigger") or {}
        for given in trigger.get("inputs", []):
            if given["name"] != "condition":
                continue
            ops = {t.operator for t in parse_query(given["value"])}
            if trigger["type"] == "record_update" and not ops & set(CHANGE_OPERATORS):
                continue  # the few that state no change (e.g. risk_score>80)
            checked += 1
            assert settled(trigger["type"], given["value"]) == given["value"]
    assert checked > 300
