"""The generator on LangGraph's own server: `langgraph.json` at the root names
`flowgen.graph.served:make_graph`; `langgraph dev` (PyPI `langgraph-cli[inmem]`, set up
by scripts/langgraph_env.sh) serves it on loopback and `langgraph-sdk`'s client runs a
flow through it, streaming."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from playground import REPO, case

from flowgen.flow.model import Flow

# scripts/langgraph_env.sh's environment (layered on .venv), else one installed here.
LAYERED = REPO / "build" / "langgraph-venv" / "bin" / "langgraph"
LANGGRAPH = (
    str(LAYERED)
    if LAYERED.is_file()
    else shutil.which("langgraph", path=str(Path(sys.executable).parent))
)


def test_langgraph_json_names_the_graph_factory() -> None:
    config = json.loads((REPO / "langgraph.json").read_text())
    assert config["dependencies"] == ["."]
    module, _, name = config["graphs"]["flowgen"].partition(":")
    from importlib import import_module

    factory = getattr(import_module(module), name)
    graph = factory({"configurable": {}})
    assert set(graph.get_input_jsonschema()["properties"]) == {"installation", "requirement"}
    assert {"status", "flow", "run_id"} <= set(graph.get_output_jsonschema()["properties"])


def test_the_generator_runs_in_a_clean_context_and_its_errors_reach_the_caller() -> None:
    import contextvars

    from flowgen.graph.served import in_own_thread

    seen = contextvars.ContextVar("seen", default="clean")
    seen.set("the caller's")

    def events() -> Iterator[dict[str, Any]]:
        yield {"event": seen.get()}
        raise RuntimeError("the model failed")

    run = in_own_thread(events)
    assert next(run) == {"event": "clean"}  # not the server graph's context
    with pytest.raises(RuntimeError, match="the model failed"):
        next(run)


def test_the_served_graph_streams_the_generators_events(synced_store, monkeypatch) -> None:
    """In process, with a replayed model: the custom stream carries the generator's
    events and the output its outcome; the run is in the run store."""
    from flowgen.db.runs import RunStore
    from flowgen.graph import served
    from flowgen.training.replay import ReplayEngine

    gold = case()
    monkeypatch.setattr(served, "_engine", ReplayEngine(Flow.model_validate(gold["flow"])))
    monkeypatch.setattr(served, "_generators", {})
    graph = served.make_graph()
    chunks = list(
        graph.stream(
            {"installation": "acme-itsm", "requirement": gold["requirement"]},
            stream_mode=["custom", "values"],
        )
    )
    events = [c["event"] for mode, c in chunks if mode == "custom"]
    assert events[0] == "outline" and events[-1] == "done"
    assert events.count("inputs") >= 3 and "validation" in events
    final = next(c for mode, c in reversed(chunks) if mode == "values")
    assert final["status"] == "ok"
    assert [c["definition"] for c in final["flow"]["components"]] == [
        c["definition"] for c in gold["flow"]["components"]
    ]
    assert RunStore(synced_store.engine).get(final["run_id"], "acme-itsm").run.status == "ok"


class LangGraphDev:
    """`langgraph dev` on a free loopback port, in a folder of its own (it keeps its
    in-memory state under `.langgraph_api/` there)."""

    def __init__(self, workdir: Path):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.log = workdir / "langgraph-dev.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> LangGraphDev:
        assert LANGGRAPH is not None
        env = {
            **os.environ,
            "FLOWGEN_PG_KEEP_RUNNING": "1",
            "LANGSMITH_TRACING": "false",
            "LANGCHAIN_TRACING_V2": "false",
        }
        command = [LANGGRAPH, "dev", "--config", str(REPO / "langgraph.json")]
        command += ["--host", "127.0.0.1", "--port", str(self.port), "--no-browser", "--no-reload"]
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                command, cwd=self.workdir, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log.read_text()[-3000:]
            try:
                if httpx.get(f"{self.url}/ok", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise TimeoutError(f"langgraph dev did not answer: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@pytest.fixture(scope="module")
def langgraph_dev(synced_store, tmp_path_factory) -> Iterator[LangGraphDev]:
    if LANGGRAPH is None:
        pytest.skip("no langgraph CLI: run scripts/langgraph_env.sh (langgraph-cli[inmem])")
    server = LangGraphDev(tmp_path_factory.mktemp("langgraph-dev")).start()
    yield server
    server.stop()


@pytest.mark.model  # `langgraph dev` loads the real model for its run
def test_langgraph_dev_serves_the_generator_to_the_sdk_client(langgraph_dev) -> None:
    from langgraph_sdk import get_sync_client

    from flowgen.db.connection import get_engine
    from flowgen.db.runs import RunStore

    client = get_sync_client(url=langgraph_dev.url)
    (assistant,) = client.assistants.search(graph_id="flowgen")
    parts: list[Any] = list(
        client.runs.stream(
            None,
            assistant["assistant_id"],
            input={"installation": "acme-itsm", "requirement": case()["requirement"]},
            stream_mode=["custom", "values"],
        )
    )
    errors = [p.data for p in parts if p.event == "error"]
    assert not errors, errors
    custom = [p.data["event"] for p in parts if p.event == "custom"]
    assert custom and custom[0] in ("outline", "refusal") and custom[-1] == "done"
    if custom[0] == "outline":
        assert "inputs" in custom and custom.index("inputs") > 0
    final = [p.data for p in parts if p.event == "values"][-1]
    assert final["status"] in ("ok", "invalid", "refused")
    assert final["model_calls"] > 0
    trace = RunStore(get_engine()).get(final["run_id"], "acme-itsm")
    assert trace.run.status == final["status"]
