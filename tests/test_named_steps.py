"""The step a span names in so many words (graph/named_steps.py): a core step written over
such a span becomes the step it names, and spans that name nothing are left alone."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowgen.flow.catalog import load_catalog
from flowgen.flow.model import Flow
from flowgen.graph.named_steps import StepCue, name_steps, named_step
from flowgen.shipped import catalogs

REPO = Path(__file__).resolve().parent.parent
STEPS: dict[str, list[dict[str, Any]]] = {
    installation: [s.model_dump() for s in load_catalog(path).steps]
    for installation, path in catalogs().items()
}
CUES = {inst: [StepCue.of(s) for s in steps] for inst, steps in STEPS.items()}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "chosen", "span", "named"),
    [
        (
            "umbrella-workplace",
            "update_record",
            "book a meeting room for 30 people",
            "book_meeting_room",
        ),
        (
            "umbrella-workplace",
            "create_record",
            "reserve a desk near their manager",
            "reserve_desk",
        ),
        (
            "umbrella-workplace",
            "create_task",
            "raise a cleaning work order for the building",
            "create_work_order",
        ),
        (
            "umbrella-workplace",
            "send_email",
            "send the transfer letter through DocuSign",
            "send_envelope",
        ),
        ("umbrella-workplace", "look_up_record", "look up the worker in Workday", "get_worker"),
        ("acme-itsm", "send_email", "text the CISO", "send_sms"),
        (
            "acme-itsm",
            "create_task",
            "create a catalog task for Desktop Support",
            "create_catalog_task",
        ),
        (
            "acme-itsm",
            "update_record",
            "try to open a GitHub issue in acme/platform",
            "create_github_issue",
        ),
        ("acme-itsm", "create_record", "open a war room Slack channel", "create_channel"),
        ("initech-secops", "look_up_records", "look it up in CrowdStrike", "get_device_details"),
        ("initech-secops", "look_up_record", "the affected host in CrowdStrike", "contain_host"),
        ("globex-csm", "update_record", "notify the account team", "notify_account_team"),
        # With the vendor named, sending a message posts it (soc-dev-voices-07).
        ("initech-secops", "update_record", "send slack message in #iam-reviews", "post_message"),
        # A channel written "#name" is a Slack channel (soc-dev-long-04).
        ("initech-secops", "send_email", "post in #access-reviews", "post_message"),
        # A specification's third person stems as the imperative does
        # (itsm-train-long-02-rephrased: "it raises a Jira task").
        ("acme-itsm", "create_record", "raises a Jira task in the PROC project", "create_issue"),
        ("acme-itsm", "update_record", "creates a Jira issue for it", "create_issue"),
        # "currently" is the step's "current" (itsm-train-long-05-rephrased).
        (
            "acme-itsm",
            "look_up_record",
            "check who is currently on call for the Network group",
            "get_current_on_call",
        ),
        # Paging PagerDuty raises a PagerDuty incident (itsm-train-long-05-rephrased).
        (
            "acme-itsm",
            "send_sms",
            "page PagerDuty service PNET01 instead",
            "create_pagerduty_incident",
        ),
    ],
)
def test_a_span_that_names_a_step_gets_it(
    installation: str, chosen: str, span: str, named: str
) -> None:
    assert named_step(span, chosen, CUES[installation]) == named


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "chosen", "span"),
    [
        # A verb further in describes: the span looks up, it books nothing.
        ("umbrella-workplace", "look_up_records", "look up the booked desks on that floor"),
        (
            "globex-csm",
            "look_up_records",
            "Find all RMAs still in the Requested state that were opened",
        ),
        (
            "acme-itsm",
            "update_multiple_records",
            "update the manager of every user to the new head",
        ),
        # A vendor's step needs its vendor: this comment goes on the record, not to Jira.
        ("acme-itsm", "update_record", "add a comment thanking them"),
        # The chosen step is named as well as the other: it stays.
        ("acme-itsm", "send_email", "email the host and text the manager"),
        # Nothing specific named.
        ("acme-itsm", "update_record", "set the priority to 1"),
        # Paging someone by text names no PagerDuty step without PagerDuty.
        ("acme-itsm", "send_sms", "page the on-call manager by SMS"),
    ],
)
def test_a_span_that_names_no_better_step_keeps_its_own(
    installation: str, chosen: str, span: str
) -> None:
    assert named_step(span, chosen, CUES[installation]) is None


@pytest.mark.unit
def test_renamed_steps_take_the_catalog_category_and_scope_and_lose_their_inputs() -> None:
    flow = Flow.model_validate(
        {
            "trigger": {"type": "record_create", "inputs": []},
            "components": [
                {
                    "order": 1,
                    "category": "flowlogic",
                    "definition": "IF",
                    "annotation": "if it is urgent",
                },
                {
                    "order": 2,
                    "block": 1,
                    "category": "action",
                    "definition": "update_record",
                    "annotation": "book a meeting room for the review",
                    "inputs": [{"name": "record", "value": "{{trigger.current}}"}],
                },
                {
                    "order": 3,
                    "category": "action",
                    "definition": "reserve_desk",
                    "scope": "x_umb_workplace",
                    "annotation": "book a meeting room",
                },
                {
                    "order": 4,
                    "category": "action",
                    "definition": "update_record",
                    "annotation": "set the request to in progress",
                },
            ],
        }
    )
    renamed, changes = name_steps(flow, STEPS["umbrella-workplace"])
    assert changes == ["2: update_record -> book_meeting_room"]
    step = next(s for s in STEPS["umbrella-workplace"] if s["name"] == "book_meeting_room")
    comp = renamed.components[1]
    assert (comp.definition, comp.category, comp.scope, comp.block) == (
        "book_meeting_room",
        step["category"],
        step["scope"],
        1,
    )
    assert comp.inputs == []
    # Flow logic, specific steps and spans that name nothing are as they were.
    assert [c.definition for c in renamed.components] == [
        "IF",
        "book_meeting_room",
        "reserve_desk",
        "update_record",
    ]
    assert name_steps(renamed, STEPS["umbrella-workplace"]) == (renamed, [])


@pytest.mark.unit
def test_the_hand_written_flows_are_left_nearly_alone() -> None:
    """The rule renames gold steps in a handful of the hand-written train flows (each a
    span such as "store the Salesforce case ID on the case"), not more."""
    flows = renamed = 0
    for line in (REPO / "data" / "handwritten.jsonl").open(encoding="utf-8"):
        case = json.loads(line)
        if case["split"] != "train" or not case.get("flow"):
            continue
        flows += 1
        _, changes = name_steps(Flow.model_validate(case["flow"]), STEPS[case["installation"]])
        renamed += bool(changes)
    assert flows > 200
    assert renamed <= 0.03 * flows


@pytest.mark.unit
def test_an_installation_step_whose_span_names_nothing_of_it_takes_the_step_it_names() -> None:
    """csm-dev-long-06 with adapter v11: `send_whatsapp_message | move the Salesforce
    opportunity to 'At risk'`. A span that names its own step at all keeps it."""
    whatsapp = {"category": "action", "definition": "send_whatsapp_message", "scope": ""}
    whatsapp["scope"] = next(
        s["scope"] for s in STEPS["globex-csm"] if s["name"] == "send_whatsapp_message"
    )
    flow = Flow.model_validate(
        {
            "trigger": {"type": "daily", "inputs": []},
            "components": [
                {
                    "order": 1,
                    **whatsapp,
                    "annotation": "move the Salesforce opportunity to 'At risk'",
                },
                {"order": 2, **whatsapp, "annotation": "send them a WhatsApp apology"},
            ],
        }
    )
    renamed, changes = name_steps(flow, STEPS["globex-csm"])
    assert changes == ["1: send_whatsapp_message -> update_opportunity"]
    assert [c.definition for c in renamed.components] == [
        "update_opportunity",
        "send_whatsapp_message",
    ]
