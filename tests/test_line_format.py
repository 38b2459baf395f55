"""The model's line format round-trips to the flow JSON of the spec."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from flowgen.flow.model import Flow
from flowgen.prompts.line_format import (
    LineFormatError,
    inputs_lines,
    outline_lines,
    parse_inputs,
    parse_outline,
)


def gold_flows() -> list[Flow]:
    cases = [
        json.loads(line) for line in (REPO / "examples" / "gold.jsonl").read_text().splitlines()
    ]
    return [Flow.model_validate(c["flow"]) for c in cases if c["flow"]]


@pytest.mark.parametrize("flow", gold_flows(), ids=lambda f: f.name)
def test_round_trip(flow: Flow, catalog) -> None:
    outline = parse_outline(outline_lines(flow), catalog, name=flow.name).flow
    assert outline is not None
    keep = {"order", "block", "category", "definition", "scope", "annotation"}
    assert [c.model_dump(include=keep) for c in outline.components] == [
        c.model_dump(include=keep) for c in flow.components
    ]
    assert outline.trigger.type == flow.trigger.type
    for comp in flow.components:
        assert parse_inputs(inputs_lines(comp.inputs)) == comp.inputs


def test_example_lines(catalog) -> None:
    flow = gold_flows()[0]
    assert outline_lines(flow) == (
        "T record_update | Every time a user becomes inactive\n"
        "- look_up_records | find all incidents assigned to them\n"
        "- FOREACH | find all incidents\n"
        "  - update_record | assign them to their manager\n"
    )


def test_refusal_and_errors(catalog) -> None:
    refused = parse_outline("REFUSE | deleting records to hide activity is harmful\n", catalog)
    assert refused.flow is None and refused.refusal.startswith("deleting")
    with pytest.raises(LineFormatError, match="no step 'teleport'"):
        parse_outline("T daily | every day\n- teleport | beam me up\n", catalog)
    with pytest.raises(LineFormatError, match="deeper"):
        parse_outline("T daily | every day\n    - log | x\n", catalog)


def test_consensus_keeps_the_outline_the_samples_agree_on(catalog) -> None:
    """Minimum Bayes risk over candidate outlines (graph/flow_graph.py): the candidate
    closest to the others wins; a lone outlier, a sampled refusal or broken text loses;
    a greedy refusal is never outvoted."""
    from flowgen.engine.base import GenerationResult, Timings, Usage
    from flowgen.graph.flow_graph import consensus_choice

    def answer(text: str) -> GenerationResult:
        return GenerationResult(
            text=text,
            finish_reason="stop",
            usage=Usage(prompt_tokens=1, completion_tokens=1),
            timings=Timings(first_token_s=0.0, total_s=0.0),
            model="m",
        )

    lookup = "T record_update | a user becomes inactive\n- look_up_records | find incidents\n"
    loop = lookup + "- FOREACH | each incident\n  - update_record | assign to the manager\n"
    odd = "T daily | every day\n- send_email | email someone\n"
    refusal = "REFUSE | harmful\n"
    requirement = "When a user becomes inactive, find incidents and assign to the manager"
    chosen, means = consensus_choice(
        [answer(t) for t in (lookup, loop, loop, odd, refusal, "- garbage")],
        catalog,
        requirement,
    )
    assert chosen == 1  # the first of the two agreeing loops, over the greedy lookup
    assert means[4] == means[5] == 0.0 and means[1] > means[0] > means[3]
    greedy_refusal = [answer(refusal), answer(loop), answer(loop)]
    assert consensus_choice(greedy_refusal, catalog, requirement)[0] == 0
