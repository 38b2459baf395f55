"""An email goes to the address its words give (graph/named_address.py)."""

from __future__ import annotations

import pytest
from flows import flow, generated, gold_steps, inputs_of, step

from flowgen.flow.model import FlowInput
from flowgen.graph.named_address import RECIPIENT, named_address, send_to_named_address


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "address"),
    [
        ("email iam@initech.example with the number of users found", "iam@initech.example"),
        (
            "sends an email to the privacy office at privacy@initech.example.",
            "privacy@initech.example",
        ),
        # the sender's mailbox, two addresses, none: the words do not say whom
        ("reply to the sender from the servicedesk@acme.example shared mailbox", None),
        ("email hr@acme.example and it@acme.example", None),
        ("email the assignment group's manager", None),
    ],
)
def test_the_address_a_span_sends_to(span: str, address: str | None) -> None:
    assert named_address(span) == address


@pytest.mark.unit
def test_the_recipient_becomes_the_named_address() -> None:
    written = [
        FlowInput(name=RECIPIENT, value="{{2.item.manager.email}}"),
        FlowInput(name="ah_subject", value="Domain admins"),
    ]
    inputs, changed = send_to_named_address(written, "email iam@initech.example the count")
    assert {i.name: i.value for i in inputs} == {
        RECIPIENT: "iam@initech.example",
        "ah_subject": "Domain admins",
    }
    assert changed == ["{{2.item.manager.email}} -> iam@initech.example"]
    assert send_to_named_address(written, "email the manager") == (written, [])


@pytest.mark.unit
def test_gold_emails_go_to_the_address_their_words_give() -> None:
    seen = 0
    for _, comp in gold_steps("handwritten"):
        address = named_address(comp.get("annotation") or "")
        if comp["definition"] != "send_email" or address is None:
            continue
        seen += 1
        assert inputs_of(comp)[RECIPIENT] == address
    assert seen >= 5


def test_the_graph_sends_to_the_named_address(synced_store) -> None:
    """Through the graph with a replayed answer that wrote a pill for the recipient."""
    answered = flow(
        step(
            1,
            "send_email",
            annotation="email major-incidents@acme.example the incident number",
            ah_to="{{trigger.current.assigned_to.email}}",
            ah_subject="{{trigger.current.number}}",
        ),
        trigger=("record_create", {"table": "incident"}),
        annotation="When an incident is created",
    )
    result = generated(
        synced_store,
        answered,
        "When an incident is created, email major-incidents@acme.example the number",
    )
    assert result is not None
    sent = inputs_of(result["components"][0])
    assert sent[RECIPIENT] == "major-incidents@acme.example"
    assert sent["ah_subject"] == "{{trigger.current.number}}"
