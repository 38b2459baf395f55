"""A failure clause no CATCH holds: a TRY around the step that may fail, a CATCH around
the steps the clause asks for (graph/failure_clauses.py)."""

from __future__ import annotations

from flows import branch, flow, gold_cases, shape, shipped_catalogs, step

from flowgen.flow.flowlogic import without_blocks
from flowgen.flow.model import Flow
from flowgen.graph.failure_clauses import catch_failure_clauses
from flowgen.graph.outline_repair import repair_outline


def outline(*steps: dict) -> Flow:
    trigger = ("record_update", {"table": "sys_user"})
    return Flow.model_validate(flow(*steps, trigger=trigger, annotation="When a user"))


OKTA = (
    "When a user gets deactivated, disable their azure ad acct and deactivate them in okta."
    " if the okta call fails just log an error and email the IAM team so they can do it by"
    " hand. after that look up their open incidents"
)


def test_a_step_on_the_conditions_words_goes_and_the_clause_is_caught() -> None:
    written = outline(
        step(1, "disable_azure_ad_user", annotation="disable their azure ad acct"),
        step(2, "deactivate_okta_user", annotation="deactivate them in okta"),
        step(3, "look_up_records", annotation="look up their open incidents"),
        step(4, "look_up_record", annotation="the okta call"),
        step(5, "log", annotation="log an error"),
        step(6, "send_email", annotation="email the IAM team so they can do it by hand"),
    )
    new, caught = catch_failure_clauses(written, OKTA)
    assert caught == ["CATCH | if the okta call fails"]
    assert [(c.definition, c.annotation, new.depths()[c.order]) for c in new.components] == [
        ("disable_azure_ad_user", "disable their azure ad acct", 0),
        ("TRY", "deactivate them in okta", 0),
        ("deactivate_okta_user", "deactivate them in okta", 1),
        ("CATCH", "if the okta call fails", 0),
        ("log", "log an error", 1),
        ("send_email", "email the IAM team so they can do it by hand", 1),
        ("look_up_records", "look up their open incidents", 0),
    ]
    # once caught, the clause is left alone
    assert catch_failure_clauses(new, OKTA) == (new, [])


GRANT = (
    "The flow first asks the system owner to approve it. If the system owner approves, the"
    " flow tries to grant the access with the Grant Access subflow and then adds a work note"
    " with the result. If the subflow fails, the flow opens a Jira task and sends the user a"
    " Teams message. If the system owner rejects the request, the flow closes it."
)


def test_an_else_on_the_clause_becomes_a_catch_after_what_was_tried() -> None:
    written = outline(
        step(1, "ask_for_approval", annotation="asks the system owner to approve it"),
        branch(2, "IF", "If the system owner approves"),
        step(3, "grant_access", 2, annotation="grant the access with the Grant Access subflow"),
        step(4, "add_work_note", 2, annotation="adds a work note with the result"),
        branch(5, "ELSE", "If the subflow fails"),
        step(6, "create_issue", 5, annotation="opens a Jira task"),
        step(7, "send_chat_message", 5, annotation="sends the user a Teams message"),
        branch(8, "IF", "If the system owner rejects the request", 5),
        step(9, "update_record", 8, annotation="closes it"),
    )
    new, caught = catch_failure_clauses(written, GRANT)
    assert caught == ["CATCH | If the subflow fails"]
    assert shape(new) == [
        ("ask_for_approval", 0),
        ("IF", 0),
        ("TRY", 1),  # "tries to grant ... and then adds a work note": both are tried
        ("grant_access", 2),
        ("add_work_note", 2),
        ("CATCH", 1),
        ("create_issue", 2),
        ("send_chat_message", 2),
        ("IF", 0),  # what the ELSE held besides the clause's steps stays where it was
        ("update_record", 1),
    ]
    assert new.components[2].annotation == (
        "tries to grant the access with the Grant Access subflow"
    )


def test_tests_on_the_clause_inside_each_other_both_go() -> None:
    # what the inner test held besides the clause's steps stays in the loop
    written = outline(
        branch(1, "FOREACH", "For each request"),
        step(2, "ask_for_approval", 1, annotation="asks the system owner to approve it"),
        branch(3, "IF", "If the system owner approves", 1),
        step(4, "grant_access", 3, annotation="grant the access with the Grant Access subflow"),
        step(5, "add_work_note", 3, annotation="adds a work note with the result"),
        branch(6, "ELSE", "If the subflow fails", 1),
        branch(7, "IF", "the subflow fails", 6),
        step(8, "create_issue", 7, annotation="opens a Jira task"),
        step(9, "send_chat_message", 7, annotation="sends the user a Teams message"),
        branch(10, "IF", "If the system owner rejects the request", 7),
        step(11, "update_record", 10, annotation="closes it"),
    )
    new, _ = catch_failure_clauses(written, GRANT)
    assert shape(new)[-2:] == [("IF", 1), ("update_record", 2)]


CLAIM = (
    "If it is entitled, ask the reviewer for approval; when they approve, accept the claim"
    " and try to log it as a Salesforce case. If the call to Salesforce fails, log the error"
    " and create a task for the finance team instead."
)


