"""The coverage rule: which clauses ask for an action, which are covered, and that the
engine keeps writing when the rule says the answer may not end yet."""

from __future__ import annotations

import pytest
from conftest import needs

from flowgen.engine.base import ChatMessage, GenerationRequest
from flowgen.graph.coverage import (
    LONG_ACTIONS,
    MAX_EXTENSIONS,
    CoverageRule,
    MissingSteps,
    action_clauses,
    long_requirement,
    uncovered,
)

LONG = (
    "When a P1 incident is created, do the following. First, notify the on-call group in "
    "Teams. Second, create a problem record for it. Then email the caller's manager."
)


def test_action_clauses_are_the_ones_with_an_imperative_verb() -> None:
    actions = action_clauses(LONG)
    assert (
        actions
        == [
            "First",
            "notify the on-call group in Teams",
            "create a problem record for it",
            "Then email the caller's manager",
        ][1:]
    )
    assert not action_clauses("When an incident is created or updated")


def test_a_clause_is_covered_by_an_annotation_holding_half_its_words() -> None:
    actions = action_clauses(LONG)
    left = uncovered(actions, ["When a P1 incident is created", "notify the on-call group"])
    assert left == ["create a problem record for it", "Then email the caller's manager"]


def test_the_rule_refuses_to_end_an_outline_that_left_actions_out_then_gives_up() -> None:
    rule = CoverageRule(LONG)
    one_step = "T record_create | When a P1 incident is created\n- x | notify the on-call group\n"
    assert rule(one_step) is False
    whole = one_step + "- y | create a problem record\n- z | email the caller's manager\n"
    assert rule(whole) is True
    assert rule("REFUSE | not a workflow") is True
    for _ in range(MAX_EXTENSIONS):
        rule(one_step)
    assert rule(one_step) is True  # bounded: a clause it cannot place ends the outline


def test_long_applies_the_rule_only_where_many_actions_are_asked() -> None:
    short = "When a P1 incident is created, notify the on-call group and email the caller."
    many = LONG + " Then assign it to the network team and close the parent task."
    assert len(action_clauses(short)) < LONG_ACTIONS <= len(action_clauses(many))
    assert CoverageRule.when("long", short) is None
    assert CoverageRule.when("long", many) is not None
    assert CoverageRule.when("on", short) is not None
    assert CoverageRule.when("off", many) is None


def test_a_long_requirement_is_shown_more_solved_flows() -> None:
    from flowgen.graph.flow_graph import ExampleRetrieval

    short = "When a P1 incident is created, notify the on-call group and email the caller."
    many = LONG + " Then assign it to the network team and close the parent task."
    assert not long_requirement(short) and long_requirement(many)
    rule = ExampleRetrieval(k=3, k_long=5)
    assert (rule.k_for(short), rule.k_for(many)) == (3, 5)
    assert ExampleRetrieval(k=3).k_for(many) == 3  # no long rule: k for every requirement
    assert ExampleRetrieval(k=0, k_long=0).k_for(many) == 0


@pytest.fixture(scope="module")
@needs("model")
def engine():
    from flowgen.engine.factory import embedded_engine

    return embedded_engine(adapters={})


def test_the_engine_writes_on_while_may_end_says_no(engine) -> None:
    grammar = 'root ::= word ("\\n" word)*\nword ::= "yes" | "no"'
    question = [ChatMessage(role="user", content="Is the sky blue? Answer yes or no.")]
    request = GenerationRequest(messages=question, grammar=grammar, max_tokens=30)
    free = engine.generate(request)
    assert free.finish_reason == "stop"
    wanted = len(free.text.splitlines()) + 3
    held = engine.generate(
        request.model_copy(update={"may_end": lambda text: len(text.splitlines()) >= wanted})
    )
    assert len(held.text.splitlines()) >= wanted


def test_a_repeated_line_is_redone_only_while_steps_are_missing() -> None:
    """`MissingSteps`: redo while an action clause has no step, unless the outline is
    already long for the clauses asked (a loop, not a gap)."""
    missing = MissingSteps(LONG)
    start = "T record_create | When a P1 incident is created\n"
    notify = "- send_teams_message | notify the on-call group in Teams\n"
    assert missing(start + notify + notify)
    covered = start + notify + "- create_record | create a problem record\n"
    assert not missing(covered + "- send_email | email the caller's manager\n" * 2)
    looping = start + "".join(f"  - log | step {n}\n" for n in range(2 * 3 + 2))
    assert not missing(looping)
    assert missing(start + "".join(f"  - log | step {n}\n" for n in range(2 * 3 + 1)))


def test_the_engine_ends_the_answer_after_the_line_ends_after_line_names(engine) -> None:
    """The other hook (the outline's repeat stop): asked at each completed line, True
    ends the answer after that line, finished, with nothing of the next line in it."""
    grammar = 'root ::= word ("\\n" word)*\nword ::= "yes" | "no"'
    question = [ChatMessage(role="user", content="Is the sky blue? Answer yes or no.")]
    request = GenerationRequest(messages=question, grammar=grammar, max_tokens=30)
    asked: list[str] = []

    def two_lines(text: str) -> bool:
        asked.append(text)
        return len(text.splitlines()) >= 2

    held = engine.generate(
        request.model_copy(update={"may_end": lambda _: False, "ends_after_line": two_lines})
    )
    assert held.finish_reason == "stop" and held.complete
    assert held.text.endswith("\n") and len(held.text.splitlines()) == 2
    assert all(line in {"yes", "no"} for line in held.text.splitlines())
    assert len(asked) == 2 and asked[-1].startswith(held.text)
