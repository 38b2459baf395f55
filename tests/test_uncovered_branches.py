"""An "if" clause no step covers becomes an IF around the steps it governs
(graph/uncovered_branches.py): "if someone is on call, text them" written as the text
alone gets its test, and "otherwise ..." after it the ELSE."""

from __future__ import annotations

from typing import Any

import pytest
from flows import flow as make_flow
from flows import gold_cases, logic, shipped_catalogs, step

from flowgen.flow.model import Flow
from flowgen.flow.validator import validate_flow
from flowgen.graph.outline_repair import repair_outline
from flowgen.graph.uncovered_branches import add_uncovered_branches

ON_CALL = (
    "When an incident is created with priority 1, look up who is on call for the"
    " assignment group and, if someone is on call, text them the incident number;"
    " otherwise email the assignment group's manager that nobody is on call. Then log it."
)


def _repaired(requirement: str, *components: dict[str, Any]) -> tuple[list[tuple], list[str]]:
    """(definition, parent's order, annotation) of each step after the rule, and what it
    added."""
    outline = Flow.model_validate(make_flow(*components))
    repaired, added = add_uncovered_branches(outline, requirement)
    assert validate_flow(repaired, stage="outline").ok
    rows = [(c.definition, c.block, c.annotation) for c in repaired.components]
    return rows, added


@pytest.mark.unit
def test_the_test_goes_around_the_step_and_otherwise_opens_its_else() -> None:
    rows, added = _repaired(
        ON_CALL,
        step(1, "look_up_records", annotation="look up who is on call for the assignment group"),
        step(2, "send_sms", annotation="text them the incident number"),
        step(3, "send_email", annotation="email the assignment group's manager"),
        step(4, "log", annotation="log it"),
    )
    assert rows == [
        ("look_up_records", None, "look up who is on call for the assignment group"),
        ("IF", None, "if someone is on call"),
        ("send_sms", 2, "text them the incident number"),
        ("ELSE", None, "otherwise"),
        ("send_email", 4, "email the assignment group's manager"),
        ("log", None, "log it"),
    ]
    assert added == ["IF | if someone is on call", "ELSE | otherwise"]


@pytest.mark.unit
def test_a_formal_where_opens_a_test_but_not_the_trigger() -> None:
    """sec-train-036-rephrased: "where the severity is Medium, the risk score shall be set
    to 50"; a requirement that opens with "Where" names its trigger."""
    requirement = (
        "Upon creation of a security incident, a risk score is to be assigned: where the"
        " severity is Medium, the risk score shall be set to 50."
    )
    rows, added = _repaired(
        requirement, step(1, "update_record", annotation="the risk score shall be set to 50")
    )
    assert added == ["IF | where the severity is Medium"]
    assert rows[1] == ("update_record", 1, "the risk score shall be set to 50")
    opening = "Where a production access request is revoked, note the date on the request."
    _, added = _repaired(opening, step(1, "update_record", annotation="note the date"))
    assert added == []


@pytest.mark.unit
def test_a_formal_should_opens_a_test() -> None:
    """csm-train-long-08-rephrased: "Should approval be granted, the entitlement plan is
    to be changed to Premium"; "should that fail" is a failure caught."""
    requirement = (
        "Approval of the upgrade is then to be requested from the account manager. Should"
        " approval be granted, the entitlement plan is to be changed to Premium."
    )
    rows, added = _repaired(
        requirement,
        step(1, "ask_for_approval", annotation="Approval of the upgrade is then to be requested"),
        step(2, "update_record", annotation="the entitlement plan is to be changed to Premium"),
    )
    assert added == ["IF | Should approval be granted"]
    assert rows[2] == ("update_record", 2, "the entitlement plan is to be changed to Premium")
    # a modal "should" tests nothing
    modal = "When a case is closed, the flow should email the contact."
    _, added = _repaired(modal, step(1, "send_email", annotation="email the contact"))
    assert added == []


@pytest.mark.unit
def test_a_check_written_on_the_if_clause_does_not_cover_it() -> None:
    """csm-dev-005 with adapter v11: `check_entitlement | if they are not entitled`, the
    message after it untested. The check stays before the IF its clause now opens; a
    look-up that reads a record again on the IF's words is no such step."""
    rows, added = _repaired(
        "When a new case comes in through chat, check the account's entitlement for chat"
        " support; if they are not entitled, tell the contact over WhatsApp.",
        step(1, "check_entitlement", annotation="if they are not entitled"),
        step(2, "send_whatsapp_message", annotation="tell the contact over WhatsApp"),
    )
    assert added == ["IF | if they are not entitled"]
    assert rows == [
        ("check_entitlement", None, "if they are not entitled"),
        ("IF", None, "if they are not entitled"),
        ("send_whatsapp_message", 2, "tell the contact over WhatsApp"),
    ]
    _, added = _repaired(
        "When a case is resolved, wait two days, and if the customer hasn't reopened it, close it.",
        step(1, "look_up_record", annotation="if the customer hasn't reopened it"),
        step(2, "update_record", annotation="close it"),
    )
    assert added == []


@pytest.mark.unit
def test_a_test_inside_a_loop_takes_every_step_of_its_clause() -> None:
    rows, _ = _repaired(
        "Every Monday at 8am, find all platinum accounts. For each one, if there are more"
        " than 5 open cases, notify the account team with the count and move the"
        " opportunity to 'At risk'. At the end log how many accounts we checked.",
        step(1, "look_up_records", annotation="find all platinum accounts"),
        {**logic(2, "FOREACH"), "annotation": "For each one"},
        step(3, "notify_account_team", 2, annotation="notify the account team with the count"),
        step(4, "update_record", 2, annotation="move the opportunity to 'At risk'"),
        step(5, "log", annotation="log how many accounts we checked"),
    )
    assert rows == [
        ("look_up_records", None, "find all platinum accounts"),
        ("FOREACH", None, "For each one"),
        ("IF", 2, "if there are more than 5 open cases"),
        ("notify_account_team", 3, "notify the account team with the count"),
        ("update_record", 3, "move the opportunity to 'At risk'"),
        ("log", None, "log how many accounts we checked"),
    ]


