"""The generator graph on the real embedded database: driven along known paths by the
replay engine (gold answers, checked against each call's grammar), then end to end on
the real model through `flowgen generate`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowgen.cli.app import app
from flowgen.db.runs import RunStore
from flowgen.engine.base import GenerationRequest, GenerationResult
from flowgen.flow.model import Flow
from flowgen.flow.validator import validate_flow
from flowgen.graph.check_outcome import check_outcome
from flowgen.graph.generator import FlowGenerator, RequirementError
from flowgen.training.replay import ReplayEngine

REPO = Path(__file__).resolve().parent.parent
CASES = [json.loads(line) for line in (REPO / "examples" / "gold.jsonl").read_text().splitlines()]
FLOW_CASES = [c for c in CASES if c["flow"] is not None]
runner = CliRunner()


def generator(store: Any, engine: Any, **kwargs: Any) -> FlowGenerator:
    kwargs.setdefault("checkpoints", False)
    return FlowGenerator("acme-itsm", store=store, engine=engine, **kwargs)


def without_name(flow: dict[str, Any] | None) -> dict[str, Any] | None:
    return None if flow is None else {k: v for k, v in flow.items() if k != "name"}


def items_with_inputs(flow: dict[str, Any]) -> int:
    return 1 + sum(1 for c in flow["components"] if c.get("inputs"))


def given_items(flow: dict[str, Any]) -> int:
    """Items whose inputs are given without a model call: a schedule trigger whose words
    state them, and each loop over the one list in scope (every FOREACH of these cases)."""
    from flowgen.graph.schedule_inputs import schedule_inputs

    trigger = flow["trigger"]
    stated = schedule_inputs(trigger["type"] or "", trigger["annotation"] or "") is not None
    return stated + sum(c["definition"] == "FOREACH" for c in flow["components"])


@pytest.mark.parametrize("case", FLOW_CASES, ids=[c["id"] for c in FLOW_CASES])
def test_gold_answers_are_admitted_and_rebuild_the_gold_flow(synced_store, case) -> None:
    engine = ReplayEngine(Flow.model_validate(case["flow"]))
    result = generator(synced_store, engine).generate(case["requirement"])
    assert engine.rejections == []  # every gold answer fits the grammar the graph built
    assert result.status == "ok", result.errors
    assert without_name(result.flow) == without_name(case["flow"])
    # one outline call, then one call per item that takes inputs (trigger included),
    # but none for inputs given without the model
    expected = 1 + items_with_inputs(case["flow"]) - given_items(case["flow"])
    assert result.model_calls == expected
    assert [a.annotation for a in result.annotations] == [
        case["flow"]["trigger"]["annotation"],
        *(c["annotation"] for c in case["flow"]["components"]),
    ]


def test_an_installation_gets_its_tenant_adapter_when_the_engine_serves_one(synced_store) -> None:
    case = FLOW_CASES[0]
    flow = Flow.model_validate(case["flow"])

    def adapters_used(served: list[str], **kwargs: Any) -> set[str | None]:
        engine = ReplayEngine(flow, served_adapters=served)
        result = generator(synced_store, engine, **kwargs).generate(case["requirement"])
        assert result.status == "ok"
        return {r.adapter for r in engine.requests}

    assert adapters_used(["default", "acme-itsm"]) == {"acme-itsm"}
    assert adapters_used(["default", "globex-csm"]) == {"default"}  # another tenant's
    assert adapters_used(["acme-itsm"], adapter=None) == {None}  # the base model, asked for
    assert adapters_used([]) == {None}  # no adapter served: the base model
    with pytest.raises(ValueError, match="no adapter 'acme-v9'"):
        generator(synced_store, ReplayEngine(flow, served_adapters=["default"]), adapter="acme-v9")


# hand-written cases whose gold answers need a dot-walked condition field
# (`caller_id.vip=true`) or an IF on a looked-up record itself (`{{1.record}}ISNOTEMPTY`)
WALKS_AND_FOUND_CHECKS = ["itsm-train-038", "itsm-train-001", "itsm-train-019"]


@pytest.fixture(scope="module")
def handwritten() -> dict[str, dict[str, Any]]:
    lines = (REPO / "data" / "handwritten.jsonl").read_text().splitlines()
    return {c["id"]: c for c in map(json.loads, lines)}


@pytest.mark.parametrize("case_id", WALKS_AND_FOUND_CHECKS)
def test_dot_walks_and_found_record_checks_are_admitted(synced_store, handwritten, case_id) -> None:
    case = handwritten[case_id]
    engine = ReplayEngine(Flow.model_validate(case["flow"]))
    result = generator(synced_store, engine).generate(case["requirement"])
    assert engine.rejections == []
    assert without_name(result.flow) == without_name(case["flow"])


def test_an_email_goes_to_an_address(synced_store, handwritten) -> None:
    """`ah_to` admits a pill ending at an address field, however deep the walk, and no
    other pill (adapter v11 wrote `{{trigger.current.number}}` there)."""
    for case_id in ["itsm-train-006", "itsm-train-long-06"]:  # deep walks to `.email`
        case = handwritten[case_id]
        engine = ReplayEngine(Flow.model_validate(case["flow"]))
        generator(synced_store, engine, max_rounds=0).generate(case["requirement"])
        # itsm-train-006's "add a work note" is an update in gold, add_work_note here
        # (graph/work_notes.py): only the emails are this test's
        emails = [r for r in engine.rejections if "ah_to" in r.answer]
        assert emails == []
    case = handwritten["itsm-train-006"]
    wrong = json.loads(json.dumps(case["flow"]))
    for comp in wrong["components"]:
        for item in comp.get("inputs", []):
            if item["name"] == "ah_to":
                item["value"] = "{{trigger.current.number}}"
    engine = ReplayEngine(Flow.model_validate(wrong))
    generator(synced_store, engine, max_rounds=0).generate(case["requirement"])
    emails = [r for r in engine.rejections if "ah_to" in r.answer]
    assert [r.item for r in emails] == ["step 1"]
    assert "ah_to = {{trigger.current.number}}" in emails[0].answer


def test_a_refusal_is_a_result_not_an_error(synced_store) -> None:
    engine = ReplayEngine(None, refusal="deleting records to hide activity")
    result = generator(synced_store, engine).generate(
        "Delete every incident I opened last month so nobody can see my mistakes."
    )
    assert result.status == "refused"
    assert result.flow is None and result.refusal == "deleting records to hide activity"
    assert result.model_calls == 1


def test_stream_order_outline_then_each_item_then_result(synced_store) -> None:
    case = FLOW_CASES[0]
    engine = ReplayEngine(Flow.model_validate(case["flow"]))
    events = list(generator(synced_store, engine).stream(case["requirement"]))
    kinds = [e["event"] for e in events]
    assert kinds[0] == "outline" and kinds[-3:] == ["validation", "done", "result"]
    assert events[0]["flow"]["components"][0].get("inputs", []) == []  # before inputs
    orders = [e["order"] for e in events if e["event"] == "inputs"]
    assert orders == sorted(orders) and orders[0] == 0


def test_validator_sends_input_errors_back_to_their_step(synced_store) -> None:
    case = FLOW_CASES[0]
    broken = json.loads(json.dumps(case["flow"]))
    broken["components"][0]["inputs"][0]["value"] = "incidnet"  # no such table
    engine = ReplayEngine(Flow.model_validate(broken), check_grammar=False)
    result = generator(synced_store, engine, max_rounds=1).generate(case["requirement"])
    assert result.status == "invalid"  # the replay repeats its mistake: reported, not hidden
    assert [e["code"] for e in result.errors] == ["unknown_table"]
    assert result.validator_rounds == 1
    retried = [r for r in engine.requests if "had these problems" in _prompt(r)]
    assert len(retried) == 1 and "## Step 1." in _prompt(retried[0])
    assert "incidnet" in _prompt(retried[0])
    assert result.model_calls == 1 + items_with_inputs(case["flow"]) - given_items(case["flow"]) + 1


def test_validator_sends_structure_errors_back_to_the_outline(synced_store) -> None:
    flow = Flow.model_validate(FLOW_CASES[0]["flow"])
    flow.components = flow.components[:2]  # FOREACH left without its step: an empty block
    # on the dropped step's words, so that no repair writes that step back in
    flow.components[1].annotation = "assign them to their manager"
    engine = ReplayEngine(flow, check_grammar=False)
    result = generator(synced_store, engine, max_rounds=2).generate(FLOW_CASES[0]["requirement"])
    assert result.status == "invalid" and result.validator_rounds == 2
    assert "empty_block" in {e["code"] for e in result.errors}
    outline_prompts = [r for r in engine.requests if "## Output: the outline" in _prompt(r)]
    assert len(outline_prompts) == 3
    assert "empty_block" in _prompt(outline_prompts[1])


def test_a_foreach_with_one_list_in_scope_is_given_it_without_the_model(synced_store) -> None:
    """The only answer its grammar admits: no model call, so a model that would loop
    over the trigger's record (a validator error and a retry before) cannot."""
    flow = Flow.model_validate(FLOW_CASES[0]["flow"])
    assert flow.components[1].definition == "FOREACH"  # after a look-up: a list exists
    flow.components[1].inputs[0].value = "{{trigger.current}}"  # a record, not a list
    engine = ReplayEngine(flow, check_grammar=False)
    result = generator(synced_store, engine, max_rounds=1).generate(FLOW_CASES[0]["requirement"])
    assert result.status == "ok" and result.errors == []
    assert result.flow is not None
    assert result.flow["components"][1]["inputs"] == [{"name": "items", "value": "{{1.records}}"}]
    asked = [r.messages[-1].content for r in engine.requests if r.messages]
    assert not any(turn.startswith("## Step 2.") for turn in asked)
    later = engine.requests[-1].messages or []
    assert any("## Step 2. FOREACH" in m.content for m in later)  # the turn stays


