"""The HTTP service, as a real `flowgen serve` process on loopback, with the real model
and the real embedded database: keys and isolation, limits, streaming order, the queue,
a client that disconnects mid-stream, a sync killed mid-way, and a schemathesis run."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from conftest import needs

REPO = Path(__file__).resolve().parent.parent
FLOWGEN = str(Path(sys.executable).parent / "flowgen")
REQUIREMENT = "When a priority 1 incident is created, email the manager of its assignment group"


class Server:
    """One `flowgen serve` process; settings through FLOWGEN_SERVICE_* variables, other
    variables in `env` (None removes one)."""

    def __init__(self, env: dict[str, str | None] | None = None, **settings: Any):
        self.settings = settings
        self.env = env or {}
        self.proc: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(self, until: str = "/readyz") -> Server:
        """Start it and wait until `until` answers 200 (/healthz: the store, and so the
        embedded server, is up, whether or not the model has loaded)."""
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        env = {**os.environ, "FLOWGEN_PG_KEEP_RUNNING": "1"}
        env |= {f"FLOWGEN_SERVICE_{k.upper()}": str(v) for k, v in self.settings.items()}
        for name, value in self.env.items():
            if value is None:
                env.pop(name, None)
            else:
                env[name] = value
        self.url = f"http://127.0.0.1:{port}"
        self.proc = subprocess.Popen(
            [FLOWGEN, "serve", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "flowgen serve exited while starting"
            try:
                if httpx.get(f"{self.url}{until}", timeout=5).status_code == 200:
                    return self
            except httpx.TransportError:
                pass
            time.sleep(1)
        raise TimeoutError(f"flowgen serve did not answer {until}")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=60)

    def client(self, key: str | None = None, timeout: float = 600) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)


def make_key(installation: str | None) -> str:
    from flowgen.db.connection import get_engine
    from flowgen.db.keys import KeyStore

    return KeyStore(get_engine()).create(installation, "test")


@pytest.fixture(scope="module")
@needs("model")
def server(synced_store) -> Iterator[Server]:
    # One generation at a time and none queued, so a second one is refused at once.
    srv = Server(max_running=1, max_waiting=0, max_catalog_bytes=200_000).start()
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def keys(server) -> dict[str, str]:
    return {"admin": make_key(None), "acme": make_key("acme-itsm")}


def sse_events(response: httpx.Response) -> Iterator[tuple[str, dict[str, Any]]]:
    name = None
    for line in response.iter_lines():
        if line.startswith("event: "):
            name = line[len("event: ") :]
        elif line.startswith("data: ") and name:
            yield name, json.loads(line[len("data: ") :])
            name = None


@pytest.fixture(scope="module")
def streamed_run(server, keys) -> list[tuple[str, dict[str, Any]]]:
    with (
        server.client(keys["acme"]) as c,
        c.stream(
            "POST",
            "/v1/installations/acme-itsm/flows",
            json={"requirement": REQUIREMENT},
            headers={"Accept": "text/event-stream"},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        return list(sse_events(response))


def test_stream_sends_the_outline_then_each_step_then_the_result(streamed_run, server, keys):
    names = [name for name, _ in streamed_run]
    assert names[0] == "run" and names[1] in ("outline", "refusal")
    assert names[-2:] == ["done", "result"]
    if names[1] == "outline":
        first_validation = names.index("validation")
        inputs = [
            data["order"] for name, data in streamed_run[:first_validation] if name == "inputs"
        ]
        assert inputs, "no step's inputs were streamed before validation"
        # The trigger (order 0) first, then the steps in flow order.
        assert inputs == sorted(inputs)
    run_id = streamed_run[0][1]["run_id"]
    result = streamed_run[-1][1]
    assert result["run_id"] == run_id and result["installation"] == "acme-itsm"
    with server.client(keys["acme"]) as c:
        trace = c.get(f"/v1/runs/{run_id}").json()
    assert trace["status"] == result["status"]
    assert trace["model_calls"] == result["model_calls"] > 0
    assert {e["kind"] for e in trace["events"]} >= {"node", "model"}


def test_a_key_reaches_only_its_own_installation(server, keys, streamed_run):
    run_id = streamed_run[0][1]["run_id"]
    with server.client(keys["admin"]) as admin:
        made = admin.post("/v1/installations/other-co/keys", json={"label": "other"})
        assert made.status_code == 201
        other_key = made.json()["key"]
    with server.client(other_key) as other, server.client(keys["acme"]) as acme:
        # Another installation's catalog, flows and runs are as if they did not exist.
        for response in (
            other.get("/v1/installations/acme-itsm/catalog"),
            other.post("/v1/installations/acme-itsm/flows", json={"requirement": REQUIREMENT}),
            other.get(f"/v1/runs/{run_id}"),
            acme.get("/v1/installations/other-co/catalog"),
            acme.get("/v1/installations/no-such-co/catalog"),
        ):
            assert response.status_code == 404, response.text
            assert response.json()["error"]["code"] == "not_found"
        assert acme.get(f"/v1/runs/{run_id}").status_code == 200
        own = other.get("/v1/installations/other-co/catalog")
        assert own.status_code == 200 and own.json()["synced_at"] is None
        unsynced = other.post("/v1/installations/other-co/flows", json={"requirement": REQUIREMENT})
        assert unsynced.status_code == 409
        assert unsynced.json()["error"]["code"] == "catalog_not_synced"
        assert acme.post("/v1/installations/acme-itsm/keys", json={}).status_code == 403
    with server.client() as anonymous, server.client("fgk_0123456789ab_wrong") as forged:
        for c in (anonymous, forged):
            response = c.get("/v1/installations/acme-itsm/catalog")
            assert response.status_code == 401
            assert response.headers["www-authenticate"] == "Bearer"
    from flowgen.db.connection import get_engine
    from flowgen.db.keys import KeyStore

    KeyStore(get_engine()).revoke(other_key.split("_")[1])
    with server.client(other_key) as revoked:
        assert revoked.get("/v1/installations/other-co/catalog").status_code == 401


def test_limits_and_bad_input_get_a_named_json_error_and_change_nothing(server, keys):
    with server.client(keys["acme"]) as c:
        before = c.get("/v1/installations/acme-itsm/catalog").json()
        flows = "/v1/installations/acme-itsm/flows"
        too_long = c.post(flows, json={"requirement": "x" * 4001})
        assert too_long.status_code == 422
        assert "requirement" in " ".join(too_long.json()["error"]["details"])
        blank = c.post(flows, json={"requirement": " \x00\x07 "})
        assert blank.status_code == 422
        assert blank.json()["error"] == {
            "code": "invalid_requirement",
            "message": "the requirement is empty",
        }
        huge = c.post(
            flows,
            content=b"{" + b" " * 100_000 + b"}",
            headers={"content-type": "application/json"},
        )
        assert huge.status_code == 413 and huge.json()["error"]["code"] == "too_large"

        catalog_url = "/v1/installations/acme-itsm/catalog"
        acme_yaml = (REPO / "catalogs" / "acme-itsm.yaml").read_text()
        yaml_type = {"content-type": "application/yaml"}
        big = c.put(catalog_url, content=acme_yaml + "#" * 200_000, headers=yaml_type)
        assert big.status_code == 413
        plain = c.put(catalog_url, content=acme_yaml, headers={"content-type": "text/plain"})
        assert plain.status_code == 415
        broken = yaml.safe_load(acme_yaml)
        broken["steps"][0]["inputs"][0]["type"] = "not_a_type"
        del broken["tables"][0]["name"]
        invalid = c.put(catalog_url, json=broken)
        assert invalid.status_code == 422
        error = invalid.json()["error"]
        assert error["code"] == "invalid_catalog" and len(error["details"]) >= 2
        assert any("tables" in d for d in error["details"])
        other = c.put(catalog_url, json=yaml.safe_load(acme_yaml) | {"installation": "globex-csm"})
        assert other.status_code == 422 and "globex-csm" in other.json()["error"]["message"]
        assert c.get(catalog_url).json() == before


def test_a_full_queue_answers_429_and_a_client_that_leaves_mid_stream_frees_its_slot(server, keys):
    flows = "/v1/installations/acme-itsm/flows"
    with server.client(keys["acme"]) as c:
        with c.stream(
            "POST",
            flows,
            json={"requirement": REQUIREMENT},
            headers={"Accept": "text/event-stream"},
        ) as response:
            events = sse_events(response)
            _, first = next(events)
            run_id = first["run_id"]
            assert next(events)[0] == "outline"
            busy = httpx.post(
                server.url + flows,
                json={"requirement": REQUIREMENT},
                headers={"Authorization": f"Bearer {keys['acme']}"},
                timeout=30,
            )
            assert busy.status_code == 429 and busy.headers["retry-after"]
            assert busy.json()["error"]["code"] == "busy"
        # The client is gone: the run stops at its next event and is recorded so.
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            status = c.get(f"/v1/runs/{run_id}").json()["status"]
            if status != "running":
                break
            time.sleep(1)
        assert status == "cancelled"
        # ... and its slot is free again: the next generation runs (JSON this time).
        response = c.post(flows, json={"requirement": "Close the incident when its task closes"})
        assert response.status_code == 200, response.text
        assert response.json()["status"] in ("ok", "invalid", "refused")
        assert c.get("/healthz").json()["status"] == "ok"


def bulk_catalog(columns: int) -> dict[str, Any]:
    """acme-itsm plus a custom table with many columns: long enough to embed that a
    kill lands mid-sync."""
    catalog = yaml.safe_load((REPO / "catalogs" / "acme-itsm.yaml").read_text())
    catalog["tables"].append(
        {
            "name": "u_legacy_import",
            "label": "Legacy import",
            "description": "Rows imported from the retired helpdesk tool.",
            "columns": [
                {"name": f"u_field_{i}", "label": f"Legacy field {i}", "type": "string"}
                for i in range(columns)
            ],
        }
    )
    return catalog


@pytest.fixture(scope="module")
@needs("model")
def strict_server(synced_store) -> Iterator[Server]:
    # Every sync is a background job; a generation may take half a second (a flow takes
    # 1-3 s even on the bf16 engine).
    srv = Server(sync_job_items=0, generation_timeout_s=0.5).start()
    yield srv
    srv.stop()


def test_a_generation_past_its_time_limit_is_stopped(strict_server, keys):
    acme = {"Authorization": f"Bearer {keys['acme']}"}
    flows = f"{strict_server.url}/v1/installations/acme-itsm/flows"
    response = httpx.post(flows, json={"requirement": REQUIREMENT}, headers=acme, timeout=300)
    assert response.status_code == 504
    error = response.json()["error"]
    assert error["code"] == "timeout"
    run_id = response.headers["x-run-id"]
    assert run_id in error["message"]
    deadline = time.monotonic() + 300
    while (status := _run_status(strict_server, acme, run_id)) == "running":
        assert time.monotonic() < deadline
        time.sleep(1)
    assert status == "cancelled"


def _run_status(server: Server, headers: dict[str, str], run_id: str) -> str:
    return httpx.get(f"{server.url}/v1/runs/{run_id}", headers=headers).json()["status"]


def test_a_sync_killed_mid_way_leaves_the_catalog_as_it_was(strict_server, keys):
    admin = {"Authorization": f"Bearer {keys['admin']}"}
    srv = strict_server
    catalog = "/v1/installations/acme-itsm/catalog"
    try:
        before = httpx.get(srv.url + catalog, headers=admin).json()
        accepted = httpx.put(srv.url + catalog, json=bulk_catalog(8000), headers=admin, timeout=120)
        assert accepted.status_code == 202
        job_url = accepted.json()["status_url"]
        assert accepted.headers["location"] == job_url
        deadline = time.monotonic() + 120
        while httpx.get(srv.url + job_url, headers=admin).json()["status"] == "queued":
            assert time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(1.0)  # embedding 8,000 columns takes far longer
        assert httpx.get(srv.url + job_url, headers=admin).json()["status"] == "running"
        srv.stop(signal.SIGKILL)
        srv.start()  # on a new port
        assert httpx.get(srv.url + catalog, headers=admin).json() == before
        job = httpx.get(srv.url + job_url, headers=admin).json()
        assert job["status"] == "failed" and "unchanged" in job["error"]
    finally:
        srv.stop()  # a failed assertion must not leave the killed-and-restarted one behind


def test_schemathesis_finds_no_server_error(server, keys, tmp_path):
    # Its own installation (synced through the API, small enough to sync in the request),
    # so fuzzed catalogs and requirements reach the real sync and the real model without
    # touching the installation the other tests use.
    catalog = yaml.safe_load((REPO / "catalogs" / "acme-itsm.yaml").read_text())
    catalog["installation"] = "fuzz-co"
    with server.client(keys["admin"]) as admin:
        synced = admin.put("/v1/installations/fuzz-co/catalog", json=catalog)
        assert synced.status_code == 200, synced.text
        assert synced.json()["added"] == sum(
            admin.get("/v1/installations/fuzz-co/catalog").json()["counts"].values()
        )
        key = admin.post("/v1/installations/fuzz-co/keys", json={}).json()["key"]
    (tmp_path / "schemathesis.toml").write_text(
        '[parameters]\n"path.installation_id" = "fuzz-co"\n'
    )
    result = subprocess.run(
        [
            str(Path(sys.executable).parent / "schemathesis"),
            "run",
            f"{server.url}/openapi.json",
            "--header",
            f"Authorization: Bearer {key}",
            "--checks",
            "not_a_server_error",
            "--phases",
            "examples,fuzzing",
            "--max-examples",
            "10",
            "--workers",
            "1",
            "--request-timeout",
            "300",
            "--seed",
            "1",
            "--no-color",
        ],
        capture_output=True,
        text=True,
        timeout=1500,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]


def postgres_processes(under: Path) -> list[int]:
    """Pids of the postgres processes whose data directory is under `under` (/proc)."""
    prefix = str(under.resolve()).encode()
    pids = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().split(b"\0")
            state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if (
            state != "Z"
            and cmdline[0].endswith(b"postgres")
            and any(arg.startswith(prefix) for arg in cmdline[1:])
        ):
            pids.append(int(proc.name))
    return pids


def wait_until_gone(data_dir: Path, timeout: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout
    while (left := postgres_processes(data_dir)) and time.monotonic() < deadline:
        time.sleep(0.5)
    return left


# No model: the service answers /healthz once its store is up; FLOWGEN_MODEL_URL names a
# server that is never called, so nothing loads or converts the base model.
OWN_POSTGRES = {"FLOWGEN_PG_KEEP_RUNNING": None, "DATABASE_URL": None}
NO_MODEL = {"FLOWGEN_MODEL_URL": "http://127.0.0.1:9/v1"}


@pytest.mark.db  # its own embedded server, in a data dir of its own
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_serve_stopped_by_a_signal_stops_the_postgres_it_started(tmp_path, sig) -> None:
    data = tmp_path / "data"
    srv = Server(env={**OWN_POSTGRES, **NO_MODEL, "FLOWGEN_DATA_DIR": str(data)})
    try:
        srv.start(until="/healthz")
        assert postgres_processes(data), "flowgen serve started no embedded postgres"
    finally:
        srv.stop(sig)
    assert srv.proc is not None and srv.proc.returncode is not None
    assert not wait_until_gone(data), "postgres left running after flowgen serve stopped"


@pytest.mark.db  # its own embedded server
def test_a_command_that_ends_normally_stops_the_postgres_it_started(tmp_path) -> None:
    data = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if k not in OWN_POSTGRES}
    result = subprocess.run(
        [FLOWGEN, "keys", "list"],
        env=env | {"FLOWGEN_DATA_DIR": str(data)},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert (data / "pgdata" / "PG_VERSION").is_file()
    assert not wait_until_gone(data), "postgres left running after flowgen exited"


INNER_SESSION = """
import os, subprocess, sys

