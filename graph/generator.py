"""The Python API for embedding the generator:

    gen = FlowGenerator(installation="acme-itsm")
    result = gen.generate("When a P1 incident is created, email the assignment group")
    for event in gen.stream("..."):   # outline, then each item's inputs, then done
        ...

Each run gets an id; its trace is in the run store (`flowgen runs show RUN_ID`) and, with
checkpoints on, its graph state is in Postgres so `resume(run_id)` continues a run that
stopped part-way.
"""

from __future__ import annotations

import json
import threading
import time
import unicodedata
import uuid
from collections.abc import Iterator
from typing import Any, Literal

from pydantic import BaseModel

from flowgen.db.runs import RunStore
from flowgen.db.store import CatalogStore
from flowgen.engine.base import Engine, GenerationResult
from flowgen.engine.factory import default_engine, shipped_adapters
from flowgen.flow.model import Flow
from flowgen.graph.coverage import DEFAULT_COVERAGE, Coverage
from flowgen.graph.flow_graph import (
    ExampleRetrieval,
    FlowState,
    RunContext,
    Status,
    build_graph,
)
from flowgen.graph.guard import RefusalGuard, shipped_guard
from flowgen.graph.tracing import RunTracer, configure_opentelemetry
from flowgen.prompts import PROMPT_VERSION
from flowgen.prompts.line_format import REFUSE
from flowgen.settings import get_settings
from flowgen.tools.catalog_tools import CatalogTools

DEFAULT_ADAPTER = "default"
ADAPTER_META = "flowgen_adapter.json"
# Solved flows in an outline prompt when the adapter does not say how many it learned on.
DEFAULT_EXAMPLES = 3
# Solved flows shown for a long requirement (graph/coverage.py, `long_requirement`) when
# the caller does not choose: on dev's 38 long cases five did better than the three the
# adapter was trained with (docs/results.md, twenty-third session).
LONG_EXAMPLES = 5


class RequirementError(ValueError):
    """A requirement the generator will not take (empty, too long, not text)."""


class Annotation(BaseModel):
    order: int | None  # None for the trigger
    definition: str
    annotation: str | None


class GenerationOutcome(BaseModel):
    run_id: str
    installation: str
    requirement: str
    status: Status
    flow: dict[str, Any] | None
    refusal: str | None = None
    errors: list[dict[str, Any]] = []
    annotations: list[Annotation] = []
    validator_rounds: int = 0
    model_calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def clean_requirement(text: Any, max_chars: int | None = None) -> str:
    """The requirement without control characters and outer blanks; at most `max_chars`
    characters (None: the `max_requirement_chars` setting)."""
    if not isinstance(text, str):
        raise RequirementError(f"the requirement must be text, not {type(text).__name__}")
    # Control characters (other than line breaks) carry no meaning and can hide text.
    cleaned = "".join(
        c for c in text if c in "\n\t" or not unicodedata.category(c).startswith("C")
    ).strip()
    if not cleaned:
        raise RequirementError("the requirement is empty")
    limit = get_settings().service.max_requirement_chars if max_chars is None else max_chars
    if len(cleaned) > limit:
        raise RequirementError(
            f"the requirement is {len(cleaned)} characters; the limit is {limit}"
            " (describe one flow)"
        )
    return cleaned


def shipped_adapter_meta(adapter: str | None) -> dict[str, Any]:
    """The metadata `flowgen train` wrote beside a shipped adapter (empty for none)."""
    path = shipped_adapters().get(adapter or "")
    meta_file = path / ADAPTER_META if path else None
    if meta_file is None or not meta_file.is_file():
        return {}
    return dict(json.loads(meta_file.read_text()))


