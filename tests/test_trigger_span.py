"""A record trigger's span moved to the clause that names the trigger (graph/trigger_span.py)."""

from __future__ import annotations

import pytest
from flows import DATA, flow, step

from flowgen.flow.model import Flow
from flowgen.graph.trigger_span import restore_trigger_span, trigger_clause
from flowgen.training.cases import read_cases

STORY = (
    "As a vulnerability manager, I want the owner of a server to receive an email when a"
    " Critical vulnerable item on that server is closed, so that server owners see the"
    " remediation work."
)

CLOSED = "when a Critical vulnerable item on that server is closed"


def _moved(requirement: str, span: str, kind: str = "record_update") -> str | None:
    outline = Flow.model_validate(
        flow(step(1, "log", annotation="log it"), trigger=(kind, {}), annotation=span)
    )
    repaired, changes = restore_trigger_span(outline, requirement)
    assert repaired.trigger is not None
    return repaired.trigger.annotation if changes else None


@pytest.mark.unit
@pytest.mark.parametrize(
    ("requirement", "span", "moved"),
    [
        # a user story's opening, and a step's words, are no trigger's span
        (STORY, "As a vulnerability manager", CLOSED),
        (
            "For each suspicious IP observable on a new security incident, block the address"
            " for 12 hours.",
            "for 12 hours",
            "For each suspicious IP observable on a new security incident",
        ),
        (
            "feature request case created -> route to the product's owner group, then log it",
            "route to the product's owner group",
            "feature request case created",
        ),
        # ... nor the context before the sentence that names the trigger, whatever it says
        (
            "Hi team, HR is tired of chasing IT to set up accounts for new starters. Could we"
            " have it so that as soon as a new hire onboarding request comes in, the system"
            " provisions the person's account in Azure AD?",
            "HR is tired of chasing IT to set up accounts for new starters",
            "as soon as a new hire onboarding request comes in",
        ),
        # a span that says when the flow runs stays
        (STORY, "when a Critical vulnerable item is closed", None),
        # one inside the clause that says nothing of the trigger takes the whole clause:
        # the event's words are what the condition is read from (csm-dev-007: "a
        # customer's sentiment on a case" was `escalatedCHANGESTOtrue`)
        (
            "When a P1 incident is created, page the on-call engineer.",
            "a P1 incident",
            "When a P1 incident is created",
        ),
        (
            "If a customer's sentiment on a case turns negative, flag it as escalated.",
            "a customer's sentiment on a case",
            "If a customer's sentiment on a case turns negative",
        ),
        # and one the clause refers back to: the record is named in the span
        ("Mirror every billing case to Salesforce when it is created.", "every billing case", None),
        # no clause names a record trigger
        ("cases from social media should go to the social care team", "social media", None),
        # a span that names the trigger but stops short of its clause: the record without
        # its event, the event without the test joined to it
        (
            "When the catalog task of a laptop gets closed as complete, email the requester.",
            "When the catalog task of a laptop",
            "When the catalog task of a laptop gets closed as complete",
        ),
        (
            "Whenever a new incident is logged whose short description mentions the word"
            ' "password", email the caller the reset link.',
            "Whenever a new incident is logged",
            "Whenever a new incident is logged whose short description mentions the word"
            ' "password"',
        ),
        (
            "Each time a vulnerable item is created and its CVSS score is 9.0 or higher, page"
            " the owner.",
            "Each time a vulnerable item is created",
            "Each time a vulnerable item is created and its CVSS score is 9.0 or higher",
        ),
        # a step joined by "and" is no test of the trigger
        (
            "Whenever a web attack incident is created and attach the results link in the"
            " work notes",
            "whenever a web attack incident is created",
            None,
        ),
    ],
)
def test_a_span_moves_to_the_whole_clause_that_names_the_trigger(
    requirement: str, span: str, moved: str | None
) -> None:
    assert _moved(requirement, span) == moved


