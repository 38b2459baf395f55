"""A record trigger's words that compare a field with a number give its condition
(graph/trigger_threshold.py): on the shipped catalogs, on every gold trigger of the train
and dev splits, and through the graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from flows import replayed, updates_its_record

from flowgen.flow.catalog import load_catalog
from flowgen.flow.model import FlowInput
from flowgen.graph.trigger_threshold import said_threshold, threshold_trigger
from flowgen.shipped import catalogs
from flowgen.training.cases import read_cases

REPO = Path(__file__).resolve().parent.parent
CATALOGS = {installation: load_catalog(path) for installation, path in catalogs().items()}
SECURITY_INCIDENT = "sn_si_incident"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "said"),
    [
        ("risk score goes above 80", (">", "80")),
        ("its CVSS score is 9.0 or higher", (">=", "9")),
        ("reopened more than twice", (">", "2")),
        ("more than two times", (">", "2")),
        ("risk score dropped < 30", ("<", "30")),
        ("no more than 3 attempts", ("<=", "3")),
        ("at least 5 engines", (">=", "5")),
        # a number of days is a date's test; no number, no threshold
        ("open for more than 3 days", None),
        ("more than 75% of the SLA", None),
        ("when the score goes up", None),
    ],
)
def test_the_words_comparison_and_number(span: str, said: tuple[str, str] | None) -> None:
    found = said_threshold(span)
    assert (found[1:] if found else None) == said


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "trigger", "table", "span", "condition", "compared"),
    [
        # the model's guess on a field the words never name gives way
        (
            "initech-secops",
            "record_update",
            SECURITY_INCIDENT,
            "When a security incident's risk score goes above 80",
            "u_war_roomCHANGESTOtrue",
            "risk_score>80",
        ),
        # a field said to change is a change as well
        (
            "initech-secops",
            "record_update",
            SECURITY_INCIDENT,
            "sec incident risk score dropped < 30",
            "severityCHANGESTO3",
            "risk_scoreCHANGES^risk_score<30",
        ),
        # a term on the field or of the number goes; a term the words name stays
        (
            "initech-secops",
            "record_create",
            SECURITY_INCIDENT,
            "When a malware incident is created with a risk score of at least 70",
            "category=malware^risk_score=70",
            "category=malware^risk_score>=70",
        ),
        (
            "acme-itsm",
            "record_update",
            "incident",
            "reopen an incident more than twice",
            "stateCHANGESTO7",
            "reopen_count>2",
        ),
        # a comparison written already stays, and so do words naming no field
        (
            "initech-secops",
            "record_update",
            SECURITY_INCIDENT,
            "When a security incident's risk score goes above 80",
            "risk_score>=80",
            None,
        ),
        (
            "globex-csm",
            "record_create",
            "u_warranty_claim",
            "When a warranty claim is accepted for more than one product",
            "u_statusCHANGESTOaccepted",
            None,
        ),
    ],
)
def test_a_trigger_compares_the_field_its_words_name(
    installation: str,
    trigger: str,
    table: str,
    span: str,
    condition: str,
    compared: str | None,
) -> None:
    inputs = [FlowInput(name="table", value=table), FlowInput(name="condition", value=condition)]
    out, change = threshold_trigger(trigger, inputs, span, CATALOGS[installation].columns)
    assert {i.name: i.value for i in out}["condition"] == (compared or condition)
    assert bool(change) == (compared is not None)


@pytest.mark.unit
def test_gold_triggers_keep_their_conditions() -> None:
    """Replayed on every gold trigger of the hand-written, rephrased and synthetic train
    and dev cases: no condition changes, the gold thresholds included."""
    seen = 0
    files = ("handwritten.jsonl", "rephrased/cases.jsonl", "synthetic.jsonl")
    for case in read_cases([REPO / "data" / name for name in files]):
        trigger = (case.flow or {}).get("trigger") or {}
        if case.split not in ("train", "dev") or case.installation not in CATALOGS:
            continue
        inputs = [FlowInput(**i) for i in trigger.get("inputs", [])]
        columns = CATALOGS[case.installation].columns
        _, change = threshold_trigger(
            trigger.get("type"), inputs, trigger.get("annotation") or "", columns
        )
        assert change is None, (case.id, change)
        seen += 1
    assert seen > 3000


def test_the_graph_writes_the_threshold_the_words_say(synced_store) -> None:
    """Through the graph with a replayed answer: the model's guess becomes the comparison."""
    span = "When an incident has been reopened more than twice"
    answered = updates_its_record(
        ("record_update", {"table": "incident", "condition": "stateCHANGESTO7"}),
        span,
        "set its priority to 1 - Critical",
        "priority=1",
    )
    result, replay = replayed(synced_store, answered, f"{span}, set its priority to 1 - Critical")
    assert replay.rejections == []
    assert result.flow is not None
    trigger = {i["name"]: i["value"] for i in result.flow["trigger"]["inputs"]}
    assert trigger["condition"] == "reopen_count>2"
