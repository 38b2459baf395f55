"""An IF right after an IF that says the opposite is its ELSE (graph/negated_tests.py)."""

from __future__ import annotations

import pytest
from flows import branch, flow, gold_cases, shape, shipped_catalogs, step

from flowgen.flow.model import Flow
from flowgen.graph.negated_tests import else_negated_tests, says_the_opposite
from flowgen.graph.outline_repair import repair_outline


def outline(*steps: dict) -> Flow:
    trigger = ("email", {"email_conditions": "subjectLIKEoutage"})
    return Flow.model_validate(flow(*steps, trigger=trigger, annotation="When an email comes"))


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("if we find them", "if we don't find them"),
        ("if it has no reviewer yet", "if it already has a reviewer"),
        ("If the account is entitled", "if it is not entitled"),
        ("if it is approved", "if it is rejected"),
        ("if the call succeeds", "if the call fails"),
        # the other words of one among the other's
        ("If the system owner approves", "If the system owner rejects the request"),
    ],
)
def test_opposite_words(first: str, second: str) -> None:
    assert says_the_opposite(first, second)
    assert says_the_opposite(second, first)


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("if the account is platinum", "if it's gold"),  # another case: an ELSEIF's
        ("if it is not a VIP", "if it has no manager"),
        ("if we find them", "if we find them"),
        ("if not", "if no"),  # nothing tested
        ("if the manager approves", "if the director rejects it"),
    ],
)
def test_other_words(first: str, second: str) -> None:
    assert not says_the_opposite(first, second)


def test_the_second_test_becomes_the_else() -> None:
    written = outline(
        step(1, "look_up_record", annotation="look up the caller by the sender's address"),
        branch(2, "IF", "if we find them"),
        step(3, "create_record", 2, annotation="open an incident for them"),
        branch(4, "IF", "if they're a VIP", 2),
        step(5, "update_record", 4, annotation="bump urgency to 1"),
        branch(6, "IF", "if we don't find them"),
        step(7, "post_message", 6, annotation="post it in #service-desk"),
    )
    new, turned = else_negated_tests(written)
    assert turned == ["if we don't find them"]
    assert [c.definition for c in new.components] == [
        "look_up_record",
        "IF",
        "create_record",
        "IF",
        "update_record",
        "ELSE",
        "post_message",
    ]
    assert [depth for _, depth in shape(new)] == [depth for _, depth in shape(written)]


def test_in_the_repairs() -> None:
    written = outline(
        branch(1, "IF", "if it has no reviewer yet"),
        step(2, "send_email", 1, annotation="email the review queue"),
        branch(3, "IF", "if it already has a reviewer"),
        step(4, "send_email", 3, annotation="email the reviewer"),
    )
    catalog = shipped_catalogs()["globex-csm"]
    new, changes = repair_outline(written, catalog)
    assert changes["negated_tests_elsed"] == ["if it already has a reviewer"]
    assert [c.definition for c in new.components] == ["IF", "send_email", "ELSE", "send_email"]


def test_gold_flows_keep_their_tests_and_get_their_elses_back() -> None:
    kept = returned = 0
    for case in gold_cases("handwritten", "synthetic"):
        gold = Flow.model_validate(case.flow)
        assert else_negated_tests(gold)[1] == [], case.id
        kept += 1
        # each ELSE on the opposite of its IF's words, written as an IF, comes back
        for comp in gold.components:
            before = gold.neighbours(comp)[0]
            if comp.definition != "ELSE" or before is None or before.definition != "IF":
                continue
            if not says_the_opposite(before.annotation or "", comp.annotation or ""):
                continue
            written = gold.model_copy(
                update={
                    "components": [
                        c.model_copy(update={"definition": "IF"}) if c is comp else c
                        for c in gold.components
                    ]
                }
            )
            assert else_negated_tests(written)[0] == gold, case.id
            returned += 1
    assert kept > 3000
    assert returned >= 210  # 219 at this writing
