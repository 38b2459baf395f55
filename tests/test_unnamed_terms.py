"""A record trigger's condition terms its words never name are dropped
(graph/unnamed_terms.py): on the shipped catalogs, on every gold record trigger of the
train and dev splits, and through the graph."""

from __future__ import annotations

from pathlib import Path

import pytest
from flows import flow, step

from flowgen.flow.catalog import load_catalog
from flowgen.flow.model import FlowInput
from flowgen.graph.unnamed_terms import drop_unnamed_terms, unnamed_change_values
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


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "table", "span", "condition", "settled"),
    [
        # a date, a reference: the words name the field and no value, so the change is
        (
            "acme-itsm",
            "incident_task",
            "Once a follow-up date is entered on an incident task",
            "follow_upCHANGESTO-1",
            "follow_upCHANGES",
        ),
        (
            "initech-secops",
            "sn_si_incident",
            "Upon any change to the affected user of a security incident",
            "affected_userCHANGESTOactive^category=malware",
            "affected_userCHANGES^category=malware",
        ),
        # a value the words name stays
        (
            "acme-itsm",
            "sys_user",
            "when a user's department changes to Platform",
            "departmentCHANGESTOPlatform",
            "departmentCHANGESTOPlatform",
        ),
        # a choice, a number, a true or false are said in other words ("implemented",
        # "a second time", "becomes inactive")
        ("acme-itsm", "change_request", "When a change is implemented", "stateCHANGESTO0", None),
        ("acme-itsm", "incident", "escalated a second time", "escalationCHANGESTO2", None),
        ("acme-itsm", "sys_user", "a user becomes inactive", "activeCHANGESTOfalse", None),
        # a field the words never name is the model's guess, its value perhaps the words'
        (
            "initech-secops",
            "sn_si_incident",
            "the incident's war room",
            "u_war_roomCHANGESTOtrue",
            None,
        ),
    ],
)
def test_a_change_to_a_value_the_words_never_name_is_a_change(
    installation: str, table: str, span: str, condition: str, settled: str | None
) -> None:
    inputs = [FlowInput(name="table", value=table), FlowInput(name="condition", value=condition)]
    out, made = unnamed_change_values(inputs, span, CATALOGS[installation].columns)
    assert {i.name: i.value for i in out}["condition"] == (settled or condition)
    assert bool(made) == (settled is not None and settled != condition)


@pytest.mark.unit
def test_no_gold_change_is_made_a_change_to_anything() -> None:
    """Every record_update trigger of the hand-written and synthetic gold flows keeps its
    condition: where the experts wrote a text, reference or date value the words name it."""
    seen = 0
    for name in ("handwritten", "synthetic"):
        for case in read_cases([REPO / "data" / f"{name}.jsonl"]):
            trigger = (case.flow or {}).get("trigger") or {}
            if trigger.get("type") != "record_update" or case.installation not in CATALOGS:
                continue
            inputs = [FlowInput(**i) for i in trigger.get("inputs", [])]
            columns = CATALOGS[case.installation].columns
            _, made = unnamed_change_values(inputs, trigger.get("annotation") or "", columns)
            assert not made, case.id
            seen += 1
    assert seen > 1000


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
