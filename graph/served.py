"""The generator as a graph LangGraph's own server runs (`langgraph dev`, `langgraph up`;
`langgraph.json` at the repository root names `make_graph`).

Input `{"installation": ..., "requirement": ...}` (the installation may instead come
from the assistant's `configurable.installation`); output the run's outcome (status,
flow, refusal, validator errors, annotations, counts). With `stream_mode="custom"` the
client gets the generator's events as they happen: `outline` (or `refusal`), one
`inputs` per item, `validation`, `done`. The run is the `FlowGenerator`'s own, so it is
traced in the run store (`flowgen runs show RUN_ID`) like any other.

The generator runs in a thread of its own: its graph then starts from a clean context,
not as a subgraph of the server's graph (whose checkpointer and stream it would
otherwise join).
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Callable, Generator, Iterator
from typing import Any, cast

from langchain_core.runnables import RunnableConfig
from langgraph.config import get_stream_writer
from langgraph.graph import END, START, StateGraph
from langgraph.graph.state import CompiledStateGraph
from typing_extensions import TypedDict

from flowgen.engine.base import Engine
from flowgen.graph.generator import FlowGenerator


class ServedInput(TypedDict, total=False):
    installation: str
    requirement: str


class ServedOutput(TypedDict, total=False):
    run_id: str
    installation: str
    status: str
    flow: dict[str, Any] | None
    refusal: str | None
    errors: list[dict[str, Any]]
    annotations: list[dict[str, Any]]
    validator_rounds: int
    model_calls: int
    tokens_in: int
    tokens_out: int
    seconds: float


class ServedState(ServedInput, ServedOutput):
    pass


_lock = threading.Lock()
_engine: Engine | None = None
_generators: dict[str, FlowGenerator] = {}


def generator_for(installation: str) -> FlowGenerator:
    """One generator per installation and one model per process, made on first use."""
    global _engine
    with _lock:
        if installation not in _generators:
            if _engine is None:
                from flowgen.engine.factory import default_engine

                _engine = default_engine()
            _generators[installation] = FlowGenerator(installation, engine=_engine)
        return _generators[installation]


def in_own_thread(start: Callable[[], Iterator[dict[str, Any]]]) -> Iterator[dict[str, Any]]:
    """The events of `start()`, iterated in a new thread (a clean context). If the caller
    stops early, the run is closed at its next event (traced as cancelled)."""
    events: queue.Queue[tuple[str, Any]] = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        run = start()
        try:
            for event in run:
                if stop.is_set():
                    if isinstance(run, Generator):
                        run.close()
                    break
                events.put(("event", event))
        except BaseException as exc:
            events.put(("error", exc))
        finally:
            events.put(("end", None))

    threading.Thread(target=work, name="flowgen-served", daemon=True).start()
    try:
        while True:
            kind, value = events.get()
            if kind == "event":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()


def generate(state: ServedState, config: RunnableConfig) -> ServedOutput:
    installation = state.get("installation") or (config.get("configurable") or {}).get(
        "installation"
    )
    requirement = state.get("requirement")
    if not installation or not requirement:
        raise ValueError("give an installation and a requirement")
    generator = generator_for(installation)
    writer = get_stream_writer()
    run_id = str(uuid.uuid4())
    outcome: dict[str, Any] = {}
    for event in in_own_thread(lambda: generator.stream(requirement, run_id=run_id)):
        if event["event"] == "result":
            outcome = event["outcome"]
        else:
            writer(event)
    keys = ServedOutput.__annotations__
    return cast(ServedOutput, {k: v for k, v in outcome.items() if k in keys})


def make_graph(config: RunnableConfig | None = None) -> CompiledStateGraph[Any, Any, Any, Any]:
    """The graph factory `langgraph.json` names: one node, `generate`, the whole run."""
    builder = StateGraph(ServedState, input_schema=ServedInput, output_schema=ServedOutput)
    builder.add_node("generate", generate)
    builder.add_edge(START, "generate")
    builder.add_edge("generate", END)
    return builder.compile(name="flowgen")
