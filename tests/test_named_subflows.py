"""A step whose words run "the X subflow" is the installation's subflow X names
(graph/named_subflows.py)."""

from __future__ import annotations

import pytest
from flows import flow, gold_cases, shipped_catalogs, step

from flowgen.flow.model import Flow
from flowgen.graph.named_subflows import name_subflows, named_subflow
from flowgen.graph.outline_repair import repair_outline

ACME = {
    "notify_major_incident_team": "Notify Major Incident Team",
    "offboard_user": "Offboard User",
    "provision_laptop": "Provision Laptop",
    "escalate_to_manager": "Escalate to Manager",
    "grant_application_access": "Grant Application Access",
}


@pytest.mark.parametrize(
    ("span", "subflow"),
    [
        ("run the offboarding subflow for them", "offboard_user"),
        ("run the major incident team subflow", "notify_major_incident_team"),
        ("escalate it to the manager with the escalation subflow", "escalate_to_manager"),
        ("calls the Provision Laptop sub-flow for the requested item", "provision_laptop"),
        ("run the subflow", None),  # no name
        ("run the onboarding subflow", None),  # none of these
        ("offboard them", None),  # no subflow said
    ],
)
def test_the_words_before_subflow_name_it(span: str, subflow: str | None) -> None:
    assert named_subflow(span, ACME) == subflow


def outline(*steps: dict) -> Flow:
    trigger = ("record_update", {"table": "sn_si_incident"})
    return Flow.model_validate(
        flow(*steps, trigger=trigger, annotation="When it is set to Contain")
    )


def test_the_step_becomes_the_subflow() -> None:
    written = outline(
        step(1, "suspend_okta_user", annotation="Suspend the user's Okta login"),
        step(2, "create_record", annotation="Run the compromised-account containment subflow"),
    )
    catalog = shipped_catalogs()["initech-secops"]
    new, renamed = name_subflows(written, catalog)
    assert renamed == ["2: create_record -> contain_compromised_account"]
    comp = new.components[1]
    assert (comp.definition, comp.category, comp.scope) == (
        "contain_compromised_account",
        "subflow",
        "x_initech_soc",
    )
    assert new.components[0] == written.components[0]
    changes = repair_outline(written, catalog)[1]
    assert changes["subflows_named"] == renamed


def test_no_gold_step_changes() -> None:
    catalogs = shipped_catalogs()
    named = 0
    for case in gold_cases("handwritten", "synthetic"):
        if case.installation not in catalogs:
            continue
        gold = Flow.model_validate(case.flow)
        assert name_subflows(gold, catalogs[case.installation])[1] == [], case.id
        named += sum(
            c.category == "subflow" and "subflow" in (c.annotation or "") for c in gold.components
        )
    assert named == 19