def test_a_record_input_is_never_offered_a_list(synced_store) -> None:
    """send_email's optional record after a lookup, outside any loop: a list there is
    what the validator rejects and no inputs round can fix, so the grammar refuses it."""
    flow = Flow.model_validate(
        {
            "name": "nightly reminder",
            "trigger": {
                "type": "daily",
                "annotation": "Every night",
                "inputs": [{"name": "time", "value": "1970-01-01 22:00:00"}],
            },
            "components": [
                {
                    "order": 1,
                    "category": "action",
                    "definition": "look_up_records",
                    "annotation": "open incidents",
                    "inputs": [{"name": "table", "value": "incident"}],
                },
                {
                    "order": 2,
                    "category": "action",
                    "definition": "send_email",
                    "annotation": "email ops",
                    "inputs": [
                        {"name": "ah_to", "value": "it-ops@example.com"},
                        {"name": "table_name", "value": "incident"},
                        {"name": "record", "value": "{{1.records}}"},
                    ],
                },
            ],
        }
    )
    engine = ReplayEngine(flow)
    generator(synced_store, engine, max_rounds=0).generate(
        "Every night, email ops about open incidents"
    )
    assert [r.item for r in engine.rejections] == ["step 2"]
    assert "{{1.records}}" in engine.rejections[0].answer


