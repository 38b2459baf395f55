"""Example flows: an installation's own flows and the shared library, synced into the real
store, retrieved for prompts, and shown by the graph (driven by the replay engine)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from flowgen.db.example_flows import ExampleFlow, FlowLibraryError
from flowgen.db.sync import sync_catalog
from flowgen.flow.catalog import Catalog, CatalogError, parse_catalog
from flowgen.flow.model import Flow
from flowgen.graph.flow_graph import ExampleRetrieval
from flowgen.graph.generator import FlowGenerator
from flowgen.graph.input_examples import closest_item_inputs
from flowgen.tools.catalog_tools import CatalogTools
from flowgen.training.replay import ReplayEngine
from tests.conftest import flowgen

REPO = Path(__file__).resolve().parent.parent
CASES = [json.loads(line) for line in (REPO / "examples" / "gold.jsonl").read_text().splitlines()]
FLOW_CASES = [c for c in CASES if c["flow"] is not None]


def solved(case: dict[str, Any]) -> ExampleFlow:
    return ExampleFlow(case["id"], case["installation"], case["requirement"], case["flow"])


def prompt(request: Any) -> str:
    return "\n".join(m.content for m in request.messages)


@pytest.fixture(scope="module")
def library(synced_store):
    """The gold cases as the shared library."""
    synced_store.sync_flows(None, [solved(c) for c in FLOW_CASES], "gold")
    return synced_store


def test_sync_is_incremental_and_replaces_the_library(library) -> None:
    again = library.sync_flows(None, [solved(c) for c in FLOW_CASES], "gold")
    assert (again.added, again.changed, again.unchanged) == (0, 0, len(FLOW_CASES))
    fewer = library.sync_flows(None, [solved(c) for c in FLOW_CASES[1:]], "gold")
    assert (fewer.removed, fewer.unchanged, fewer.embedded) == (1, len(FLOW_CASES) - 1, 0)
    back = library.sync_flows(None, [solved(c) for c in FLOW_CASES], "gold")
    assert back.added == 1 and back.embedded == 1


def test_an_invalid_flow_is_named_and_nothing_changes(library) -> None:
    before = library.flow_counts()
    bad = json.loads(json.dumps(FLOW_CASES[0]["flow"]))
    bad["components"][0]["definition"] = "launch_rocket"
    flows = [solved(c) for c in FLOW_CASES[1:]] + [
        ExampleFlow("broken", "acme-itsm", "launch a rocket", bad)
    ]
    with pytest.raises(FlowLibraryError) as err:
        library.sync_flows(None, flows, "mine.jsonl")
    message = str(err.value)
    assert f"mine.jsonl[{len(flows) - 1}] (broken).flow" in message
    assert "launch_rocket" in message
    assert library.flow_counts() == before


def test_search_leaves_out_excluded_names_and_near_copies(library) -> None:
    tools = CatalogTools(library, "acme-itsm")
    case = FLOW_CASES[2]
    found = tools.search_examples(case["requirement"], k=3)
    assert found[0]["name"] == case["id"] and found[0]["score"] > 0.99  # itself, when allowed
    names = [e["name"] for e in tools.search_examples(case["requirement"], 3, [case["id"]])]
    assert case["id"] not in names and len(names) == 3
    close = tools.search_examples(case["requirement"], 3, exclude_above=0.93)
    assert all(e["score"] < 0.93 for e in close) and case["id"] not in [e["name"] for e in close]


def test_much_longer_examples_give_way_to_ones_of_the_requests_length(library) -> None:
    """A documentation-length flow costs a one-line request a hundred prompt tokens a
    call: it is shown for requests of its own length, not for short ones."""
    case = FLOW_CASES[2]
    padding = " ".join(["and keep the requester informed of progress at every stage"] * 10)
    wordy = ExampleFlow(
        "wordy", case["installation"], f"{case['requirement']} {padding}", case["flow"]
    )
    library.sync_flows(None, [solved(c) for c in FLOW_CASES] + [wordy], "gold")
    try:
        tools = CatalogTools(library, "acme-itsm")
        short = [e["name"] for e in tools.search_examples(case["requirement"], k=3)]
        assert len(short) == 3 and "wordy" not in short
        assert "wordy" in [e["name"] for e in tools.search_examples(wordy.requirement, k=3)]
    finally:
        library.sync_flows(None, [solved(c) for c in FLOW_CASES], "gold")


def test_shared_flows_are_offered_only_where_their_steps_exist(library, catalog, embedder) -> None:
    """An installation without `send_email` is never shown a shared flow that sends one."""
    smaller = catalog.model_copy(
        update={
            "installation": "acme-no-email",
            "steps": [s for s in catalog.steps if s.name != "send_email"],
        }
    )
    sync_catalog(smaller, library.engine, embedder=embedder)
    senders = {c["id"] for c in FLOW_CASES if '"send_email"' in json.dumps(c["flow"])}
    assert senders
    tools = CatalogTools(library, "acme-no-email")
    for case in FLOW_CASES:
        offered = {e["name"] for e in tools.search_examples(case["requirement"], k=5)}
        assert not offered & senders


def test_catalog_flows_sync_with_the_catalog_and_rank_as_the_installations_own(
    library, catalog: Catalog, embedder
) -> None:
    case = FLOW_CASES[1]
    data = catalog.model_dump(exclude_none=True)
    data["installation"] = "acme-own"
    data["flows"] = [
        {"name": "mine", "description": case["requirement"], "flow": case["flow"]},
    ]
    summary = sync_catalog(parse_catalog(data), library.engine, embedder=embedder)
    assert summary.flows is not None and summary.flows.added == 1
    found = CatalogTools(library, "acme-own").search_examples(case["requirement"], k=3)
    assert found[0]["name"] == "mine" and found[0]["own"] is True
    # A catalog file that says nothing of flows leaves them; a broken flow is named.
    sync_catalog(parse_catalog({**data, "flows": None}), library.engine, embedder=embedder)
    assert library.flow_counts()["acme-own"] == 1
    broken = json.loads(json.dumps(case["flow"]))
    broken["trigger"]["type"] = "on_full_moon"
    with pytest.raises(CatalogError, match=r"flows\[0\] \(mine\)\.flow: .*on_full_moon"):
        parse_catalog({**data, "flows": [{"name": "mine", "requirement": "x", "flow": broken}]})


def test_the_graph_shows_examples_in_both_prompts_and_keeps_them_in_the_state(library) -> None:
    case = FLOW_CASES[2]  # the weekly reminder that emails each assignee
    engine = ReplayEngine(Flow.model_validate(case["flow"]))
    rule = ExampleRetrieval(k=3, exclude=(case["id"],))
    generator = FlowGenerator(
        "acme-itsm",
        store=library,
        engine=engine,
        checkpoints=True,
        examples=rule,
        instructions=False,  # as for a fine-tuned adapter
    )
    result = generator.generate(case["requirement"])
    assert result.status == "ok" and engine.rejections == []
    outline = prompt(engine.requests[0])
    assert (
        outline.count("## Example: ") == 3
        and case["requirement"] not in outline.split("## Requirement")[0]
    )
    assert outline.rindex("## Example: ") < outline.index("## Requirement")
    assert "## Guidelines" not in outline
    state = generator.graph.get_state({"configurable": {"thread_id": result.run_id}}).values
    shown = [e["name"] for e in state["examples"]]
    assert len(shown) == 3 and case["id"] not in shown
    email = next(r for r in engine.requests if "## Step 3. send_email" in prompt(r))
    assert "## Example\nah_to = {{" in email.messages[-1].content
    pool = state["input_examples"]
    assert pool and case["id"] not in {e["example"] for e in pool}


def test_item_inputs_come_from_the_nearest_flows_and_leave_out_excluded_ones(library) -> None:
    tools = CatalogTools(library, "acme-itsm")
    case = FLOW_CASES[2]
    pool = tools.search_solved_flows(case["requirement"])["item_inputs"]
    assert pool[0]["example"] == case["id"]  # itself first, when allowed
    assert {e["trigger"] for e in pool} == {True, False}
    assert all(e["inputs"] for e in pool)
    others = tools.search_solved_flows(case["requirement"], exclude=[case["id"]])["item_inputs"]
    assert others and case["id"] not in {e["example"] for e in others}


def test_an_inputs_turn_shows_the_solved_item_that_reads_most_like_its_own() -> None:
    def entry(definition: str, annotation: str, values: str, trigger: bool = False) -> dict:
        inputs = [{"name": "values", "value": values}]
        return {
            "definition": definition,
            "trigger": trigger,
            "annotation": annotation,
            "inputs": inputs,
            "example": annotation,
        }

    pool = [
        entry("update_record", "close the incident", "state=7"),
        entry("update_record", "assign it to the manager", "assigned_to={{2.item.manager}}"),
        entry("record_update", "when the manager changes", "manager", trigger=True),
    ]
    closest = closest_item_inputs(pool, "update_record", False, "assign them to their manager")
    assert closest == "values = assigned_to={{2.item.manager}}\n"
    # No word in common: the nearest flow's item; no item of the step: no example.
    assert closest_item_inputs(pool, "update_record", False, "page someone") == "values = state=7\n"
    assert closest_item_inputs(pool, "send_email", False, "email the manager") is None
    assert closest_item_inputs(pool, "update_record", True, "assign") is None
    # A flow shown to the outline call that has the step gives its first item.
    shown = closest_item_inputs(pool, "update_record", False, "assign", ["x", "close the incident"])
    assert shown == "values = state=7\n"


def test_each_inputs_call_continues_the_previous_calls_conversation(library) -> None:
    """Each inputs call's messages are the previous inputs call's, its answer and the new
    turns, so an engine reuses the KV cache of all the earlier calls; each table column is
    shown once per conversation."""
    case = FLOW_CASES[2]
    engine = ReplayEngine(Flow.model_validate(case["flow"]))
    FlowGenerator("acme-itsm", store=library, engine=engine, checkpoints=False).generate(
        case["requirement"]
    )
    assert len(engine.requests) >= 3
    inputs, answers = engine.requests[1:], engine.answers[1:]
    for before, answer, after in zip(inputs, answers, inputs[1:], strict=False):
        assert after.messages[: len(before.messages)] == before.messages
        added = [m.role for m in after.messages[len(before.messages) :]]
        # one new turn, or more where an item's inputs were given without a call
        assert added and added == ["assistant", "user"] * (len(added) // 2)
        assert after.messages[len(before.messages)].content == answer
    turns = [m.content for m in engine.requests[-1].messages if m.role == "user"]
    shown = [line for t in turns for line in t.split("## Columns\n")[1:]]
    columns = [
        f"{row.split(': ', 1)[0]}.{col.split(' (')[0]}"
        for block in shown
        for row in block.split("\n## ")[0].splitlines()
        for col in row.split(": ", 1)[1].split("; ")
    ]
    assert columns and len(columns) == len(set(columns))


def test_flows_sync_command_reads_case_files_and_names_problems(library, tmp_path) -> None:
    good = tmp_path / "flows.yaml"
    good.write_text(
        json.dumps(
            {
                "installation": "acme-itsm",
                "flows": [
                    {"name": c["id"], "requirement": c["requirement"], "flow": c["flow"]}
                    for c in FLOW_CASES[:2]
                ],
            }
        )
    )
    done = flowgen("flows", "sync", good, "--installation", "acme-itsm", "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["added"] == 2
    bad = tmp_path / "bad.yaml"
    bad.write_text(json.dumps({"installation": "acme-itsm", "flows": [{"name": "x"}]}))
    failed = flowgen("flows", "sync", bad, "--installation", "acme-itsm")
    assert failed.returncode == 2
    assert "flows[0].requirement" in failed.stderr and "flows[0].flow" in failed.stderr
    assert library.flow_counts()["acme-itsm"] == 2
    foreign = flowgen("flows", "sync", REPO / "examples" / "gold.jsonl", "--installation", "x")
    assert foreign.returncode == 2 and "'x'" in foreign.stderr


def test_training_prompts_leave_out_flows_of_the_cases_own_shape(library, tmp_path) -> None:
    """A synthetic recipe's cases share one outline shape: a training prompt that showed
    a sibling would teach copying the nearest outline, so siblings are left out (the
    case's near-copies already were); without the library given, they are shown."""
    from flowgen.training.cases import Case
    from flowgen.training.examples import build_examples, outline_shape, read_examples

    case = Case.model_validate({**FLOW_CASES[2], "split": "train"})
    sibling = ExampleFlow(
        "sibling",
        "acme-itsm",
        "Each Friday at 4pm look up the open change tasks and email every assignee a nudge",
        case.flow,
    )
    library.sync_flows(None, [solved(c) for c in FLOW_CASES] + [sibling], "gold")
    try:
        assert outline_shape(Flow.model_validate(sibling.flow)) == outline_shape(
            Flow.model_validate(case.flow)
        )
        pool = [Case.model_validate({**c, "split": "train"}) for c in FLOW_CASES]
        pool.append(
            Case(
                id="sibling",
                installation="acme-itsm",
                requirement=sibling.requirement,
                flow=case.flow,
                split="train",
            )
        )
        shown = {}
        for name, given in (("kept", None), ("left", pool)):
            out = tmp_path / f"{name}.jsonl"
            build_examples([case], library, out, k=3, library=given)
            outline = next(e for e in read_examples(out) if e.task == "outline")
            shown[name] = outline.messages[-1]["content"]
        assert "## Example: Each Friday at 4pm" in shown["kept"]
        assert "## Example: Each Friday at 4pm" not in shown["left"]
        assert shown["left"].count("## Example: ") == 3  # others take its place
        assert case.requirement not in shown["left"].split("## Requirement")[0]
    finally:
        library.sync_flows(None, [solved(c) for c in FLOW_CASES], "gold")


def test_a_rephrased_case_is_never_shown_the_flow_it_restates(library, tmp_path) -> None:
    """A rephrased train case (`data/rephrased/`) has its source's very flow, and the
    source is in the library: its training prompt must not show it (nor the case itself)."""
    from flowgen.training.cases import Case
    from flowgen.training.examples import build_examples, read_examples

    source = FLOW_CASES[0]
    rephrased = Case.model_validate(
        {
            **source,
            "id": f"{source['id']}-rephrased",
            "split": "train",
            "requirement": "Hi team, every time a user becomes inactive please find all "
            "incidents assigned to them and assign them to their manager.",
        }
    )
    out = tmp_path / "rephrased.jsonl"
    build_examples([rephrased], library, out, k=3)
    outline = next(e for e in read_examples(out) if e.task == "outline")
    shown = outline.messages[-1]["content"].split("## Requirement")[0]
    assert shown.count("## Example: ") == 3  # others take its place
    assert source["requirement"] not in shown


def test_a_new_encoder_embeds_every_library_again_and_keeps_its_flows(library) -> None:
    """`flowgen train-retriever` changes the encoder of the queries: the stored example
    flows are embedded again with it (each flow's hash names its encoder), none lost."""
    from flowgen.db.embedder import Embedder
    from flowgen.db.store import CatalogStore

    counts = library.flow_counts()
    retrained = Embedder(library.embedder.path)
    retrained.model_id += "-retrained"
    again = CatalogStore(library.engine, embedder=retrained).reembed_flows()
    assert {s.library: s.embedded for s in again} == counts
    assert all(s.changed == s.embedded and not s.removed for s in again)
    assert library.flow_counts() == counts
    back = library.reembed_flows()  # the module's store, as it was
    assert all(s.changed == s.embedded for s in back)
    assert sum(s.unchanged for s in library.reembed_flows()) == sum(counts.values())
    case = FLOW_CASES[2]
    assert (
        CatalogTools(library, "acme-itsm").search_examples(case["requirement"], 1)[0]["name"]
        == case["id"]
    )
