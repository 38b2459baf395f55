"""Steps written on words that ask for no step: the request for the flow itself and the
context before the trigger (graph/unasked_steps.py)."""

from __future__ import annotations

import pytest
from flows import branch, flow, gold_cases, shape, step

from flowgen.flow.model import Flow
from flowgen.graph.unasked_steps import asks_for_the_flow, context_end, drop_unasked_steps

CONTEXT = (
    "Hi, people who report security issues get confused when the severity of their ticket"
    " drops without any explanation. Could we send the reporter an email whenever a"
    " security incident's severity is lowered?"
)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "asks"),
    [
        ("Create a flow", True),
        ("set up a flow", True),
        ("get a flow so that whenever a message lands", True),
        ("get something so that whenever a chat case gets closed", True),
        ("build us a simple automation", True),
        ("create a problem for the incident", False),
        ("write a warning to the flow log", False),
        ("if Splunk finds something", False),
    ],
)
def test_words_that_ask_for_the_flow_itself(span: str, asks: bool) -> None:
    assert asks_for_the_flow(span) is asks


@pytest.mark.unit
def test_a_record_step_on_the_request_for_the_flow_goes() -> None:
    """itsm-train-035-rephrased with adapter v11: `create_record | Create a flow`. A
    vendor's step on such words stays: the model knew it and misplaced its words."""
    answered = Flow.model_validate(
        flow(
            step(1, "create_record", annotation="Create a flow"),
            step(2, "create_salesforce_case", annotation="get a flow"),
            step(3, "send_email", annotation="email the requester"),
        )
    )
    kept, dropped = drop_unasked_steps(answered)
    assert dropped == ["Create a flow"]
    assert [c.definition for c in kept.components] == ["create_salesforce_case", "send_email"]


@pytest.mark.unit
def test_steps_on_the_context_before_the_trigger_go_but_not_the_last() -> None:
    """sec-train-028-rephrased with adapter v11: three steps on the context sentence, none
    on the ask; two go and the last stays, so that the flow keeps a step for the rules
    that add the asks no step covers."""
    span = "get confused when the severity of their ticket drops"
    answered = Flow.model_validate(
        flow(
            step(1, "look_up_record", annotation=span),
            step(2, "create_record", annotation=span),
            step(3, "send_email", annotation=span),
        )
    )
    kept, dropped = drop_unasked_steps(answered, CONTEXT)
    assert dropped == [span, span]
    assert shape(kept) == [("send_email", 0)]


@pytest.mark.unit
def test_words_said_again_after_the_trigger_are_no_context() -> None:
    requirement = (
        "Incidents pile up on hold. When an incident is put on hold, email the caller"
        " about incidents on hold."
    )
    end = context_end(requirement)
    assert end is not None and " ".join(requirement.lower().split())[end:].startswith("when")
    answered = Flow.model_validate(
        flow(
            step(1, "send_email", annotation="email the caller"),
            branch(2, "IF", "Incidents pile up"),
            step(3, "update_record", 2, annotation="on hold"),
        )
    )
    kept, dropped = drop_unasked_steps(answered, requirement)
    # "on hold" is said after the trigger's sentence starts too; an IF is flow logic
    assert dropped == []
    assert kept == answered


@pytest.mark.unit
def test_no_gold_step_asks_for_the_flow_and_one_lies_in_context() -> None:
    """Of the hand-written and synthetic train and dev steps, none is on words asking for
    the flow; one hand-written step (itsm-train-g26's purge, said before its schedule) is
    on the words before the trigger's sentence."""
    on_request, in_context = [], []
    for case in gold_cases("handwritten", "synthetic"):
        answered = Flow.model_validate(case.flow)
        if drop_unasked_steps(answered)[1]:
            on_request.append(case.id)
        if drop_unasked_steps(answered, case.requirement)[1]:
            in_context.append(case.id)
    assert on_request == []
    assert in_context == ["itsm-train-g26"]
