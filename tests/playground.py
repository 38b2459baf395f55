"""The service's app on loopback for the page's tests: uvicorn in a thread of the test
process, on the session's embedded store, its model a `ReplayEngine` that answers a
hand-written case's gold flow (a FOREACH holding an IF and an ELSE), so the page is
tested on a real generation through the graph, the validator and the run store, in
seconds and always drawing the same flow."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvicorn
import yaml

from flowgen.flow.model import Flow

REPO = Path(__file__).resolve().parent.parent
NESTED_CASE = "itsm-test-long-004"  # monthly → look up → FOREACH { IF {…} ELSE {…} } → post
# A second installation (acme-itsm's catalog under another id); not test_service.py's
# `other-co`, which must stay unsynced in the session's shared store.
OTHER = "playground-co"


def case(case_id: str = NESTED_CASE) -> dict[str, Any]:
    for line in (REPO / "data" / "handwritten.jsonl").read_text().splitlines():
        row = json.loads(line)
        if row["id"] == case_id:
            return row
    raise LookupError(case_id)


def sync_other(engine: Any, embedder: Any) -> None:
    """`OTHER`: acme-itsm's catalog under another installation id."""
    from flowgen.db.sync import sync_catalog
    from flowgen.flow.catalog import parse_catalog

    data = yaml.safe_load((REPO / "catalogs" / "acme-itsm.yaml").read_text())
    data["installation"] = OTHER
    sync_catalog(parse_catalog(data, OTHER), engine, embedder=embedder)


def make_key(installation: str | None) -> str:
    from flowgen.db.connection import get_engine
    from flowgen.db.keys import KeyStore

    return KeyStore(get_engine()).create(installation, "playground test")


class ThreadServer:
    """`create_app(engine=...)` served by uvicorn in a daemon thread: the model replays
    `flow`, or with None it is the real one (loaded in the background)."""

    def __init__(self, flow: dict[str, Any] | None):
        from flowgen.service.app import create_app
        from flowgen.training.replay import ReplayEngine

        engine = ReplayEngine(Flow.model_validate(flow), check_grammar=False) if flow else None
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            create_app(engine=engine), host="127.0.0.1", port=self.port, log_level="warning"
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="playground", daemon=True)

    def start(self, ready_within: float = 120) -> ThreadServer:
        """Start it and wait until it is ready (its model loaded)."""
        self.thread.start()
        deadline = time.monotonic() + ready_within
        while not self.server.started:
            assert self.thread.is_alive(), "the service stopped while starting"
            assert time.monotonic() < deadline, "the service did not start"
            time.sleep(0.1)
        while httpx.get(f"{self.url}/readyz", timeout=30).status_code != 200:
            assert time.monotonic() < deadline, "the service's model did not load"
            time.sleep(1)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=120)


@contextmanager
def playground_server(engine: Any, embedder: Any) -> Iterator[ThreadServer]:
    """The service on loopback, replaying the nested case, with `OTHER` synced too."""
    sync_other(engine, embedder)
    srv = ThreadServer(case()["flow"]).start()
    try:
        yield srv
    finally:
        srv.stop()


def playground_keys() -> dict[str, str]:
    return {"admin": make_key(None), "acme": make_key("acme-itsm"), "other": make_key(OTHER)}


def sse(response: httpx.Response) -> list[tuple[str, dict[str, Any]]]:
    events, name = [], None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: ") and name:
            events.append((name, json.loads(line[len("data: ") :])))
            name = None
    return events


def generate(server: ThreadServer, key: str, installation: str, requirement: str) -> list[Any]:
    """One streamed generation through the API; its events."""
    with (
        server.client(key) as c,
        c.stream(
            "POST",
            f"/v1/installations/{installation}/flows",
            json={"requirement": requirement},
            headers={"Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.status_code == 200, response.read()
        return sse(response)