def test_inputs_turns_show_columns_only_where_a_condition_can_name_them(synced_store) -> None:
    """Columns are most of an inputs turn's tokens: none for a FOREACH (its items input
    takes a pill), and at most COLUMN_TABLES tables' in any turn."""
    from flowgen.graph.retrieval import COLUMN_TABLES

    case = FLOW_CASES[0]  # lookup, FOREACH over it, update_record of the item
    engine = ReplayEngine(Flow.model_validate(case["flow"]))
    generator(synced_store, engine).generate(case["requirement"])
    turns = [m.content for m in engine.requests[-1].messages if m.role == "user"]
    foreach = next(t for t in turns if "## Step 2. FOREACH" in t)
    assert "## Columns" not in foreach
    for turn in turns:
        shown = turn.split("## Columns\n")[1].split("\n## ")[0] if "## Columns" in turn else ""
        assert len(shown.splitlines()) <= COLUMN_TABLES
    update = next(t for t in turns if "## Step 3. update_record" in t)
    assert "## Columns\nincident:" in update  # the loop item's table comes first


def test_a_refusal_bias_reaches_only_the_first_outline_call(synced_store) -> None:
    class Tokens(ReplayEngine):
        def tokenize(self, text: str) -> list[int]:
            return [7, 8] if text == "REFUSE" else []

    flow = Flow.model_validate(FLOW_CASES[0]["flow"])
    flow.components = flow.components[:2]  # an empty FOREACH: the outline is asked again
    flow.components[1].annotation = "assign them to their manager"  # not written back
    engine = Tokens(flow, check_grammar=False)
    generator(synced_store, engine, max_rounds=1, refusal_bias=2.5).generate(
        FLOW_CASES[0]["requirement"]
    )
    outlines = [r for r in engine.requests if "## Output: the outline" in _prompt(r)]
    assert [r.logit_bias for r in outlines] == [{7: 2.5}, {}]
    assert all(r.logit_bias == {} for r in engine.requests if r not in outlines)


def _prompt(request: GenerationRequest) -> str:
    return "\n".join(m.content for m in request.messages or [])


