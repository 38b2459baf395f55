"""The recipient a message's words name (graph/named_recipient.py): "email the manager of
its assignment group" is `{{trigger.current.assignment_group.manager.email}}`."""

from __future__ import annotations

import pytest
from flows import DATA, shipped_catalogs

from flowgen.flow.model import Flow, FlowInput
from flowgen.flow.validator import PillRoot, pill_roots
from flowgen.graph.named_recipient import RECIPIENTS, send_to_named_recipient
from flowgen.training.cases import read_cases

CATALOGS = shipped_catalogs()
ACME = CATALOGS["acme-itsm"]
INCIDENT = [PillRoot("trigger.current", "record", "incident")]


def _sent_to(span: str, written: str = "{{trigger.current.opened_by.email}}") -> str:
    inputs = [FlowInput(name="ah_to", value=written), FlowInput(name="ah_subject", value="x")]
    new, _ = send_to_named_recipient("send_email", inputs, span, INCIDENT, ACME.columns)
    return next(i.value for i in new if i.name == "ah_to")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "recipient"),
    [
        ("email the manager of its assignment group", "assignment_group.manager.email"),
        ("email the assignment group's manager", "assignment_group.manager.email"),
        ("remind the group lead by email", "assignment_group.manager.email"),
        ("email the assignee", "assigned_to.email"),
        ("tell the caller by email", "caller_id.email"),
        # no one named, or a generic word: the model's recipient stays
        ("send an email with the incident number", "opened_by.email"),
        ("email the person", "opened_by.email"),
    ],
)
def test_a_message_goes_to_the_person_its_words_name(span: str, recipient: str) -> None:
    assert _sent_to(span) == "{{trigger.current." + recipient + "}}"


@pytest.mark.unit
def test_a_literal_address_stays() -> None:
    assert _sent_to("email the assignee", "ops@acme.example") == "ops@acme.example"


@pytest.mark.unit
def test_gold_recipients_are_the_ones_the_words_name() -> None:
    """Every send_email and send_sms of the hand-written and synthetic train and dev
    flows whose recipient is one pill: where the rule names one, it is gold's for all but
    2 hand-written ones (the requester of the trigger's item where a look-up's record
    also has one; a contact reached through the case)."""
    named = {"handwritten": 0, "synthetic": 0}
    wrong = dict.fromkeys(named, 0)
    for name in named:
        for case in read_cases([DATA / f"{name}.jsonl"]):
            if case.split not in ("train", "dev") or not case.flow:
                continue
            catalog = CATALOGS[case.installation]
            outline = Flow.model_validate(case.flow)
            for comp in outline.components:
                if comp.definition not in RECIPIENTS:
                    continue
                field = RECIPIENTS[comp.definition][0]
                gold = next((i.value for i in comp.inputs if i.name == field), "")
                if not gold.startswith("{{") or gold.count("{{") != 1 or not gold.endswith("}}"):
                    continue
                probe = [FlowInput(name=field, value="{{x.y}}")]
                roots = pill_roots(outline, catalog, comp.order, field)
                new, changes = send_to_named_recipient(
                    comp.definition, probe, comp.annotation or "", roots, catalog.columns
                )
                if changes:
                    named[name] += 1
                    wrong[name] += new[0].value != gold
    assert named["handwritten"] >= 45 and wrong["handwritten"] <= 2
    assert named["synthetic"] >= 2000 and wrong["synthetic"] == 0