@pytest.mark.unit
def test_a_test_without_a_comma_ends_where_its_step_s_words_begin() -> None:
    rows, added = _repaired(
        "When an incident is created, look up the caller; if they're a VIP bump urgency to 1.",
        step(1, "look_up_record", annotation="look up the caller"),
        step(2, "update_record", annotation="bump urgency to 1"),
    )
    assert added == ["IF | if they're a VIP"]
    assert rows[2] == ("update_record", 2, "bump urgency to 1")


@pytest.mark.unit
def test_a_test_under_an_earlier_branch_nests_inside_it() -> None:
    rows, _ = _repaired(
        "When an escalation is updated, if its case is no longer active, close the"
        " escalation; otherwise, if the severity is High, text the escalation manager.",
        {**logic(1, "IF"), "annotation": "if its case is no longer active"},
        step(2, "update_record", 1, annotation="close the escalation"),
        step(3, "send_sms", 1, annotation="text the escalation manager"),
    )
    assert rows == [
        ("IF", None, "if its case is no longer active"),
        ("update_record", 1, "close the escalation"),
        ("IF", 1, "if the severity is High"),
        ("send_sms", 3, "text the escalation manager"),
    ]


@pytest.mark.unit
def test_a_failure_is_caught_around_the_step_that_may_fail() -> None:
    rows, added = _repaired(
        "When a critical incident is opened, try to open a GitHub issue for it; if that"
        " fails, log an error and email the platform team lead instead.",
        step(1, "create_github_issue", annotation="open a GitHub issue for it"),
        step(2, "log", annotation="log an error"),
        step(3, "send_email", annotation="email the platform team lead instead"),
    )
    assert rows == [
        ("TRY", None, "open a GitHub issue for it"),
        ("create_github_issue", 1, "open a GitHub issue for it"),
        ("CATCH", None, "if that fails"),
        ("log", 3, "log an error"),
        ("send_email", 3, "email the platform team lead instead"),
    ]
    assert added == ["CATCH | if that fails"]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("requirement", "components"),
    [
        pytest.param(  # a step that may fail, with nothing before it to try
            "When an incident is created, if that fails, log an error.",
            [step(1, "log", annotation="log an error")],
            id="failure-of-nothing",
        ),
        pytest.param(  # the model wrote the test, on other words
            ON_CALL,
            [
                {**logic(1, "IF"), "annotation": "who is on call"},
                step(2, "send_sms", 1, annotation="text them the incident number"),
            ],
            id="under-its-own-if",
        ),
        pytest.param(  # a span covers the clause's words
            ON_CALL,
            [
                {**logic(1, "IF"), "annotation": "if someone is on call"},
                step(2, "send_sms", 1, annotation="text them the incident number"),
            ],
            id="covered",
        ),
        pytest.param(  # nothing to govern: no step's words follow in the clause
            ON_CALL,
            [step(1, "log", annotation="log it")],
            id="no-step",
        ),
        pytest.param(  # the clause's steps are not next to each other
            "When a case is closed, if the customer is VIP, email them and notify the team.",
            [
                step(1, "send_email", annotation="email them"),
                step(2, "log", annotation="the case is closed"),
                step(3, "notify_account_team", annotation="notify the team"),
            ],
            id="apart",
        ),
        pytest.param(  # "if needed" tests nothing
            "When a case is closed, if needed, email the customer.",
            [step(1, "send_email", annotation="email the customer")],
            id="if-needed",
        ),
    ],
)
def test_nothing_is_added_where_the_test_is_there_or_not_a_test(
    requirement: str, components: list[dict[str, Any]]
) -> None:
    _, added = _repaired(requirement, *components)
    assert added == []


@pytest.mark.unit
def test_gold_flows_have_their_tests() -> None:
    """On the 3,348 hand-written and synthetic train and dev flows the rule adds nothing
    (thirty-fifth session): every "if" clause of theirs has its IF, ELSEIF or CATCH."""
    added = [
        case.id
        for case in gold_cases("handwritten", "synthetic")
        if add_uncovered_branches(Flow.model_validate(case.flow), case.requirement)[1]
    ]
    assert added == []


@pytest.mark.unit
def test_the_outline_repairs_add_the_test_after_the_asks() -> None:
    """The ask rule adds the text the model left out; this rule then puts the test around
    it: both in the order the graph runs them."""
    outline = Flow.model_validate(
        make_flow(
            step(
                1, "look_up_records", annotation="look up who is on call for the assignment group"
            ),
            step(2, "send_email", annotation="email the assignment group's manager"),
        )
    )
    repaired, changes = repair_outline(
        outline, shipped_catalogs()["acme-itsm"], requirement=ON_CALL
    )
    assert any(a.startswith("send_sms | text them") for a in changes["uncovered_asks_added"])
    assert changes["uncovered_branches_added"] == ["IF | if someone is on call", "ELSE | otherwise"]
    assert [(c.definition, c.block) for c in repaired.components][:5] == [
        ("look_up_records", None),
        ("IF", None),
        ("send_sms", 2),
        ("ELSE", None),
        ("send_email", 4),
    ]