def test_scattered_steps_are_gathered_and_a_branch_they_leave_empty_goes() -> None:
    written = outline(
        step(1, "update_record", annotation="accept the claim"),
        step(2, "create_salesforce_case", annotation="try to log it as a Salesforce case"),
        step(3, "log", annotation="log the error"),
        branch(4, "IF", "when they approve"),
        step(5, "create_task", 4, annotation="create a task for the finance team instead"),
    )
    new, caught = catch_failure_clauses(written, CLAIM)
    assert caught == ["CATCH | If the call to Salesforce fails"]
    assert shape(new) == [
        ("update_record", 0),
        ("TRY", 0),
        ("create_salesforce_case", 1),
        ("CATCH", 0),
        ("log", 1),
        ("create_task", 1),
    ]


CONTAIN = (
    "Perform the following for the affected user. 1. Suspend the user's Okta login. 2. Run"
    " the containment subflow. If either of these calls fails, log the error and post the"
    " failure to #soc-oncall. 3. Search Splunk for the user's logins."
)


def test_either_of_these_calls_tries_both() -> None:
    written = outline(
        step(1, "suspend_okta_user", annotation="Suspend the user's Okta login"),
        step(2, "contain_account", annotation="Run the containment subflow"),
        step(3, "log", annotation="log the error"),
        step(4, "run_splunk_search", annotation="Search Splunk for the user's logins"),
        step(5, "post_message", annotation="post the failure to #soc-oncall"),
    )
    new, _ = catch_failure_clauses(written, CONTAIN)
    assert shape(new) == [
        ("TRY", 0),
        ("suspend_okta_user", 1),
        ("contain_account", 1),
        ("CATCH", 0),
        ("log", 1),
        ("post_message", 1),
        ("run_splunk_search", 0),
    ]


TEAM = (
    "When a department is created, a Teams team named after it is created; its primary"
    " contact is added to it; if it has no primary contact, its head is asked to name one."
    " If creating the team fails, a task is opened for the Collaboration group."
)


def test_the_step_the_clause_names_opens_what_is_tried() -> None:
    written = outline(
        step(1, "create_team", annotation="a Teams team named after it is created"),
        step(2, "add_member_to_team", annotation="its primary contact is added to it"),
        branch(3, "IF", "if it has no primary contact"),
        step(4, "send_chat_message", 3, annotation="its head is asked to name one"),
        step(5, "create_task", annotation="a task is opened for the Collaboration group"),
    )
    new, _ = catch_failure_clauses(written, TEAM)
    assert shape(new) == [
        ("TRY", 0),
        ("create_team", 1),
        ("add_member_to_team", 1),
        ("IF", 1),
        ("send_chat_message", 2),
        ("CATCH", 0),
        ("create_task", 1),
    ]


def test_a_clause_whose_tried_step_is_missing_is_left_alone() -> None:
    requirement = (
        "The flow writes the reputation into the notes. It then tries to block the IP on the"
        " firewall. If the block fails, the flow logs an error."
    )
    written = outline(
        step(1, "update_record", annotation="writes the reputation into the notes"),
        step(2, "log", annotation="logs an error"),
    )
    assert catch_failure_clauses(written, requirement) == (written, [])


def test_in_the_repairs() -> None:
    written = outline(
        step(1, "disable_azure_ad_user", annotation="disable their azure ad acct"),
        step(2, "deactivate_okta_user", annotation="deactivate them in okta"),
        step(3, "log", annotation="log an error"),
        step(4, "look_up_records", annotation="look up their open incidents"),
        step(5, "send_email", annotation="email the IAM team so they can do it by hand"),
    )
    catalog = shipped_catalogs()["acme-itsm"]
    new, changes = repair_outline(written, catalog, requirement=OKTA)
    assert changes["failure_clauses_caught"] == ["CATCH | if the okta call fails"]
    assert [c.definition for c in new.components][:6] == [
        "disable_azure_ad_user",
        "TRY",
        "deactivate_okta_user",
        "CATCH",
        "log",
        "send_email",
    ]


def _stripped(f: Flow) -> Flow:
    """`f` without its TRYs and CATCHes, what they held a level up."""
    tries = {c.order for c in f.components if c.definition in ("TRY", "CATCH")}
    return f.with_components(without_blocks(f.components, tries))


def _layout(f: Flow) -> list[tuple[str, int | None, str | None]]:
    """Each component's definition and block, and an action's words (flow logic's words
    differ: a gold CATCH's often run on into its first step's)."""
    return [
        (c.definition, c.block, c.annotation if c.category != "flowlogic" else None)
        for c in f.components
    ]


def test_gold_flows_stay_and_their_catches_come_back() -> None:
    changed, caught, rebuilt = [], 0, 0
    for case in gold_cases("handwritten", "synthetic"):
        gold = Flow.model_validate(case.flow)
        if catch_failure_clauses(gold, case.requirement)[1]:
            changed.append(case.id)
        if any(c.definition == "CATCH" for c in gold.components):
            caught += 1
            new, _ = catch_failure_clauses(_stripped(gold), case.requirement)
            rebuilt += _layout(new) == _layout(gold)
    assert changed == []
    # 295 of the 299 at this writing; the four others also held a look-up before the
    # step tried, or a test after it
    assert caught >= 299 and rebuilt >= 0.97 * caught