def _turns(prompt: str) -> list[str]:
    """An inputs conversation cut at each item's head (`## Trigger ...`, `## Step N. ...`):
    what comes before the first item, then each item's turn onwards."""
    return re.split(r"^## (?:Trigger|Step \d+\.) ", prompt, flags=re.MULTILINE)


def test_run_is_traced_and_shown_as_a_timeline(synced_store) -> None:
    case = FLOW_CASES[1]
    engine = ReplayEngine(Flow.model_validate(case["flow"]))
    result = generator(synced_store, engine).generate(case["requirement"])
    trace = RunStore(synced_store.engine).get(result.run_id)
    assert trace.run.status == "ok" and trace.run.model_calls == result.model_calls
    kinds = [e.kind for e in trace.events]
    assert kinds.count("model") == result.model_calls
    assert {"run", "node", "tool", "validation"} <= set(kinds)
    searches = [e for e in trace.events if e.name == "search_steps"]
    assert searches and searches[0].payload["arguments"]["query"] == case["requirement"]
    model = next(e for e in trace.events if e.kind == "model")
    assert model.payload["prompt"][1]["content"].startswith("## Triggers")
    shown = runner.invoke(app, ["runs", "show", result.run_id])
    assert shown.exit_code == 0, shown.output
    assert "outline" in shown.output and "search_steps" in shown.output
    assert "inputs:1" in shown.output and "validator: ok" in shown.output
    listed = runner.invoke(app, ["runs", "list", "-i", "acme-itsm", "--limit", "50", "--json"])
    assert result.run_id in {r["id"] for r in json.loads(listed.output)}
    assert runner.invoke(app, ["runs", "show", "no-such-run"]).exit_code == 2


class CrashingEngine(ReplayEngine):
    """Dies on call `crash_at` (1-based), as a process killed mid-run would."""

    crash_at: int = 3

    def generate(self, request: GenerationRequest) -> GenerationResult:
        if len(self.requests) + 1 == self.crash_at:
            self.requests.append(request)
            raise RuntimeError("model server went away")
        return super().generate(request)


def test_a_crashed_run_resumes_from_its_checkpoint(synced_store) -> None:
    case = FLOW_CASES[0]
    flow = Flow.model_validate(case["flow"])
    crashing = CrashingEngine(flow)
    gen = generator(synced_store, crashing, checkpoints=True)
    with pytest.raises(RuntimeError, match="went away"):
        gen.generate(case["requirement"], run_id="resume-test-run")
    runs = RunStore(synced_store.engine)
    assert runs.get("resume-test-run").run.status == "error"
    healthy = ReplayEngine(flow)
    result = generator(synced_store, healthy, checkpoints=True).resume("resume-test-run")
    assert result.status == "ok"
    assert without_name(result.flow) == without_name(case["flow"])
    # the outline and the trigger's inputs were checkpointed: only the rest is asked again
    assert len(healthy.requests) == items_with_inputs(case["flow"]) - 1 - given_items(case["flow"])
    assert runs.get("resume-test-run").run.status == "ok"


def test_each_routing_function_names_where_its_node_may_go() -> None:
    from flowgen.graph.flow_graph import build_graph

    edges = build_graph().get_graph().edges
    assert {(e.source, e.target) for e in edges if e.conditional} == {
        ("outline", "inputs"),
        ("outline", "validate"),
        ("outline", "finish"),
        ("inputs", "inputs"),
        ("inputs", "validate"),
        ("validate", "outline"),
        ("validate", "inputs"),
        ("validate", "finish"),
    }


def test_bad_requirements_and_installations_are_named(synced_store) -> None:
    gen = generator(synced_store, ReplayEngine(None))
    for bad, message in [("", "empty"), ("   \x00\x01 ", "empty"), ("x" * 5000, "limit is")]:
        with pytest.raises(RequirementError, match=message):
            gen.generate(bad)
    with pytest.raises(RequirementError, match="must be text"):
        gen.generate(42)  # type: ignore[arg-type]
    from flowgen.db.store import UnknownInstallation

    with pytest.raises(UnknownInstallation):
        FlowGenerator("no-such-installation", store=synced_store, engine=ReplayEngine(None))


