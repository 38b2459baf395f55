"""A look-up, a loop over what it found and one update of each, written as one bulk update
where the words ask for no loop (graph/bulk_updates.py)."""

from __future__ import annotations

import pytest
from flows import branch, flow, gold_cases, shape, step

from flowgen.flow.model import Flow
from flowgen.graph.bulk_updates import merge_bulk_updates

REQUIREMENT = (
    "year-end change freeze starts 20 Dec: grab every change in Scheduled and push it back"
    " to Assess"
)


def _looped(update_span: str = "push it back to Assess") -> Flow:
    return Flow.model_validate(
        flow(
            step(1, "look_up_records", annotation="every change in Scheduled"),
            branch(2, "FOREACH", "change freeze"),
            step(3, "update_record", 2, annotation=update_span),
            step(4, "log", annotation="year-end change freeze"),
        )
    )


@pytest.mark.unit
def test_a_loop_of_one_update_is_one_bulk_update_on_the_words_of_both() -> None:
    merged, spans = merge_bulk_updates(_looped(), REQUIREMENT)
    assert spans == ["every change in Scheduled and push it back to Assess"]
    assert shape(merged) == [("update_multiple_records", 0), ("log", 0)]
    bulk = merged.components[0]
    assert bulk.annotation == spans[0] and bulk.inputs == []


@pytest.mark.unit
@pytest.mark.parametrize(
    "requirement",
    [
        # the words ask for the loop
        "When a problem is closed, find its open tasks and close each one",
        "When a user goes inactive, find their incidents and assign them to their manager",
    ],
)
def test_words_that_ask_for_a_loop_keep_it(requirement: str) -> None:
    looped = _looped()
    assert merge_bulk_updates(looped, requirement) == (looped, [])


@pytest.mark.unit
def test_a_loop_that_holds_more_than_the_update_stays() -> None:
    looped = Flow.model_validate(
        flow(
            step(1, "look_up_records", annotation="every change in Scheduled"),
            branch(2, "FOREACH", "change freeze"),
            step(3, "update_record", 2, annotation="push it back to Assess"),
            step(4, "send_email", 2, annotation="email the requester"),
        )
    )
    assert merge_bulk_updates(looped, REQUIREMENT) == (looped, [])


@pytest.mark.unit
def test_an_update_said_before_the_look_up_keeps_the_look_ups_words() -> None:
    requirement = "push it back to Assess: every change in Scheduled"
    merged, spans = merge_bulk_updates(_looped(), requirement)
    assert spans == ["every change in Scheduled"]
    assert merged.components[0].annotation == "every change in Scheduled"


@pytest.mark.unit
def test_few_gold_flows_change() -> None:
    changed = [
        case.id
        for case in gold_cases("handwritten", "synthetic")
        if merge_bulk_updates(Flow.model_validate(case.flow), case.requirement)[1]
    ]
    assert len(changed) <= 5