def test_uses_the_store(engine):
    # A child joins the session's server and is killed before it can let go of it.
    child = "from flowgen.db.connection import get_engine; get_engine(); os.kill(os.getpid(), 9)"
    env = {**os.environ, "FLOWGEN_PG_KEEP_RUNNING": "1"}
    proc = subprocess.run([sys.executable, "-c", "import os; " + child], env=env, timeout=300)
    assert proc.returncode == -9
"""


@pytest.mark.db  # an inner session starts its own embedded server
def test_the_test_sessions_teardown_stops_its_postgres(tmp_path) -> None:
    """A pytest session using the `engine` fixture (tests/conftest.py), as the suite does,
    leaves no postgres behind, even when a child that shared the server was killed."""
    (tmp_path / "test_inner.py").write_text(INNER_SESSION)
    basetemp = tmp_path / "basetemp"
    env = {k: v for k, v in os.environ.items() if k not in (*OWN_POSTGRES, "FLOWGEN_DATA_DIR")}
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-c"),
            *(str(REPO / "pyproject.toml"), "--rootdir", str(REPO), "--basetemp", str(basetemp)),
            str(tmp_path / "test_inner.py"),
        ],
        env=env,
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert list(basetemp.glob("*/pgdata/PG_VERSION")), "the session started no postgres"
    assert not wait_until_gone(basetemp), "postgres left running after the test session"