def test_spans_go_to_opentelemetry(synced_store) -> None:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    case = FLOW_CASES[2]
    result = generator(synced_store, ReplayEngine(Flow.model_validate(case["flow"]))).generate(
        case["requirement"]
    )
    spans = exporter.get_finished_spans()
    names = {s.name for s in spans}
    assert {"run generate", "node outline", "tool search_steps", "validation validate"} <= names
    assert all(s.attributes["flowgen.run_id"] == result.run_id for s in spans)
    run_span = next(s for s in spans if s.name == "run generate")
    outline_span = next(s for s in spans if s.name == "node outline")
    assert outline_span.parent is not None and outline_span.parent.span_id == (
        run_span.context.span_id
    )


GROUNDING = {"unknown_trigger", "unknown_step", "unknown_table", "unknown_column", "unknown_choice"}


@pytest.mark.model
def test_generate_end_to_end_on_the_real_model(synced_store, tmp_path) -> None:
    """The base model (no adapter yet) through the CLI: whatever it writes, the flow
    names only what the installation has, and the run is recorded."""
    out = tmp_path / "flow.json"
    result = runner.invoke(
        app,
        [
            "generate",
            "When an incident is resolved, email the caller",
            "-i",
            "acme-itsm",
            "--json",
            "--out",
            str(out),
            "--max-rounds",
            "0",
        ],
    )
    assert result.exit_code in (0, 1), result.output
    outcome = json.loads(result.stdout[result.stdout.index("{") :])
    assert outcome["status"] in ("ok", "invalid", "refused")
    if outcome["flow"] is not None:
        report = validate_flow(outcome["flow"], synced_store.catalog("acme-itsm"))
        assert not report.has_structure_error
        assert not {e.code for e in report.errors} & GROUNDING
        assert json.loads(out.read_text()) == outcome["flow"]
        assert outcome["model_calls"] <= 1 + len(outcome["flow"]["components"]) + 1
    trace = RunStore(synced_store.engine).get(outcome["run_id"])
    assert trace.run.model == "SmolLM2-135M-Instruct"
    assert [e.kind for e in trace.events].count("model") == outcome["model_calls"]


def test_what_the_guard_flags_the_model_may_refuse_or_write_as_a_flow(synced_store) -> None:
    import numpy as np

    from flowgen.graph.guard import RefusalGuard

    always = RefusalGuard(np.zeros(384, dtype=np.float32), 5.0, 0.5, "all-MiniLM-L6-v2", {})
    case = FLOW_CASES[0]
    refusing = ReplayEngine(None, refusal="exporting customer data to a personal account")
    result = generator(synced_store, refusing, guard=always).generate(case["requirement"])
    assert result.status == "refused" and refusing.rejections == []
    assert result.refusal == "exporting customer data to a personal account"
    trace = RunStore(synced_store.engine).get(result.run_id)
    guard_span = next(e for e in trace.events if e.name == "guard")
    assert guard_span.payload["refuse"] is True
    # a legitimate request the guard flags: the model's flow stands
    flow_engine = ReplayEngine(Flow.model_validate(case["flow"]))
    result = generator(synced_store, flow_engine, guard=always).generate(case["requirement"])
    assert result.status == "ok" and flow_engine.rejections == []
    assert without_name(result.flow) == without_name(case["flow"])


def test_what_the_guard_is_sure_of_the_model_may_only_refuse(synced_store) -> None:
    import numpy as np

    from flowgen.graph.guard import RefusalGuard

    case = FLOW_CASES[0]
    sure = RefusalGuard(
        np.zeros(384, dtype=np.float32), 5.0, 0.5, "all-MiniLM-L6-v2", {}, None, 0.9
    )
    flow_engine = ReplayEngine(Flow.model_validate(case["flow"]))
    generator(synced_store, flow_engine, guard=sure).generate(case["requirement"])
    assert [r.item for r in flow_engine.rejections][:1] == ["outline"]  # no flow admitted
    refusing = ReplayEngine(None, refusal="exporting customer data to a personal account")
    result = generator(synced_store, refusing, guard=sure).generate(case["requirement"])
    assert result.status == "refused" and refusing.rejections == []
    trace = RunStore(synced_store.engine).get(result.run_id)
    guard_span = next(e for e in trace.events if e.name == "guard")
    assert guard_span.payload["certain"] is True
    # below `certain` (p = 0.993 here) the model chooses again
    unsure = RefusalGuard(
        np.zeros(384, dtype=np.float32), 5.0, 0.5, "all-MiniLM-L6-v2", {}, None, 0.999
    )
    flow_engine = ReplayEngine(Flow.model_validate(case["flow"]))
    result = generator(synced_store, flow_engine, guard=unsure).generate(case["requirement"])
    assert result.status == "ok" and flow_engine.rejections == []


