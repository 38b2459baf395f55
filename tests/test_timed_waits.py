"""A step whose span says to wait a fixed time is a Wait For Duration
(graph/timed_waits.py)."""

from __future__ import annotations

import pytest
from flows import flow, gold_steps, step

from flowgen.flow.model import Flow
from flowgen.graph.timed_waits import TIMED_WAIT, name_timed_waits


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "timed"),
    [
        ("wait two days", True),
        ("wait 10d", True),
        ("then wait 48 hours", True),
        ("wait 3 days, look the review up again", True),
        ("wait up to 21 days for the RMA to be received", False),
        ("wait 2 days for the customer to reply", False),
        ("wait until the task is closed", False),
        ("wait for the approval", False),
    ],
)
def test_a_timed_wait_is_told_from_a_wait_for_something(span: str, timed: bool) -> None:
    assert bool(TIMED_WAIT.match(span)) == timed


@pytest.mark.unit
def test_a_core_step_over_a_timed_wait_becomes_a_wait_for_duration() -> None:
    """csm-dev-011 with adapter v11: `wait_for_condition | wait two days`."""
    answered = Flow.model_validate(
        flow(
            step(1, "wait_for_condition", annotation="wait two days"),
            step(2, "update_record", annotation="close it"),
            step(3, "wait_for_condition", annotation="wait until the task is closed"),
        )
    )
    named, changes = name_timed_waits(answered)
    assert changes == ["1: wait_for_condition -> WAITFORDURATION"]
    first = named.components[0]
    assert (first.definition, first.category, first.inputs) == ("WAITFORDURATION", "flowlogic", [])
    assert [c.definition for c in named.components[1:]] == ["update_record", "wait_for_condition"]


@pytest.mark.unit
def test_every_gold_span_that_waits_a_fixed_time_is_a_wait_for_duration() -> None:
    timed = 0
    for _, comp in gold_steps("handwritten", "synthetic"):
        if TIMED_WAIT.match((comp.get("annotation") or "").strip()):
            timed += 1
            assert comp["definition"] == "WAITFORDURATION", comp
    assert timed >= 40