def tuned_refusal_bias(adapter: str | None, model_name: str) -> float:
    """The refusal bias in the shipped adapter's metadata, when the engine's base model
    is the one it was tuned on (0 otherwise: a bias means nothing to another model);
    `FLOWGEN_REFUSAL_BIAS` overrides it."""
    forced = get_settings().refusal_bias
    if forced is not None:
        return forced
    meta = shipped_adapter_meta(adapter)
    if meta.get("base_model") != model_name.rsplit("/", 1)[-1]:
        return 0.0
    return float(meta.get("refusal_bias", 0.0))


def trained_examples(adapter: str | None) -> int:
    """How many solved flows the adapter's outline prompts showed in training
    (`examples_per_prompt` in its metadata): a fine-tuned model reads best the prompts it
    learned on. Three for the base model and adapters that do not say."""
    return int(shipped_adapter_meta(adapter).get("examples_per_prompt", DEFAULT_EXAMPLES))


def check_prompt_version(adapter: str | None) -> None:
    """A shipped adapter answers the prompts it was trained on: one trained on another
    prompt version would get text it never saw, so it is refused with what to do."""
    trained_on = shipped_adapter_meta(adapter).get("prompt_version")
    if trained_on and trained_on != PROMPT_VERSION:
        raise ValueError(
            f"adapter {adapter!r} was trained on prompts {trained_on}; this version writes "
            f"{PROMPT_VERSION}: retrain it (flowgen train ... --init-from default)"
        )


def pick_adapter(requested: str | None, installation: str, available: list[str]) -> str | None:
    """The adapter a generator runs. Asked for the default, an installation whose tenant
    adapter the engine serves (named after the installation: a folder in the shipped
    adapters, or vLLM's `--lora-modules ID=...`) gets it; otherwise the shipped default
    when the engine has it, else the base model. Any other name must be served."""
    if requested == DEFAULT_ADAPTER and installation in available:
        return installation
    if requested is None or requested in available:
        return requested
    if requested == DEFAULT_ADAPTER:
        return None
    raise ValueError(f"the engine has no adapter {requested!r}; it has {available or 'none'}")


class _Usage:
    def __init__(self) -> None:
        self.calls = self.tokens_in = self.tokens_out = 0
        self._lock = threading.Lock()

    def add(self, result: GenerationResult) -> None:
        with self._lock:
            self.calls += 1
            self.tokens_in += result.usage.prompt_tokens
            self.tokens_out += result.usage.completion_tokens


def _result(events: Iterator[dict[str, Any]]) -> GenerationOutcome:
    """Run the events to the end; the last one carries the outcome."""
    outcome = None
    for event in events:
        if event["event"] == "result":
            outcome = GenerationOutcome.model_validate(event["outcome"])
    if outcome is None:  # pragma: no cover - the graph always ends with a result
        raise RuntimeError("the graph ended without a result")
    return outcome