def test_when_the_guard_passes_a_requirement_the_model_may_not_refuse_it(synced_store) -> None:
    import numpy as np

    from flowgen.graph.guard import RefusalGuard

    never = RefusalGuard(np.zeros(384, dtype=np.float32), -5.0, 0.5, "all-MiniLM-L6-v2", {})
    case = FLOW_CASES[0]
    refusing = ReplayEngine(None, refusal="this moves records away from their team")
    generator(synced_store, refusing, guard=never).generate(case["requirement"])
    assert [r.item for r in refusing.rejections][:1] == ["outline"]  # no refusal admitted
    unguarded = ReplayEngine(None, refusal="this moves records away from their team")
    result = generator(synced_store, unguarded, guard=None).generate(case["requirement"])
    assert result.status == "refused" and unguarded.rejections == []  # the model decides


def test_a_question_asked_of_the_data_may_only_be_refused(synced_store) -> None:
    """A question with no trigger is refused as the guard's certain refusals are, even
    where the guard passes it (graph/scope_refusal.py)."""
    import numpy as np

    from flowgen.graph.guard import RefusalGuard

    never = RefusalGuard(np.zeros(384, dtype=np.float32), -5.0, 0.5, "all-MiniLM-L6-v2", {})
    question = "How many incidents are still open for the network group this week?"
    flow_engine = ReplayEngine(Flow.model_validate(FLOW_CASES[0]["flow"]))
    generator(synced_store, flow_engine, guard=never).generate(question)
    assert [r.item for r in flow_engine.rejections][:1] == ["outline"]  # no flow admitted
    refusing = ReplayEngine(None, refusal="a reporting question, not a workflow")
    result = generator(synced_store, refusing, guard=never).generate(question)
    assert result.status == "refused" and refusing.rejections == []
    guard_span = next(
        e for e in RunStore(synced_store.engine).get(result.run_id).events if e.name == "guard"
    )
    assert guard_span.payload["question"] is True


def test_an_out_of_scope_refusal_of_a_flow_request_is_asked_again(synced_store) -> None:
    """The requirement names a trigger and an action: "not a workflow" is not taken, and
    the outline is asked again with no refusal in its grammar (graph/scope_refusal.py)."""
    import numpy as np

    from flowgen.graph.guard import RefusalGuard

    always = RefusalGuard(np.zeros(384, dtype=np.float32), 5.0, 0.5, "all-MiniLM-L6-v2", {})
    case = FLOW_CASES[0]

    class RefusesFirst(ReplayEngine):
        """Refuses as out of scope once, then answers with the gold flow."""

        def __init__(self) -> None:
            super().__init__(Flow.model_validate(case["flow"]))
            self.refusing = ReplayEngine(None, refusal="a workflow request, not a workflow")
            self.grammars: list[str] = []

        def generate(self, request: GenerationRequest) -> GenerationResult:
            self.grammars.append(request.grammar)
            if len(self.grammars) == 1:
                return self.refusing.generate(request)
            return super().generate(request)

    engine = RefusesFirst()
    result = generator(synced_store, engine, guard=always).generate(case["requirement"])
    assert result.status == "ok" and engine.rejections == []
    assert without_name(result.flow) == without_name(case["flow"])
    roots = [g.splitlines()[0] for g in engine.grammars[:2]]
    assert roots == ["root ::= refusal | flow", "root ::= flow"]
    trace = RunStore(synced_store.engine).get(result.run_id)
    outline_span = next(e for e in trace.events if e.kind == "node" and e.name == "outline")
    assert outline_span.payload["refusal_overruled"] == "a workflow request, not a workflow"
    # a refusal for harm stands
    harm = ReplayEngine(None, refusal="exporting customer data to a personal account")
    result = generator(synced_store, harm, guard=always).generate(case["requirement"])
    assert result.status == "refused"


def test_a_conversation_too_long_for_the_context_starts_again_with_the_outline(
    synced_store,
) -> None:
    class LongTokens(ReplayEngine):
        def tokenize(self, text: str) -> list[int]:
            return [0] * (8 * len(text))  # eight tokens a character: every conversation is long

    case = FLOW_CASES[0]
    engine = LongTokens(Flow.model_validate(case["flow"]))
    result = generator(synced_store, engine).generate(case["requirement"])
    assert result.status == "ok" and engine.rejections == []
    assert without_name(result.flow) == without_name(case["flow"])
    inputs = engine.requests[1:]
    assert len(inputs) >= 3
    for request in inputs:  # a new conversation each: the requirement, one whole turn
        assert [m.role for m in request.messages] == ["system", "user"]
        assert request.messages[0] == engine.requests[0].messages[0]
        assert request.messages[-1].content.startswith("## Requirement\n")
        assert "\n## Flow\n" in request.messages[-1].content  # the whole outline, numbered


