"""Steps said after "otherwise", moved out of the IF into its ELSE; an ELSE on its own IF's
words removed, its steps after the chain (graph/else_branches.py)."""

from __future__ import annotations

from flows import branch, flow, gold_cases, shape, step

from flowgen.flow.model import Flow
from flowgen.graph.else_branches import add_else_branches, unwrap_copied_elses

CLAIM = (
    "When a warranty claim is submitted, ask the product reviewer to approve it; if approved,"
    " mark the claim accepted, otherwise deny it and email the customer why."
)


def outline(*steps: dict) -> Flow:
    return Flow.model_validate(
        flow(*steps, trigger=("record_create", {"table": "u_warranty_claim"}),
             annotation="When a warranty claim is submitted")
    )  # fmt: skip


def test_a_step_of_the_other_case_written_inside_the_if_moves_to_an_else() -> None:
    written = outline(
        step(1, "ask_for_approval", annotation="ask the product reviewer to approve it"),
        branch(2, "IF", "if approved"),
        step(3, "update_record", 2, annotation="mark the claim accepted"),
        step(4, "send_email", 2, annotation="email the customer why"),
    )
    new, added = add_else_branches(written, CLAIM)
    assert added == ["ELSE | otherwise: send_email"]
    assert shape(new) == [
        ("ask_for_approval", 0), ("IF", 0), ("update_record", 1), ("ELSE", 0), ("send_email", 1),
    ]  # fmt: skip
    assert new.components[3].annotation == "otherwise"


def test_a_step_of_the_other_case_written_inside_the_if_joins_its_else() -> None:
    # the ELSE is there, on "otherwise", with the update; the email went in the IF
    written = outline(
        step(1, "ask_for_approval", annotation="ask the product reviewer to approve it"),
        branch(2, "IF", "if approved"),
        step(3, "update_record", 2, annotation="mark the claim accepted"),
        step(4, "send_email", 2, annotation="email the customer why"),
        branch(5, "ELSE", "otherwise"),
        step(6, "update_record", 5, annotation="deny it and email the customer why"),
    )
    new, added = add_else_branches(written, CLAIM)
    assert added == ["ELSE | otherwise: send_email"]
    assert shape(new) == [
        ("ask_for_approval", 0), ("IF", 0), ("update_record", 1),
        ("ELSE", 0), ("update_record", 1), ("send_email", 1),
    ]  # fmt: skip
    # an ELSE on other words than this "otherwise" is not its ELSE
    other = written.model_copy(
        update={
            "components": [
                c.model_copy(update={"annotation": "if not"}) if c.order == 5 else c
                for c in written.components
            ]
        }
    )
    assert add_else_branches(other, CLAIM) == (other, [])


def test_steps_after_the_branch_on_the_other_case_words_go_in_too() -> None:
    written = outline(
        step(1, "ask_for_approval", annotation="ask the product reviewer to approve it"),
        branch(2, "IF", "if approved"),
        step(3, "update_record", 2, annotation="mark the claim accepted"),
        step(4, "update_record", annotation="deny it"),
        step(5, "send_email", annotation="email the customer why"),
    )
    new, _ = add_else_branches(written, CLAIM)
    assert shape(new) == [
        ("ask_for_approval", 0), ("IF", 0), ("update_record", 1),
        ("ELSE", 0), ("update_record", 1), ("send_email", 1),
    ]  # fmt: skip


def test_chains_it_leaves_alone() -> None:
    # a branch that would be left empty: the model placed the test on other words
    only_other = outline(
        branch(1, "IF", "if approved"),
        step(2, "send_email", 1, annotation="email the customer why"),
    )
    assert add_else_branches(only_other, CLAIM)[1] == []
    # a branch that ends the flow: what follows runs only in the other case
    stop = "If it is a duplicate, close it and stop there. Otherwise, email the caller."
    ended = outline(
        branch(1, "IF", "If it is a duplicate"),
        step(2, "update_record", 1, annotation="close it"),
        step(3, "ENDFLOW", 1, category="flowlogic", annotation="stop there"),
        step(4, "send_email", annotation="email the caller"),
    )
    assert add_else_branches(ended, stop)[1] == []
    # "else if" opens an ELSEIF
    chained = "If it is a P1, page the on-call engineer; else if it is a P2, email the group."
    paged = outline(
        branch(1, "IF", "If it is a P1"),
        step(2, "create_pagerduty_incident", 1, annotation="page the on-call engineer"),
        step(3, "send_email", annotation="email the group"),
    )
    assert add_else_branches(paged, chained)[1] == []


def test_no_gold_flow_changes() -> None:
    """The hand-written and synthetic train and dev gold flows, as they are."""
    changed = [
        case.id
        for case in gold_cases("handwritten", "synthetic")
        if add_else_branches(Flow.model_validate(case.flow), case.requirement)[1]
    ]
    assert changed == []


def test_an_else_on_its_ifs_words_is_removed_and_its_steps_follow_the_chain() -> None:
    written = outline(
        step(1, "look_up_records", annotation="find the open cases on it"),
        step(2, "FOREACH", category="flowlogic", annotation="for each of those cases"),
        branch(3, "IF", "if the case's account is platinum or gold", 2),
        step(4, "create_rma", 3, annotation="also open an RMA for it"),
        branch(5, "ELSE", "if the case's account is platinum or gold", 2),
        step(6, "update_record", 5, annotation="mark the model inactive"),
    )
    new, removed = unwrap_copied_elses(written)
    assert removed == ["if the case's account is platinum or gold"]
    assert shape(new) == [
        ("look_up_records", 0), ("FOREACH", 0), ("IF", 1), ("create_rma", 2),
        ("update_record", 1),
    ]  # fmt: skip


def test_elses_on_other_words_stay() -> None:
    # its own words, words inside another word ("if it does" / "If it doesn't"), or too
    # few words to repeat a condition
    for words in ("otherwise", "If it doesn't", "else"):
        written = outline(
            branch(1, "IF", "If it does"),
            step(2, "update_record", 1, annotation="mark the claim accepted"),
            branch(3, "ELSE", words),
            step(4, "send_email", 3, annotation="email the customer why"),
        )
        assert unwrap_copied_elses(written)[1] == []


def test_no_gold_flow_has_a_copied_else() -> None:
    """The 62 hand-written and 856 synthetic ELSEs of train and dev, as they are."""
    changed = [
        case.id
        for case in gold_cases("handwritten", "synthetic")
        if unwrap_copied_elses(Flow.model_validate(case.flow))[1]
    ]
    assert changed == []