class FlowGenerator:
    """Requirement → validated flow for one installation (which must be synced)."""

    def __init__(
        self,
        installation: str,
        *,
        store: CatalogStore | None = None,
        engine: Engine | None = None,
        adapter: str | None = DEFAULT_ADAPTER,
        checkpoints: bool = True,
        trace: bool = True,
        max_rounds: int = 2,
        examples: ExampleRetrieval | int | None = None,
        instructions: bool | None = None,
        refusal_bias: float | None = None,
        guard: RefusalGuard | Literal["shipped"] | None = "shipped",
        consensus: int = 0,
        coverage: Coverage | bool = DEFAULT_COVERAGE,
        ground_choices: bool = True,
        name_steps: bool = True,
        shown_steps_only: bool = True,
        max_requirement_chars: int | None = None,
    ):
        """`examples`: how many solved flows each prompt shows (the nearest, from the
        installation's own flows and the shared library), or the whole retrieval rule;
        by default as many as the adapter was trained with (`trained_examples`), and
        LONG_EXAMPLES for a requirement that asks for many actions.
        `instructions`: guidelines in the prompts; by default only without an adapter (a
        fine-tuned model learned them).
        `refusal_bias`: how much more readily the outline call refuses; by default the
        value tuned for the adapter (`FLOWGEN_REFUSAL_BIAS` overrides).
        `guard`: the refusal guard run before the outline (None: the model alone decides).
        `consensus`: outlines sampled besides the greedy one; the one that agrees most
        with the others is kept (each costs the outline's decoding, not its prompt).
        `coverage`: the outline may not end while an action clause of the requirement
        has no step: "on", "off", or "long" (requirements with many action clauses;
        graph/coverage.py; in-process engines); True and False, as before the modes,
        mean "on" and "off".
        `ground_choices`: a choice value the item's annotation contradicts is replaced by
        the one it names (graph/choice_grounding.py).
        `name_steps`: a core step whose span names an offered step better ("book a
        meeting room" written under update_record) becomes that step
        (graph/named_steps.py).
        `shown_steps_only`: the outline names core steps and only the spoke or custom
        steps its prompt shows (offered, or in an example); False: any step.
        `max_requirement_chars`: the longest requirement taken (None: the setting)."""
        self.store = store or CatalogStore()
        self.tools = CatalogTools(self.store, installation)  # raises for an unknown one
        self.installation = installation
        self.engine = engine or default_engine()
        self.adapter = pick_adapter(adapter, installation, self.engine.adapters())
        check_prompt_version(self.adapter)
        self.runs = RunStore(self.store.engine) if trace else None
        self.max_rounds = max_rounds
        if not 0 <= consensus <= 16:
            raise ValueError(f"consensus takes 0 to 16 sampled outlines, not {consensus}")
        self.consensus = consensus
        self.coverage: Coverage = (
            ("on" if coverage else "off") if isinstance(coverage, bool) else coverage
        )
        self.ground_choices = ground_choices
        self.name_steps = name_steps
        self.shown_steps_only = shown_steps_only
        self.max_requirement_chars = max_requirement_chars
        bias = refusal_bias
        if bias is None:
            bias = tuned_refusal_bias(self.adapter, self.engine.model_name)
        # The refusal's first token, looked up once (a served model answers over HTTP).
        refuse_tokens = self.engine.tokenize(REFUSE) if bias else []
        self.refusal_logit_bias = {refuse_tokens[0]: bias} if refuse_tokens else {}
        if examples is None:
            trained = trained_examples(self.adapter)
            examples = ExampleRetrieval(k=trained, k_long=max(trained, LONG_EXAMPLES))
        self.examples = (
            examples if isinstance(examples, ExampleRetrieval) else ExampleRetrieval(k=examples)
        )
        self.instructions = self.adapter is None if instructions is None else instructions
        self.guard = shipped_guard() if guard == "shipped" else guard
        checkpointer = None
        if checkpoints:
            from flowgen.graph.checkpoints import postgres_checkpointer

            checkpointer = postgres_checkpointer()
        self.graph = build_graph(checkpointer)
        self.checkpoints = checkpoints
        configure_opentelemetry()

    # -- public API ---------------------------------------------------------------------
    def generate(
        self, requirement: str, *, run_id: str | None = None, extra_steps: list[str] | None = None
    ) -> GenerationOutcome:
        return _result(self.stream(requirement, run_id=run_id, extra_steps=extra_steps))

    def stream(
        self, requirement: str, *, run_id: str | None = None, extra_steps: list[str] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Events as the run goes: `outline` (the flow without inputs) or `refusal`, one
        `inputs` per filled item, `validation` per validator round, `done`, and last
        `result` with the `GenerationOutcome`."""
        text = clean_requirement(requirement, self.max_requirement_chars)
        run_id = run_id or str(uuid.uuid4())
        state: FlowState = {
            "run_id": run_id,
            "installation": self.installation,
            "requirement": text,
            "rounds": 0,
            "feedback": {},
            "errors": [],
            "extra_steps": extra_steps or [],
        }
        yield from self._run(run_id, text, state)

    def resume(self, run_id: str) -> GenerationOutcome:
        """Continue a run from its last checkpoint (a finished run returns its result)."""
        if not self.checkpoints:
            raise ValueError("resume needs checkpoints")
        snapshot = self.graph.get_state({"configurable": {"thread_id": run_id}})
        if not snapshot.values:
            raise LookupError(f"no checkpoint for run {run_id!r}")
        values = snapshot.values
        if values.get("installation") != self.installation:
            raise LookupError(f"run {run_id!r} is not a run of {self.installation!r}")
        return _result(self._run(run_id, values["requirement"], None))

    # -- the run ------------------------------------------------------------------------
    def _run(
        self, run_id: str, requirement: str, state: FlowState | None
    ) -> Iterator[dict[str, Any]]:
        started = time.perf_counter()
        usage = _Usage()
        if self.runs:
            self.runs.start(
                run_id,
                self.installation,
                requirement,
                model=self.engine.model_name,
                adapter=self.adapter,
                prompt_version=PROMPT_VERSION,
            )
        tracer = RunTracer(self.runs, run_id)
        context = RunContext(
            tools=self.tools,
            engine=self.engine,
            tracer=tracer,
            catalog=self.tools.catalog(),
            adapter=self.adapter,
            max_rounds=self.max_rounds,
            consensus=self.consensus,
            refusal_logit_bias=self.refusal_logit_bias,
            guard=self.guard,
            on_model_call=self._counter(run_id, usage),
            examples=self.examples,
            instructions=self.instructions,
            coverage=self.coverage,
            ground_choices=self.ground_choices,
            name_steps=self.name_steps,
            shown_steps_only=self.shown_steps_only,
        )
        config = {"configurable": {"thread_id": run_id}, "recursion_limit": 200}
        final: dict[str, Any] = dict(state or {})
        try:
            with tracer.span("run", "generate", requirement=requirement):
                for mode, chunk in self.graph.stream(
                    state, config, context=context, stream_mode=["updates", "custom"]
                ):
                    if mode == "custom":
                        yield chunk
                    else:
                        for update in chunk.values():
                            final.update(update or {})
        except GeneratorExit:  # the consumer stopped listening (a client disconnected)
            if self.runs:
                self.runs.finish(run_id, "cancelled", error="the caller stopped the run")
            raise
        except Exception as exc:
            if self.runs:
                self.runs.finish(run_id, "error", error=f"{type(exc).__name__}: {exc}")
            raise
        if self.checkpoints:
            final = dict(self.graph.get_state(config).values)
        outcome = self._outcome(run_id, requirement, final, usage, time.perf_counter() - started)
        if self.runs:
            self.runs.finish(
                run_id,
                outcome.status,
                result=outcome.model_dump(include={"flow", "refusal", "errors", "status"}),
                validator_rounds=outcome.validator_rounds,
            )
        yield {"event": "result", "outcome": outcome.model_dump()}

    def _counter(self, run_id: str, usage: _Usage) -> Any:
        def count(result: GenerationResult) -> None:
            usage.add(result)
            if self.runs:
                self.runs.count_usage(
                    run_id, result.usage.prompt_tokens, result.usage.completion_tokens
                )

        return count

    def _outcome(
        self, run_id: str, requirement: str, state: dict[str, Any], usage: _Usage, seconds: float
    ) -> GenerationOutcome:
        flow_json = state.get("flow")
        annotations = []
        if flow_json:
            annotations = [
                Annotation(order=o, definition=d, annotation=a)
                for o, d, a in Flow.model_validate(flow_json).annotated_items()
            ]
        return GenerationOutcome(
            run_id=run_id,
            installation=self.installation,
            requirement=requirement,
            status=state.get("status") or "invalid",
            flow=flow_json,
            refusal=state.get("refusal"),
            errors=state.get("errors", []),
            annotations=annotations,
            validator_rounds=state.get("rounds", 0),
            model_calls=usage.calls,
            tokens_in=usage.tokens_in,
            tokens_out=usage.tokens_out,
            seconds=round(seconds, 3),
        )
