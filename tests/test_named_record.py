"""An update on the record its words name through the trigger's record
(graph/named_record.py): "add a work note to the case" of an RMA's flow updates the RMA's
case; and on the trigger's own record named (`named_trigger_record`): "link it on the
report" of a phishing report's flow updates the report. Checked on the shipped catalogs,
the gold updates of train and dev, and through the graph's inputs grammar."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flows import (
    flow,
    gold_steps,
    grammar_rejections,
    inputs_of,
    shipped_catalogs,
    step,
    updates_its_record,
)

from flowgen.flow.model import Flow
from flowgen.flow.validator import PillRoot, pill_roots
from flowgen.graph.named_record import named_record, named_trigger_record
from flowgen.graph.named_table import labelled_tables

CATALOGS = shipped_catalogs()
TABLES = {installation: labelled_tables(catalog) for installation, catalog in CATALOGS.items()}
TRIGGER = "{{trigger.current}}"


def _named(
    installation: str, trigger_table: str, span: str, *others: PillRoot
) -> tuple[str, str] | None:
    pills = [PillRoot("trigger.current", "record", trigger_table), *others]
    return named_record(span, pills, TABLES[installation], CATALOGS[installation])


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "trigger_table", "span", "named"),
    [
        (
            "globex-csm",
            "x_globex_rma",
            "add a work note to the case",
            ("sn_customerservice_case", "{{trigger.current.case}}"),
        ),
        (
            "acme-itsm",
            "incident_task",
            "move the parent incident to resolved",
            ("incident", "{{trigger.current.incident}}"),
        ),
        (
            "initech-secops",
            "u_phishing_report",
            "mark the linked security incident high severity",
            ("sn_si_incident", "{{trigger.current.u_security_incident}}"),
        ),
        # the trigger's own table, an assignee's, or a table after "it": none
        ("globex-csm", "x_globex_rma", "close the RMA", None),
        ("acme-itsm", "incident", "set the assignment group to Network Operations", None),
        ("globex-csm", "sn_customerservice_case", "assign it to the account manager", None),
    ],
)
def test_an_update_works_on_the_record_its_words_name(
    installation: str, trigger_table: str, span: str, named: tuple[str, str] | None
) -> None:
    assert _named(installation, trigger_table, span) == named


@pytest.mark.unit
def test_another_record_in_scope_leaves_the_choice_to_the_model() -> None:
    looped = PillRoot("2.item", "record", "x_globex_rma")
    assert _named("globex-csm", "x_globex_rma", "add a work note to the case", looped) is None


def _gold_updates(name: str) -> Iterator[tuple[str, list[PillRoot], str, tuple[str, str]]]:
    """(span, pills in scope, installation, gold (table_name, record)) for every
    update_record of data/NAME.jsonl's train and dev gold flows on a shipped catalog."""
    for case, comp in gold_steps(name):
        if comp["definition"] != "update_record" or case.installation not in TABLES:
            continue
        catalog = CATALOGS[case.installation]
        pills = pill_roots(Flow.model_validate(case.flow), catalog, comp["order"], "record")
        gold = inputs_of(comp)
        yield (
            comp.get("annotation") or "",
            pills,
            case.installation,
            (
                gold.get("table_name", ""),
                gold.get("record", ""),
            ),
        )


@pytest.mark.unit
def test_gold_updates_with_a_named_record_update_it() -> None:
    """Hand-written and synthetic train and dev updates: where the rule names a record,
    gold updates it, for all but one hand-written update (a comment "to the contact"
    on the case), and it names none of the synthetic ones."""
    named = {"handwritten": 0, "synthetic": 0}
    wrong = dict.fromkeys(named, 0)
    for name in named:
        for span, pills, installation, gold in _gold_updates(name):
            found = named_record(span, pills, TABLES[installation], CATALOGS[installation])
            if found is not None:
                named[name] += 1
                wrong[name] += found != gold
    assert named["handwritten"] >= 20 and wrong["handwritten"] <= 1
    assert named["synthetic"] == 0


def test_the_inputs_grammar_admits_only_the_named_record(synced_store: Any) -> None:
    """Through the graph, answers replayed against each call's grammar: the update of
    the trigger's incident task is refused where its words name the parent incident."""
    answered = updates_its_record(
        ("record_update", {"table": "incident_task", "condition": "stateCHANGESTO3"}),
        "When an incident task is closed",
        "move the parent incident to resolved",
        "state=3",
    )
    rejected = grammar_rejections(
        synced_store,
        answered,
        "When an incident task is closed, move the parent incident to resolved",
    )
    assert sorted(rejected) == ["step 1"], rejected


