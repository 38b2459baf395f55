"""An update on the record its words name through the trigger's record
(graph/named_record.py): "add a work note to the case" of an RMA's flow updates the RMA's
case. Checked on the shipped catalogs, the gold updates of train and dev, and through the
graph's inputs grammar."""

from __future__ import annotations

from typing import Any

import pytest
from flows import (
    flow,
    gold_steps,
    grammar_rejections,
    inputs_of,
    labelled_tables,
    shipped_catalogs,
    step,
)

from flowgen.flow.model import Flow
from flowgen.flow.validator import PillRoot, pill_roots
from flowgen.graph.named_record import named_record

CATALOGS = shipped_catalogs()
TABLES = {installation: labelled_tables(catalog) for installation, catalog in CATALOGS.items()}


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


@pytest.mark.unit
def test_gold_updates_with_a_named_record_update_it() -> None:
    """Hand-written and synthetic train and dev updates: where the rule names a record,
    gold updates it, for all but one hand-written update (a comment "to the contact"
    on the case), and it names none of the synthetic ones."""
    named = {"handwritten": 0, "synthetic": 0}
    wrong = dict.fromkeys(named, 0)
    for name in named:
        for case, comp in gold_steps(name):
            if comp["definition"] != "update_record" or case.installation not in TABLES:
                continue
            catalog = CATALOGS[case.installation]
            outline = Flow.model_validate(case.flow)
            found = named_record(
                comp.get("annotation") or "",
                pill_roots(outline, catalog, comp["order"], "record"),
                TABLES[case.installation],
                catalog,
            )
            if found is not None:
                named[name] += 1
                gold = inputs_of(comp)
                wrong[name] += found != (gold.get("table_name"), gold.get("record"))
    assert named["handwritten"] >= 20 and wrong["handwritten"] <= 1
    assert named["synthetic"] == 0


def test_the_inputs_grammar_admits_only_the_named_record(synced_store: Any) -> None:
    """Through the graph, answers replayed against each call's grammar: the update of
    the trigger's incident task is refused where its words name the parent incident."""
    answered = flow(
        step(
            1,
            "update_record",
            annotation="move the parent incident to resolved",
            table_name="incident_task",
            record="{{trigger.current}}",
            values="state=3",
        ),
        trigger=("record_update", {"table": "incident_task", "condition": "stateCHANGESTO3"}),
        annotation="When an incident task is closed",
    )
    rejected = grammar_rejections(
        synced_store,
        answered,
        "When an incident task is closed, move the parent incident to resolved",
    )
    assert sorted(rejected) == ["step 1"], rejected