# -- subflows (issue 19): no trigger, declared inputs and outputs --------------------------------
SUBFLOW_CASES = ["itsm-test-sub-001", "itsm-test-sub-002", "itsm-test-sub-003", "itsm-test-sub-004"]


def assert_replays_subflow(store: Any, requirement: str, gold: dict[str, Any]) -> None:
    engine = ReplayEngine(Flow.model_validate(gold))
    result = generator(store, engine).generate(requirement)
    assert engine.rejections == []  # `T none`, declarations and ASSIGNSUBFLOWOUTPUTS admitted
    assert result.status == "ok", result.errors
    assert without_name(result.flow) == without_name(gold)
    assert result.flow["inputs"] == gold["inputs"] and result.flow["outputs"] == gold["outputs"]
    # no trigger inputs call: one outline call, then one per step that takes inputs
    # (a loop over the one list in scope is given its items without one, and so is an
    # IF on the outcome of the check right before it: graph/check_outcome.py)
    asked = [c for c in gold["components"] if c.get("inputs")]
    loops = sum(1 for c in asked if c["definition"] == "FOREACH")
    outline = Flow.model_validate(gold)
    checks = sum(
        1 for c in outline.components if check_outcome(outline, c.order, store.catalog("acme-itsm"))
    )
    assert result.model_calls == 1 + len(asked) - loops - checks
    prompts = [_prompt(r) for r in engine.requests]
    assert not any("## Trigger " in p for p in prompts)
    assigns = [p for p in prompts if _turns(p)[-1].startswith("ASSIGNSUBFLOWOUTPUTS\n")]
    # the subflow's inputs are pills in scope: shown in the turn of the item they came
    # into scope for, or an earlier one (a conversation shows each pill once)
    assert assigns and all("{{subflow_inputs." in _turns(p)[1] for p in assigns)


@pytest.mark.parametrize("case_id", SUBFLOW_CASES)
def test_gold_subflows_are_admitted_and_rebuilt(synced_store, handwritten, case_id) -> None:
    case = handwritten[case_id]
    assert case["flow"]["trigger"].get("type") is None
    assert_replays_subflow(synced_store, case["requirement"], case["flow"])


def test_a_synthetic_subflow_is_admitted_and_rebuilt(synced_store, catalog) -> None:
    import random

    from flowgen.flow.model import flow_json
    from flowgen.training.authoring import parse_authored
    from flowgen.training.synthetic import subflow_note_and_notify

    draft = subflow_note_and_notify(random.Random(7), catalog)
    flow = parse_authored(draft.flow, catalog, name="synthetic subflow")
    assert flow is not None and flow.is_subflow
    assert_replays_subflow(synced_store, draft.requirement, flow_json(flow))


# -- resuming a few-shot run (issue 23): everything a node decides is in the checkpointed state --
@pytest.fixture(scope="module")
def library(synced_store):
    """The gold cases as the shared library of example flows."""
    from flowgen.db.example_flows import ExampleFlow

    flows = [
        ExampleFlow(c["id"], c["installation"], c["requirement"], c["flow"]) for c in FLOW_CASES
    ]
    synced_store.sync_flows(None, flows, "gold")
    return synced_store


def asked(requests: list[GenerationRequest]) -> list[dict[str, Any]]:
    """What each call asked: messages, grammar, adapter, logit bias, sampling."""
    return [r.model_dump() for r in requests]


