"""Cases listed one after another are one chain of branches (graph/case_chains.py): "For a
defective unit, ... For a unit damaged in transit, ... For a wrong item, ..." written flat
becomes an IF, ELSEIFs and, for "any other type", the ELSE."""

from __future__ import annotations

from typing import Any

import pytest
from flows import branch, gold_cases, shipped_catalogs, step
from flows import flow as make_flow

from flowgen.flow.model import Flow
from flowgen.flow.validator import validate_flow
from flowgen.graph.case_chains import chain_cases, is_case
from flowgen.graph.outline_repair import repair_outline

RETURNS = (
    "When a returned unit arrives at the warehouse and its RMA moves to Received: 1) set the"
    " received date on the RMA; 2) handle it by return reason. For a defective unit, mark the"
    " RMA replaced and email the contact that a replacement is on its way. For a unit damaged"
    " in transit, ask the account manager to approve a refund; if they approve, mark the RMA"
    " refunded, otherwise escalate the case. For a wrong item, mark it replaced without"
    " further action. 3) Finally, add a work note to the case that the return was processed."
)
OBSERVABLES = (
    "When the finding on an observable is changed to Malicious, act according to the"
    " observable type: for an IP address, block it on the Palo Alto firewall for 168 hours;"
    " for a SHA-256 file hash, look up the hash on VirusTotal; for any other type, only write"
    " an informational log entry. Finally, raise the risk score of its security incident."
)


def _rows(outline: Flow) -> list[tuple[str, int | None, str | None]]:
    return [(c.definition, c.block, c.annotation) for c in outline.components]


def _repaired(requirement: str, *components: dict[str, Any]) -> tuple[Flow, dict[str, Any]]:
    outline = Flow.model_validate(make_flow(*components))
    repaired, changes = repair_outline(
        outline, shipped_catalogs()["globex-csm"], requirement=requirement
    )
    assert validate_flow(repaired, stage="outline").ok
    return repaired, changes


@pytest.mark.unit
@pytest.mark.parametrize(
    ("words", "case"),
    [
        ("For a defective unit", True),
        ("for platinum accounts only", True),
        ("for each match", False),  # a loop
        ("for 168 hours", False),  # a duration
        ("for at most 8 hours", False),
        ("for everyone else", False),  # the case for what is left
        ("for any other type", False),
    ],
)
def test_a_case_opens_with_for_and_what_it_is_about(words: str, case: bool) -> None:
    assert is_case(words) is case


@pytest.mark.unit
def test_cases_written_flat_become_one_chain_holding_their_own_tests() -> None:
    repaired, changes = _repaired(
        RETURNS,
        step(1, "update_record", annotation="set the received date on the RMA"),
        step(2, "update_record", annotation="mark the RMA replaced"),
        step(3, "send_email", annotation="email the contact that a replacement is on its way"),
        step(4, "ask_for_approval", annotation="ask the account manager to approve a refund"),
        branch(5, "IF", "if they approve"),
        step(6, "update_record", 5, annotation="mark the RMA refunded"),
        branch(7, "ELSE", "otherwise"),
        step(8, "update_record", 7, annotation="escalate the case"),
        step(9, "update_record", annotation="mark it replaced without further action"),
        step(10, "update_record", annotation="add a work note to the case"),
    )
    assert changes["uncovered_branches_added"] == [
        "IF | For a defective unit",
        "IF | For a unit damaged in transit",
        "IF | For a wrong item",
    ]
    assert [(d, b) for d, b, _ in _rows(repaired)] == [
        ("update_record", None),
        ("IF", None),
        ("update_record", 2),
        ("send_email", 2),
        ("ELSEIF", None),
        ("ask_for_approval", 5),
        ("IF", 5),  # the approval's test is inside its case
        ("update_record", 7),
        ("ELSE", 5),
        ("update_record", 9),
        ("ELSEIF", None),
        ("update_record", 11),
        ("update_record", None),
    ]


@pytest.mark.unit
def test_cases_written_in_the_other_order_are_put_in_the_order_said() -> None:
    """The model wrote the hash's look-up first and an IF on "for any other type": the
    hash's case goes after the address's, and what is left is the ELSE."""
    written = Flow.model_validate(
        make_flow(
            branch(1, "IF", "for a SHA-256 file hash"),
            step(2, "lookup_file_hash", annotation="look up the hash on VirusTotal"),
            branch(3, "IF", "for an IP address"),
            step(4, "block_ip_address", 3, annotation="block it on the Palo Alto firewall"),
            branch(5, "IF", "for any other type"),
            step(6, "log", 5, annotation="only write an informational log entry"),
        )
    )
    # the hash's IF holds its look-up (built as graph/uncovered_branches.py adds it)
    written = written.with_components(
        [c.model_copy(update={"block": 1}) if c.order == 2 else c for c in written.components]
    )
    chained, changed = chain_cases(written, OBSERVABLES)
    assert changed == [
        "moved | for an IP address",
        "ELSEIF | for a SHA-256 file hash",
        "ELSE | for any other type",
    ]
    assert [(d, b, a) for d, b, a in _rows(chained)] == [
        ("IF", None, "for an IP address"),
        ("block_ip_address", 1, "block it on the Palo Alto firewall"),
        ("ELSEIF", None, "for a SHA-256 file hash"),
        ("lookup_file_hash", 3, "look up the hash on VirusTotal"),
        ("ELSE", None, "for any other type"),
        ("log", 5, "only write an informational log entry"),
    ]


@pytest.mark.unit
@pytest.mark.parametrize(
    ("first", "second", "turned"),
    [
        ("where the severity is Medium", "where the severity is High", ["ELSEIF"]),
        ("for a gold account", "for a platinum account", ["ELSEIF"]),
        ("if the account is platinum", "for everyone else", ["ELSE"]),
        # the other case and something more
        (
            "If the account is not entitled",
            "If it is entitled and the amount is 1000 or more",
            ["ELSEIF"],
        ),
        ("If the account is not entitled", "If it is entitled", []),  # graph/negated_tests.py's
        # tests of different things stay two tests
        ("if the affected user is a VIP", "if the incident has an affected host", []),
        ("if VPN is needed", "if laptop model is developer", []),
        ("if it is critical", "if it is priority 2", []),  # nothing shared but "it is"
    ],
)
def test_which_tests_chain(first: str, second: str, turned: list[str]) -> None:
    written = Flow.model_validate(
        make_flow(
            branch(1, "IF", first),
            step(2, "send_email", 1, annotation="email the manager"),
            branch(3, "IF", second),
            step(4, "send_sms", 3, annotation="text the agent"),
        )
    )
    chained, _ = chain_cases(written, f"When a case is updated, {first}, ...; {second}, ...")
    assert [c.definition for c in chained.components if c.order == 3] == (turned or ["IF"])


@pytest.mark.unit
def test_a_case_said_before_the_trigger_is_no_test() -> None:
    _, changes = _repaired(
        "Hi, for people going on long leave: when a parental leave HR case moves to Work in"
        " Progress, reassign everything the employee still has open.",
        step(1, "update_multiple_records", annotation="reassign everything the employee"),
    )
    assert "uncovered_branches_added" not in changes


@pytest.mark.unit
def test_gold_flows_are_left_as_they_are() -> None:
    """No hand-written or synthetic train or dev gold flow changes (fifty-first session)."""
    changed = [
        case.id
        for case in gold_cases("handwritten", "synthetic")
        if chain_cases(Flow.model_validate(case.flow), case.requirement)[1]
    ]
    assert changed == []
