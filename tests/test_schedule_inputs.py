"""A schedule trigger's inputs read from its words (graph/schedule_inputs.py), and the
inputs call the graph then does not make."""

from __future__ import annotations

from pathlib import Path

import pytest
from flows import gold_cases

from flowgen.graph.schedule_inputs import schedule_inputs
from flowgen.training.cases import read_cases

REPO = Path(__file__).resolve().parent.parent
CASES = {case.id: case for case in read_cases([REPO / "data" / "handwritten.jsonl"])}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("trigger", "words", "inputs"),
    [
        ("daily", "Every night at 11pm", {"time": "1970-01-01 23:00:00"}),
        ("daily", "Each weekday at 7:30am", {"time": "1970-01-01 07:30:00"}),
        ("daily", "Every evening at 7", {"time": "1970-01-01 19:00:00"}),
        ("daily", "Every day at noon", {"time": "1970-01-01 12:00:00"}),
        ("weekly", "Every Friday at 5pm", {"day_of_week": "5", "time": "1970-01-01 17:00:00"}),
        ("weekly", "Every Sunday at midnight", {"day_of_week": "7", "time": "1970-01-01 00:00:00"}),
        (
            "monthly",
            "At 7am on the first of each month",
            {"day_of_month": "1", "time": "1970-01-01 07:00:00"},
        ),
        (
            "monthly",
            "On the 15th of every month at 10pm",
            {"day_of_month": "15", "time": "1970-01-01 22:00:00"},
        ),
        # a time said without "at", and a 24-hour clock at night
        ("daily", "daily 06:00", {"time": "1970-01-01 06:00:00"}),
        ("daily", "daily 9am", {"time": "1970-01-01 09:00:00"}),
        ("weekly", "every Monday 8:00", {"day_of_week": "1", "time": "1970-01-01 08:00:00"}),
        ("daily", "Every night at 00:15", {"time": "1970-01-01 00:15:00"}),
        ("repeat", "Every 30 minutes", {"repeat": "0d 00:30:00"}),
        ("repeat", "Every hour", {"repeat": "0d 01:00:00"}),
        ("repeat", "Every 6 hours", {"repeat": "0d 06:00:00"}),
    ],
)
def test_a_schedule_stated_in_full_gives_its_inputs(
    trigger: str, words: str, inputs: dict[str, str]
) -> None:
    assert schedule_inputs(trigger, words) == inputs


@pytest.mark.unit
@pytest.mark.parametrize(
    ("trigger", "words"),
    [
        ("weekly", "Every Monday"),  # no time: our flows default it differently
        ("daily", "Every weekday morning"),
        ("monthly", "at 6am every month"),  # no day
        ("run_once", "Run once on 1 December at 9am"),  # the year is not said
        ("record_create", "When an incident is created at 5pm"),
        ("daily", "Every day at 25:00"),
        ("daily", "Every day, P1 incidents older than 2 days"),  # a number is no time
    ],
)
def test_a_schedule_missing_a_part_is_left_to_the_model(trigger: str, words: str) -> None:
    assert schedule_inputs(trigger, words) is None


def test_every_gold_schedule_its_words_state_is_read_as_written() -> None:
    """The schedule triggers of the hand-written and synthetic train and dev gold flows
    whose span, or else requirement, states every input: all read as gold has them (611
    of 623; the rest say no time or day)."""
    read = wrong = 0
    for case in gold_cases("handwritten", "synthetic"):
        trigger = case.flow["trigger"] or {}
        if trigger.get("type") not in ("daily", "weekly", "monthly", "repeat"):
            continue
        stated = schedule_inputs(trigger["type"], trigger.get("annotation") or "")
        stated = stated or schedule_inputs(trigger["type"], case.requirement)
        if stated is not None:
            read += 1
            wrong += stated != {i["name"]: i["value"] for i in trigger["inputs"]}
    assert (read, wrong) == (611, 0)


def test_a_stated_schedule_makes_no_trigger_call_but_keeps_its_turn(synced_store) -> None:
    from flowgen.flow.model import Flow
    from flowgen.graph.generator import FlowGenerator
    from flowgen.training.replay import ReplayEngine

    case = CASES["itsm-dev-019"]  # "Every night at 11pm, close all resolved incidents ..."
    assert case.flow is not None
    assert case.flow["trigger"]["inputs"] == [{"name": "time", "value": "1970-01-01 23:00:00"}]
    flow = Flow.model_validate(case.flow)
    assert flow.trigger is not None
    flow.trigger.inputs = []  # what the model would answer is not what the flow gets
    engine = ReplayEngine(flow)
    result = FlowGenerator(
        "acme-itsm", store=synced_store, engine=engine, checkpoints=False
    ).generate(case.requirement)
    assert result.flow is not None
    assert result.flow["trigger"]["inputs"] == case.flow["trigger"]["inputs"]
    users = [[m.content for m in r.messages or [] if m.role == "user"] for r in engine.requests]
    assert not any("## Trigger " in turns[-1] for turns in users)
    first_step = next(turns for turns in users if "## Step 1." in turns[-1])
    assert "## Trigger daily" in first_step[0]  # the turn, answered, stays