@pytest.mark.unit
@pytest.mark.parametrize(
    ("requirement", "span", "moved"),
    [
        (
            "incident assignment group changes -> mail new group's mgr, then work note",
            "changes",
            "incident assignment group changes",
        ),
        # the arrow leads to a state, and a colon to the steps
        (
            "P2 ticket -> On Hold: add a customer-visible comment w/ the hold reason",
            "P2 ticket",
            "P2 ticket -> On Hold",
        ),
        (
            "new inc, category database -> look up Database grp",
            "new inc",
            "new inc, category database",
        ),
        # an aside at its end is left out
        (
            "on-call shift created (any group, primary or backup) -> sms the on-call user",
            "on-call shift created (any group, primary or backup)",
            "on-call shift created",
        ),
        ("escalation closed -> send the CSAT survey", "escalation closed", None),
    ],
)
def test_a_terse_requirement_s_trigger_is_what_its_arrow_follows(
    requirement: str, span: str, moved: str | None
) -> None:
    assert _moved(requirement, span) == moved
    assert _moved(requirement, span, kind="daily") == moved


@pytest.mark.unit
def test_scheduled_triggers_keep_their_span() -> None:
    assert _moved(STORY, "As a vulnerability manager", kind="daily") is None


@pytest.mark.unit
def test_the_clause_keeps_the_requirement_s_words() -> None:
    said = "Hi team, on the portal WHEN a  Case is closed, send the survey."
    assert trigger_clause(said) == "WHEN a Case is closed"
    assert trigger_clause("Hi team, send the survey for closed cases.") is None


@pytest.mark.unit
def test_no_gold_trigger_span_moves() -> None:
    """Every hand-written and synthetic gold flow, all splits: the experts' spans name
    their triggers, but for two that are the subject of the clause that does ("a P1
    incident" of "If a P1 incident is still unassigned 30 minutes after it was
    opened"), one that leaves out the test the clause goes on to ("... is moved to another
    building and that building is restricted"), one whose event the cues do not read and
    one that ends on an aside."""
    checked, moved = 0, []
    for name in ("handwritten", "synthetic"):
        for case in read_cases([DATA / f"{name}.jsonl"]):
            if not case.flow or not case.flow.get("trigger"):
                continue
            outline = Flow.model_validate(case.flow)
            _, changes = restore_trigger_span(outline, case.requirement)
            if changes:
                moved.append(case.id)
            checked += 1
    assert checked > 3000
    assert moved == [
        "itsm-dev-voices-05",
        "itsm-train-g35",
        "itsm-train-043",
        "umb-lib-015",
        "umb-ood-064",
    ]


@pytest.mark.unit
def test_a_schedule_span_that_ran_over_the_steps_moves_to_the_schedule() -> None:
    """itsm-train-long-02-rephrased with adapter v11: the monthly trigger's span was the
    next 104 words, every step's among them."""
    requirement = (
        "Create a flow that runs on the 1st of every month at 7:00 AM. The flow looks up all"
        " active contracts whose end date is within the next 60 days. After all contracts"
        " have been processed, the flow writes a log entry."
    )
    span = (
        "The flow looks up all active contracts whose end date is within the next 60 days."
        " After all contracts have been processed"
    )
    assert _moved(requirement, span, "monthly") == (
        "Create a flow that runs on the 1st of every month at 7:00 AM"
    )
    # a short span in words the cues do not read stays
    assert _moved("monthly, 15th @ 9am: remind the owners", "15th @ 9am", "monthly") is None


@pytest.mark.unit
def test_an_email_trigger_s_span_moves_to_the_email_arriving() -> None:
    """itsm-train-long-05-rephrased with adapter v11: the inbound email trigger's span was
    "If nobody is on call". A span that says an email comes in stays."""
    requirement = (
        "Could we get a flow so that whenever a message from monitoring@acme.example lands"
        " with ALERT in its subject, the system raises a network incident from it? If nobody"
        " is on call, page PagerDuty service PNET01."
    )
    moved = "whenever a message from monitoring@acme.example lands with ALERT in its subject"
    assert _moved(requirement, "If nobody is on call", kind="email") == moved
    assert _moved(requirement, moved, kind="email") is None
