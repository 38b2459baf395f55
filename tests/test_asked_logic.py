"""What the requirement asks for (graph/asked_logic.py): PARALLEL only with words of
simultaneity, TRY only with words of failure, in the outline grammar."""

from __future__ import annotations

import pytest
from flows import DATA
from test_grammar import accepts

from flowgen.engine.grammar import outline_grammar
from flowgen.flow.flowlogic import FLOW_LOGIC
from flowgen.graph.asked_logic import asked_names
from flowgen.training.cases import read_cases

ALL = list(FLOW_LOGIC)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("requirement", "parallel", "tries"),
    [
        ("When a P1 incident is opened, page the on-call and post to Teams.", False, False),
        ("When a P1 incident is opened, page the on-call and post to Teams at once.", True, False),
        ("Every hour, sync the users from Okta; if the sync fails, email the admin.", False, True),
        ("At the same time, log it; if it cannot be created, open a task.", True, True),
    ],
)
def test_parallel_and_try_are_offered_only_where_asked_for(
    requirement: str, parallel: bool, tries: bool
) -> None:
    offered = set(asked_names(requirement, ALL))
    assert ({"PARALLEL", "PATH"} <= offered) is parallel
    assert ({"TRY", "CATCH"} <= offered) is tries
    assert {"IF", "ELSE", "FOREACH"} <= offered  # the rest is always offered


@pytest.mark.unit
def test_no_gold_flow_uses_a_name_its_requirement_does_not_ask_for() -> None:
    """Train and dev, hand-written and synthetic: 246 PARALLELs and 299 TRYs, each with
    its words."""
    gated = {"PARALLEL", "TRY"}
    used = dict.fromkeys(gated, 0)
    for name in ("handwritten", "synthetic"):
        for case in read_cases([DATA / f"{name}.jsonl"]):
            if case.split not in ("train", "dev") or not case.flow:
                continue
            names = {comp["definition"] for comp in case.flow.get("components", [])}
            assert set(asked_names(case.requirement, sorted(names))) == names, case.id
            for gate in gated & names:
                used[gate] += 1
    assert used["PARALLEL"] >= 240 and used["TRY"] >= 290


@pytest.mark.unit
def test_the_outline_grammar_admits_no_parallel_without_its_words() -> None:
    requirement = "When a P1 incident is opened, page the on-call and post to Teams."
    grammar = outline_grammar(
        ["record_create"],
        ["page_on_call", "post_message"],
        asked_names(requirement, ALL),
        requirement=requirement,
    )
    plain = (
        "T record_create | When a P1 incident is opened\n"
        "- page_on_call | page the on-call\n- post_message | post to Teams\n"
    )
    wrapped = (
        "T record_create | When a P1 incident is opened\n- PARALLEL | post to Teams\n"
        "  - PATH | page the on-call\n    - page_on_call | page the on-call\n"
        "  - PATH | post to Teams\n    - post_message | post to Teams\n"
    )
    assert accepts(grammar, plain)
    assert not accepts(grammar, wrapped)
