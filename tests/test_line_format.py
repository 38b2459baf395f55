"""The model's line format round-trips to the flow JSON of the spec."""

from __future__ import annotations

import json

import pytest
from conftest import REPO

from flowgen.flow.model import Flow, flow_json
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


# -- subflows: `T none`, then the declared inputs and outputs ------------------------------------
SUBFLOW = (
    "T none | Create a subflow\n"
    "  input incident (reference of incident) | takes an incident\n"
    "  input message (string) | a message\n"
    "  output email_sent (boolean) | returns whether the email was sent\n"
    "- add_work_note | posts the message as a work note\n"
    "- send_email | notifies the assignee\n"
    "- ASSIGNSUBFLOWOUTPUTS | returns whether the email was sent\n"
)


def test_a_subflow_outline_round_trips(catalog) -> None:
    flow = parse_outline(SUBFLOW, catalog, name="Notify on incident").flow
    assert flow is not None and flow.is_subflow and flow.trigger.annotation == "Create a subflow"
    assert [(p.name, p.type, p.reference, p.annotation) for p in flow.input_params] == [
        ("incident", "reference", "incident", "takes an incident"),
        ("message", "string", None, "a message"),
    ]
    assert [(p.name, p.type) for p in flow.output_params] == [("email_sent", "boolean")]
    assert [c.definition for c in flow.components][-1] == "ASSIGNSUBFLOWOUTPUTS"
    assert flow.components[0].order == 1 and flow.components[0].block is None
    assert outline_lines(flow) == SUBFLOW
    data = flow_json(flow)  # StarFlow's top-level `inputs`/`outputs`, no trigger type
    assert "type" not in data["trigger"]
    assert data["inputs"]["items"][0] == {
        "name": "incident",
        "type": "reference",
        "reference": "incident",
        "annotation": "takes an incident",
    }
    assert outline_lines(Flow.model_validate(data)) == SUBFLOW


def test_a_starflow_subflow_is_written_in_the_line_format(catalog) -> None:
    starflow = {
        "trigger": None,
        "inputs": {"items": [{"name": "parent", "type": "reference", "reference": "incident"}]},
        "outputs": {"items": [{"name": "closed", "type": "integer"}]},
        "components": [
            {"order": 1, "category": "flowlogic", "definition": "ASSIGNSUBFLOWOUTPUTS"},
        ],
    }
    text = outline_lines(Flow.model_validate(starflow))
    assert text == (
        "T none | \n"
        "  input parent (reference of incident) | \n"
        "  output closed (integer) | \n"
        "- ASSIGNSUBFLOWOUTPUTS | \n"
    )
    flow = parse_outline(text, catalog).flow
    assert flow.input_params[0].reference == "incident" and flow.output_params[0].name == "closed"


def test_a_subflow_without_declarations_and_ordinary_outlines_parse_as_before(catalog) -> None:
    bare = parse_outline("T none | a subflow\n- log | log it\n", catalog).flow
    assert bare.is_subflow and bare.inputs is None and bare.outputs is None
    assert outline_lines(bare) == "T none | a subflow\n- log | log it\n"
    flow = gold_flows()[0]
    assert outline_lines(flow).count("\n") == 1 + len(flow.components)  # no declaration lines


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("T daily | every day\n  input x (string) | a\n- log | b\n", "only a subflow"),
        ("T none | s\n  output y (string) | a\n  input x (string) | b\n- log | c\n", "before"),
        ("T none | s\n  input x (string) | a\n  input x (integer) | b\n- log | c\n", "twice"),
        ("T none | s\n- log | c\n  input x (string) | a\n", "expected"),  # after a step
        ("T none | s\n    input x (string) | a\n- log | c\n", "expected"),  # too deep
    ],
)
def test_misplaced_declarations_are_errors(catalog, text: str, message: str) -> None:
    with pytest.raises(LineFormatError, match=message):
        parse_outline(text, catalog)


def test_hand_written_subflows_round_trip_through_the_authoring_format() -> None:
    """Every subflow case of data/handwritten: its outline, declarations and inputs are
    written back exactly as the line format and read into the same flow."""
    from flowgen.flow.catalog import load_catalog
    from flowgen.training.authoring import parse_authored

    cases = [json.loads(line) for line in (REPO / "data" / "handwritten.jsonl").open()]
    subflows = [c for c in cases if "-sub-" in c["id"]]
    assert len(subflows) == 10
    assert {c["installation"] for c in subflows} == {"acme-itsm", "globex-csm", "initech-secops"}
    catalogs = {}
    for case in subflows:
        inst = case["installation"]
        catalogs.setdefault(inst, load_catalog(REPO / "catalogs" / f"{inst}.yaml"))
        flow = Flow.model_validate(case["flow"])
        assert flow.is_subflow and flow.input_params and flow.output_params
        outline = parse_outline(outline_lines(flow), catalogs[inst], name=flow.name).flow
        assert flow_json(outline) == flow_json(
            flow.model_copy(
                update={
                    "components": [c.model_copy(update={"inputs": []}) for c in flow.components]
                }
            )
        )
        authored = "\n".join(authored_lines(flow))
        assert flow_json(parse_authored(authored, catalogs[inst], name=flow.name)) == case["flow"]


def authored_lines(flow: Flow) -> list[str]:
    """The authoring format of `flow`: each item's line with its inputs under it."""
    outline = outline_lines(flow).splitlines()
    declared = len(flow.input_params) + len(flow.output_params)
    lines = outline[: 1 + declared]
    for comp, line in zip(flow.components, outline[1 + declared :], strict=True):
        pad = " " * (len(line) - len(line.lstrip(" ")) + 2)
        lines += [line, *(pad + i for i in inputs_lines(comp.inputs).splitlines())]
    return lines
