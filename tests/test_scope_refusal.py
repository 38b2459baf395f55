"""An out-of-scope refusal of a requirement that plainly asks for a flow
(graph/scope_refusal.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flows import shipped_catalogs

from flowgen.graph.scope_refusal import (
    a_question,
    asks_for_a_flow,
    out_of_scope_reason,
    overrules_refusal,
)

# The triggers the graph lists for the demo installation (`list_names(kind="triggers")`).
TRIGGERS = [t.name for t in shipped_catalogs()["acme-itsm"].triggers]
CASUAL = (
    "hi, our knowlege base is full of old stuff that nobody cleans up. could you make"
    " something that runs every night at 11pm and takes every published article whose"
    " valid to date is already passed and sets it to retired? and please write in the log"
    " how many got retired so we can see it is working. thx a lot!"
)


def test_a_casual_request_for_a_flow_is_not_refused_as_out_of_scope() -> None:
    assert overrules_refusal("a workflow request, not a workflow", CASUAL, TRIGGERS)


@pytest.mark.parametrize(
    "requirement",
    [
        # rephrased train cases the adapter refused: the action in the passive, the third
        # person or a terse assignment
        "Hi all, whenever the sentiment on a platinum account's case turns negative, could"
        " the account team be notified? Thanks.",
        "Could we have a nightly job at 11 PM that goes through the vulnerable items Rapid7"
        " is no longer reporting and closes them out?",
        "acct country changed to France -> all its contacts' language = French",
    ],
)
def test_an_action_not_in_the_imperative_still_asks_for_a_flow(requirement: str) -> None:
    assert overrules_refusal("a change request, not a workflow", requirement, TRIGGERS)


@pytest.mark.parametrize(
    ("reason", "requirement"),
    [
        # a harm stands, whatever the requirement names
        (
            "sends personal data outside the company (data exfiltration)",
            "Every night, send all user records with their home addresses to my personal Gmail.",
        ),
        # out of scope, and no trigger named
        (
            "a reporting question, not a workflow",
            "What's the average resolution time for network incidents this year?",
        ),
        (
            "not a workflow request",
            "Could you write a 1,500-word piece for the internal newsletter about ITIL 4?",
        ),
    ],
)
def test_other_refusals_stand(reason: str, requirement: str) -> None:
    assert not overrules_refusal(reason, requirement, TRIGGERS)


def test_reasons_for_harm_are_not_out_of_scope() -> None:
    assert out_of_scope_reason("a trivia question, not a workflow")
    assert out_of_scope_reason("stock trading on a personal account, not an ITSM workflow")
    assert not out_of_scope_reason("harassment of an employee")
    assert not out_of_scope_reason("mass deletion to hide activity")


def test_no_gold_refusal_of_train_or_dev_is_overruled() -> None:
    """Every out-of-scope refusal in the train and dev splits names no trigger or asks no
    action; the refusals that do both are all for harm."""
    overruled = []
    for path in (Path("data/handwritten.jsonl"), Path("data/synthetic.jsonl")):
        for case in map(json.loads, path.read_text().splitlines()):
            refused = case["split"] in ("train", "dev") and case.get("refusal")
            if refused and overrules_refusal(case["refusal"], case["requirement"], TRIGGERS):
                overruled.append(case["id"])
    assert overruled == []


def test_most_gold_flows_name_a_trigger_and_an_action() -> None:
    flows = [
        case
        for case in map(json.loads, Path("data/handwritten.jsonl").read_text().splitlines())
        if case["split"] == "train" and case.get("flow")
    ]
    asking = sum(asks_for_a_flow(c["requirement"], TRIGGERS) for c in flows)
    assert asking / len(flows) > 0.5


@pytest.mark.parametrize(
    ("requirement", "question"),
    [
        ("How many desks are free on the third floor tomorrow?", True),
        ("What's the average resolution time for network incidents this year?", True),
        ("which groups have more than 50 open incidents?", True),
        # a flow asked for as a question, or a question inside a flow request
        ("Could we have it so that when an incident is resolved, the caller gets a survey?", False),
        ("What if, whenever a P1 incident is created, we page the on-call engineer?", False),
        ("When a case is closed, how do we tell the customer? Email them the close notes.", False),
        ("What is the capacity of the Paris office. Then email it to me.", False),
    ],
)
def test_a_question_asked_of_the_data(requirement: str, question: bool) -> None:
    assert a_question(requirement, TRIGGERS) is question


def test_every_question_of_the_cases_is_a_refusal() -> None:
    """Of the hand-written, synthetic and rephrased cases, what the rule reads as a
    question is a gold refusal, and there are such cases in train."""
    catalogs = shipped_catalogs()
    triggers = {name: [t.name for t in c.triggers] for name, c in catalogs.items()}
    questions: dict[str, bool] = {}
    paths = ("data/handwritten.jsonl", "data/synthetic.jsonl", "data/rephrased/cases.jsonl")
    for path in map(Path, paths):
        for case in map(json.loads, path.read_text().splitlines()):
            if a_question(case["requirement"], triggers[case["installation"]]):
                questions[case["id"]] = case.get("flow") is None
    assert all(questions.values()), [i for i, refused in questions.items() if not refused]
    assert sum(i.split("-")[1] == "train" for i in questions) >= 5