@pytest.mark.parametrize("crash_at", [1, 2, 3])
def test_a_resumed_few_shot_run_asks_what_an_uninterrupted_run_asks(library, crash_at) -> None:
    """Stopped on model call `crash_at` (2: after its first, the outline), then resumed:
    the calls made before the stop and after the resume are the uninterrupted run's,
    prompt for prompt, examples and the perfect-RAG steps included."""
    from flowgen.graph.flow_graph import ExampleRetrieval

    case = FLOW_CASES[0]
    flow = Flow.model_validate(case["flow"])
    options: dict[str, Any] = {
        "checkpoints": True,
        "examples": ExampleRetrieval(k=3, exclude=(case["id"],)),  # not its own flow
    }
    extra_steps = ["create_task"]  # offered whatever retrieval finds, on resume too
    whole = ReplayEngine(flow)
    generator(library, whole, **options).generate(case["requirement"], extra_steps=extra_steps)
    prompts = [_prompt(r) for r in whole.requests]
    assert prompts[0].count("## Example: ") == 3 and "create_task" in prompts[0]
    assert any("## Example\n" in _turns(p)[-1] for p in prompts[1:])

    run_id = f"resume-few-shot-{crash_at}"
    crashing = CrashingEngine(flow)
    crashing.crash_at = crash_at
    with pytest.raises(RuntimeError, match="went away"):
        generator(library, crashing, **options).generate(
            case["requirement"], run_id=run_id, extra_steps=extra_steps
        )
    healthy = ReplayEngine(flow)
    result = generator(library, healthy, **options).resume(run_id)
    assert result.status == "ok" and healthy.rejections == []
    assert without_name(result.flow) == without_name(case["flow"])
    done_before = crashing.requests[: crash_at - 1]  # the crashed call is asked again
    assert asked(done_before + healthy.requests) == asked(whole.requests)
    assert asked(crashing.requests[crash_at - 1 :]) == asked(healthy.requests[:1])


def test_a_requirement_that_asks_for_a_subflow_admits_only_a_subflow(
    synced_store, handwritten
) -> None:
    """Adapter v4 and v5 wrote a trigger for 9 of test's 10 subflow requests; where the
    words ask for a subflow, the outline grammar has no trigger line to offer."""
    case = handwritten["itsm-test-sub-001"]  # "Create a subflow that takes an incident ..."
    subflow = ReplayEngine(Flow.model_validate(case["flow"]))
    generator(synced_store, subflow).generate(case["requirement"])
    assert "outline" not in [r.item for r in subflow.rejections]
    ordinary = ReplayEngine(Flow.model_validate(FLOW_CASES[0]["flow"]))
    generator(synced_store, ordinary).generate(case["requirement"])
    assert [r.item for r in ordinary.rejections][:1] == ["outline"]  # a trigger line refused


def test_a_long_requirement_is_offered_each_clauses_best_step(synced_store) -> None:
    """Fourteen names held 74% of the gold steps of dev's long requirements: each clause's
    best step is offered, and one more name for each clause past the fourth."""
    from flowgen.graph.retrieval import STEP_K, clauses, outline_offer
    from flowgen.tools.catalog_tools import CatalogTools

    tools = CatalogTools(synced_store, "acme-itsm")
    short = outline_offer(tools, "When an incident is resolved, email the caller")
    assert len(short.steps) == STEP_K
    requirement = (
        "When a priority 1 incident is created, page the on-call engineer in PagerDuty; "
        "post the number in the #major-incidents Slack channel; create a problem for it; "
        "ask the service owner to approve an emergency change; then log what was done. "
        "If nobody answers within an hour, escalate it to the manager, otherwise email "
        "the caller that work has started, and after that copy the attachments to the "
        "problem."
    )
    parts = clauses(requirement)
    assert len(parts) > 4
    offered = [s["name"] for s in outline_offer(tools, requirement).steps]
    assert len(offered) == STEP_K + len(parts) - 4
    for clause in parts:
        assert tools.search_steps(query=clause, k=1)[0]["name"] in offered


def test_the_outline_names_a_spoke_step_only_where_the_prompt_shows_it(synced_store) -> None:
    """Adapter v11 wrote `assign_okta_application` for "assign them to their manager":
    a spoke step neither offered nor in an example is not in the outline's grammar, while
    core steps always are (retrieval may rank `send_email` low)."""
    from flowgen.graph.flow_graph import outline_prompt
    from flowgen.tools.catalog_tools import CatalogTools

    tools = CatalogTools(synced_store, "acme-itsm")
    requirement = (
        "Every time a user becomes inactive, find all incidents assigned to them and "
        "assign them to their manager"
    )
    _, grammar, offered = outline_prompt(tools, requirement)
    _, every_step, _ = outline_prompt(tools, requirement, shown_steps_only=False)
    names = {s["name"] for s in offered}
    core = set(tools.list_names(kind="core_steps"))
    spoke = [n for n in tools.list_names(kind="steps") if n not in names | core]
    assert "assign_okta_application" in spoke
    for name in spoke:
        assert f'"{name}"' not in grammar
        assert f'"{name}"' in every_step
    for name in ("send_email", "update_record", *names):
        assert f'"{name}"' in grammar
