"""Of the IFs written on the same words one stays; the others go, their steps kept
(graph/repeated_tests.py)."""

from __future__ import annotations

from flows import branch, flow, gold_cases, shape, shipped_catalogs, step

from flowgen.flow.model import Flow
from flowgen.graph.outline_repair import repair_outline
from flowgen.graph.repeated_tests import drop_repeated_tests

FAILS = "if CrowdStrike fails"
PAGE = "page the on-call analyst by SMS"
LAPTOP = "if its model category is laptop"


def outline(*steps: dict) -> Flow:
    trigger = ("record_create", {"table": "sn_si_incident"})
    return Flow.model_validate(flow(*steps, trigger=trigger, annotation="When one is created"))


def spans(f: Flow) -> list[str | None]:
    return [c.annotation for c in f.components]


def test_the_repeat_and_its_copy_of_a_step_go() -> None:
    written = outline(
        branch(1, "IF", FAILS),
        step(2, "send_sms", 1, annotation=PAGE),
        branch(3, "IF", FAILS),
        step(4, "send_sms", 3, annotation=PAGE),
    )
    new, dropped = drop_repeated_tests(written)
    assert dropped == [FAILS]
    assert shape(new) == [("IF", 0), ("send_sms", 1)]


def test_other_steps_of_the_repeat_stay_where_they_were_written() -> None:
    written = outline(
        step(1, "add_user_to_azure_ad_group", annotation="add them to All Staff"),
        branch(2, "IF", "if they need VPN"),
        step(3, "add_user_to_azure_ad_group", 2, annotation="add them to VPN Users"),
        branch(4, "IF", "If they need VPN"),  # the case and spacing of a span do not matter
        step(5, "update_record", 4, annotation="set the stage to equipment"),
        step(6, "log", 4, annotation="log the error"),
    )
    new, dropped = drop_repeated_tests(written)
    assert dropped == ["If they need VPN"]
    assert shape(new) == [
        ("add_user_to_azure_ad_group", 0),
        ("IF", 0),
        ("add_user_to_azure_ad_group", 1),
        ("update_record", 0),
        ("log", 0),
    ]


def test_a_repeat_its_else_continues_joins_the_test_before_it() -> None:
    written = outline(
        branch(1, "FOREACH", "For each asset"),
        branch(2, "IF", LAPTOP, 1),
        step(3, "send_email", 2, annotation="email the assigned user"),
        branch(4, "IF", LAPTOP, 1),
        step(5, "create_task", 4, annotation="create a task for Desk Side Support"),
        branch(6, "ELSE", "otherwise", 1),
        step(7, "send_email", 6, annotation="email the asset's managed-by user"),
        step(8, "post_message", annotation="post the count"),
    )
    new, dropped = drop_repeated_tests(written)
    assert dropped == [LAPTOP]
    assert shape(new) == [
        ("FOREACH", 0),
        ("IF", 1),
        ("send_email", 2),
        ("create_task", 2),
        ("ELSE", 1),
        ("send_email", 2),
        ("post_message", 0),
    ]
    assert [c.block for c in new.components] == [None, 1, 2, 2, 1, 5, None]


SEARCH = (
    "When a security incident is set to Contain, suspend the user's Okta login. Search Splunk"
    " for the user's logins; if the search returns more than 50 events, raise the risk score"
    " to 90, otherwise add the event count to the work notes."
)
MORE = "if the search returns more than 50 events"


def test_the_test_its_words_govern_stays() -> None:
    written = outline(
        step(1, "run_splunk_search", annotation="Search Splunk for the user's logins"),
        branch(2, "IF", MORE),
        step(3, "suspend_okta_user", 2, annotation="suspend the user's Okta login"),
        branch(4, "IF", MORE),
        step(5, "update_record", 4, annotation="raise the risk score to 90"),
        branch(6, "ELSE", "otherwise"),
        step(7, "update_record", 6, annotation="add the event count to the work notes"),
    )
    new, dropped = drop_repeated_tests(written, SEARCH)
    assert dropped == [MORE]
    assert [(c.definition, c.annotation, new.depths()[c.order]) for c in new.components] == [
        ("run_splunk_search", "Search Splunk for the user's logins", 0),
        ("suspend_okta_user", "suspend the user's Okta login", 0),
        ("IF", MORE, 0),
        ("update_record", "raise the risk score to 90", 1),
        ("ELSE", "otherwise", 0),
        ("update_record", "add the event count to the work notes", 1),
    ]
    # without the requirement the first is kept, and the second's steps join it
    assert shape(drop_repeated_tests(written)[0]) == [
        ("run_splunk_search", 0),
        ("IF", 0),
        ("suspend_okta_user", 1),
        ("update_record", 1),
        ("ELSE", 0),
        ("update_record", 1),
    ]


def test_a_test_inside_another_on_the_same_words_stays() -> None:
    written = outline(
        step(1, "look_up_record", annotation="look up the contact"),
        branch(2, "IF", "if they are entitled"),
        step(3, "check_entitlement", 2, annotation="check their entitlement"),
        branch(4, "IF", "if they are entitled", 2),
        step(5, "update_record", 4, annotation="set the case to Open"),
    )
    assert drop_repeated_tests(written) == (written, [])


def test_different_tests_and_other_logic_stay() -> None:
    written = outline(
        branch(1, "IF", "if it is a VIP"),
        step(2, "send_sms", 1, annotation=PAGE),
        branch(3, "IF", "if it is critical"),
        step(4, "send_sms", 3, annotation=PAGE),
        branch(5, "PARALLEL", "in parallel"),
        branch(6, "PATH", "first", 5),
        step(7, "log", 6, annotation="log it"),
        branch(8, "PATH", "first", 5),
        step(9, "log", 8, annotation="log it again"),
    )
    assert drop_repeated_tests(written) == (written, [])


def test_in_the_repairs_a_renamed_copy_goes_too() -> None:
    # the second page was written as an update, which the core-verb rule renames send_sms
    written = outline(
        branch(1, "IF", FAILS),
        step(2, "send_sms", 1, annotation=PAGE),
        branch(3, "IF", FAILS),
        step(4, "update_record", 3, annotation=PAGE),
    )
    catalog = shipped_catalogs()["initech-secops"]
    new, changes = repair_outline(written, catalog, offered_steps=[])
    assert changes["core_steps_named"] == ["4: update_record -> send_sms"]
    assert changes["repeated_tests_dropped"] == [FAILS]
    assert shape(new) == [("IF", 0), ("send_sms", 1)]


def test_no_gold_flow_has_a_repeated_test() -> None:
    changed = [
        case.id
        for case in gold_cases("handwritten", "synthetic")
        if case.flow and drop_repeated_tests(Flow.model_validate(case.flow))[1]
    ]
    assert changed == []