# -- the trigger's own record ----------------------------------------------------------
def _trigger_named(
    installation: str, trigger_table: str, span: str, *others: PillRoot
) -> tuple[str, str] | None:
    pills = [PillRoot("trigger.current", "record", trigger_table), *others]
    return named_trigger_record(span, pills, TABLES[installation])


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "trigger_table", "span", "named"),
    [
        ("initech-secops", "u_phishing_report", "link it on the report", "u_phishing_report"),
        (
            "initech-secops",
            "u_phishing_report",
            "set the report verdict to phishing",
            "u_phishing_report",
        ),
        ("globex-csm", "x_globex_rma", "mark the RMA received", "x_globex_rma"),
        # "onboarding req" written out
        (
            "acme-itsm",
            "x_acme_onboarding_request",
            "put the REQ number in the onboarding req work notes",
            "x_acme_onboarding_request",
        ),
        # another table named besides: the model chooses
        (
            "globex-csm",
            "sn_customerservice_escalation",
            "add a work note on the case with the escalation reason",
            None,
        ),
        # the trigger's table not named after a determiner
        ("initech-secops", "u_phishing_report", "raise the incident to high severity", None),
        ("initech-secops", "u_phishing_report", "close it", None),
    ],
)
def test_an_update_names_the_triggers_own_record(
    installation: str, trigger_table: str, span: str, named: str | None
) -> None:
    assert _trigger_named(installation, trigger_table, span) == (
        (named, TRIGGER) if named else None
    )


@pytest.mark.unit
def test_another_record_of_the_table_or_a_loop_leaves_the_choice_to_the_model() -> None:
    looked_up = PillRoot("1.record", "record", "u_phishing_report")
    looped = PillRoot("2.item", "record", "sn_ti_observable")
    span = "mark the report clean"
    assert _trigger_named("initech-secops", "u_phishing_report", span, looked_up) is None
    assert _trigger_named("initech-secops", "u_phishing_report", span, looped) is None


@pytest.mark.unit
def test_gold_updates_that_name_the_triggers_record_update_it() -> None:
    """Hand-written train and dev updates whose span names the trigger's own record (and
    no record through it, `named_record`'s case) update `{{trigger.current}}` on its
    table, every one of them; no synthetic update is named so."""
    named = {"handwritten": 0, "synthetic": 0}
    wrong = dict.fromkeys(named, 0)
    for name in named:
        for span, pills, installation, gold in _gold_updates(name):
            if named_record(span, pills, TABLES[installation], CATALOGS[installation]):
                continue
            found = named_trigger_record(span, pills, TABLES[installation])
            if found is not None:
                named[name] += 1
                wrong[name] += found != gold
    assert named["handwritten"] >= 60 and wrong["handwritten"] == 0
    assert named["synthetic"] == 0


ONBOARDING = (
    "When an onboarding request is created, open an incident for the laptop and link it"
    " on the onboarding request"
)


def _onboarding_flow(table_name: str, values: str) -> dict[str, Any]:
    return flow(
        step(
            1,
            "create_record",
            annotation="open an incident for the laptop",
            table_name="incident",
            values="short_description=Laptop",
        ),
        step(
            2,
            "update_record",
            annotation="link it on the onboarding request",
            table_name=table_name,
            record=TRIGGER,
            values=values,
        ),
        trigger=("record_create", {"table": "x_acme_onboarding_request"}),
        annotation="When an onboarding request is created",
    )


def test_the_inputs_grammar_admits_only_the_triggers_record(synced_store: Any) -> None:
    """Through the graph, answers replayed against each call's grammar: the update written
    on the incident just created is refused, the one on the onboarding request admitted."""
    on_incident = _onboarding_flow("incident", "work_notes=Laptop")
    on_request = _onboarding_flow("x_acme_onboarding_request", "work_notes=Laptop")
    refused = grammar_rejections(synced_store, on_incident, ONBOARDING)
    admitted = grammar_rejections(synced_store, on_request, ONBOARDING)
    assert sorted(refused) == ["step 2"], refused
    assert admitted == {}, admitted
