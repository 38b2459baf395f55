"""A record trigger's condition terms its words never name are dropped
(graph/unnamed_terms.py): on the shipped catalogs, on every gold record trigger of the
train and dev splits, and through the graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from flows import flow, step

from flowgen.flow.catalog import load_catalog
from flowgen.graph.unnamed_terms import drop_unnamed_terms
from flowgen.shipped import catalogs
from flowgen.training.cases import read_cases

REPO = Path(__file__).resolve().parent.parent
CATALOGS = {installation: load_catalog(path) for installation, path in catalogs().items()}
CASE = "sn_customerservice_case"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "table", "span", "condition", "kept"),
    [
        # padding the words never ask for
        ("globex-csm", CASE, "case closed", "stateCHANGESTO3^channel=chat", "stateCHANGESTO3"),
        (
            "globex-csm",
            CASE,
            "Mirror every billing case to Salesforce when it is created",
            "productISNOTEMPTY^category=billing",
            "category=billing",
        ),
        # a word of a dot-walked field ("account") or of the value's label ("gold") names it
        (
            "globex-csm",
            CASE,
            "Whenever a gold or platinum account's case breaches its SLA",
            "u_sla_breachedCHANGESTOtrue^account.customer_tierINgold,platinum",
            "u_sla_breachedCHANGESTOtrue^account.customer_tierINgold,platinum",
        ),
        # "P1" names priority 1
        (
            "acme-itsm",
            "incident",
            "When a P1 incident is created",
            "priority=1^category=network",
            "priority=1",
        ),
        # nothing named: the model's condition stands
        ("acme-itsm", "incident", "when it is created", "category=network", "category=network"),
        # OR is left alone
        (
            "acme-itsm",
            "incident",
            "When a P1 incident is created",
            "priority=1^ORcategory=network",
            "priority=1^ORcategory=network",
        ),
    ],
)
def test_a_trigger_condition_keeps_the_terms_its_span_names(
    installation: str, table: str, span: str, condition: str, kept: str
) -> None:
    got, dropped = drop_unnamed_terms(condition, table, span, CATALOGS[installation].columns)
    assert got == kept
    assert len(dropped) == condition.count("^") + 1 - (kept.count("^") + 1)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "table", "label", "span", "condition", "kept"),
    [
        # the table's own words name the table, not a field of it
        (
            "globex-csm",
            "sn_customerservice_escalation",
            None,
            "When an escalation is approved",
            "escalation_managerCHANGESTOtrue^state=approved",
            "state=approved",
        ),
    ],
)
def test_the_tables_own_words_name_no_field(
    installation: str, table: str, label: str | None, span: str, condition: str, kept: str
) -> None:
    columns = CATALOGS[installation].columns
    assert drop_unnamed_terms(condition, table, span, columns, label)[0] == kept


@pytest.mark.unit
def test_gold_trigger_conditions_are_almost_never_cut() -> None:
    """Replayed on the hand-written gold record triggers of train and dev: the words of
    the span name every term of 291 of their 309 conditions (the 18 others hold a term
    the expert left implicit, such as `affected_hostISNOTEMPTY` for a containment)."""
    seen = changed = 0
    for case in read_cases([REPO / "data" / "handwritten.jsonl"]):
        if case.split not in ("train", "dev") or case.installation not in CATALOGS:
            continue
        trigger = (case.flow or {}).get("trigger") or {}
        values = {i["name"]: i["value"] for i in trigger.get("inputs", [])}
        if not values.get("table") or not values.get("condition"):
            continue
        seen += 1
        columns = CATALOGS[case.installation].columns
        _, dropped = drop_unnamed_terms(
            values["condition"], values["table"], trigger.get("annotation") or "", columns
        )
        changed += bool(dropped)
    assert seen > 300
    assert changed / seen < 0.08, (changed, seen)


def test_the_graph_drops_what_the_trigger_span_never_names(synced_store) -> None:
    """Through the graph with a replayed answer: the padding term goes, and with it the
    only change, so the named term left becomes the change (graph/trigger_condition.py)."""
    from flowgen.flow.model import Flow
    from flowgen.graph.generator import FlowGenerator
    from flowgen.training.replay import ReplayEngine

    answered = Flow.model_validate(
        flow(
            step(
                1,
                "update_record",
                annotation="note it in the work notes",
                table_name="incident",
                record="{{trigger.current}}",
                values="work_notes=Closed",
            ),
            trigger=(
                "record_update",
                {"table": "incident", "condition": "caller_idCHANGES^state=7"},
            ),
            annotation="When an incident is set to closed",
        )
    )
    replay = ReplayEngine(answered)
    result = FlowGenerator(
        "acme-itsm", store=synced_store, engine=replay, checkpoints=False, guard=None
    ).generate("When an incident is set to closed, note it in the work notes")
    assert replay.rejections == []
    assert result.flow is not None
    trigger = {i["name"]: i["value"] for i in result.flow["trigger"]["inputs"]}
    assert trigger["condition"] == "stateCHANGESTO7"
