"""Load test of the HTTP service on loopback, as paper 2 reports it: requests per minute,
failures %, latency p10/p50/p90 for a fast and a slow ramp-up, then the highest rate of
generations this machine holds with no failures (and keeps up with: ≥ 90% made).

    python benchmarks/load_test.py [--users 4] [--run-time 120] [--rates 2,3,4]
        [--step-time 120] [--out results/load]

Starts `flowgen serve` (default settings: one generation running, four queued, 429
beyond) on a free loopback port with the shipped adapter, makes an API key for
acme-itsm, and runs headless Locust (`benchmarks/locustfile.py`) once per scenario.
Needs the `load` extra (`pip install -e '.[load]'`). Bounded: each scenario stops after
its run time plus at most `--stop-timeout` seconds for requests in flight.
"""

from __future__ import annotations

import json
import math
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Annotated

import httpx
import typer
from rich.console import Console
from rich.table import Table

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
console = Console()


@dataclass
class Scenario:
    name: str
    users: int
    spawn_rate: float
    run_time: int
    pacing: float | None = None  # seconds between one user's generations


@dataclass
class Row:
    scenario: str
    request: str
    requests: int
    per_minute: float
    failures_pct: float
    p10: float
    p50: float
    p90: float


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile, as the evaluation reports it."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [str(BIN / "flowgen"), "serve", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=5).status_code == 200:
                return proc
        except httpx.TransportError:
            pass
        time.sleep(1)
    proc.kill()
    raise SystemExit("the service did not become ready")


class PeakRss:
    """The service process's peak resident memory, sampled twice a second while it runs
    (the model loaded and generating): the figure the runtime issue bounds at 600 MB."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.process = psutil.Process(pid)
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        while not self._stop.wait(0.5):
            try:
                self.peak = max(self.peak, self.process.memory_info().rss)
            except Exception:  # the process is gone
                return

    def stop(self) -> int:
        self._stop.set()
        self._thread.join(timeout=5)
        return round(self.peak / 2**20)


def run_scenario(scenario: Scenario, url: str, key: str, stop_timeout: int) -> list[Row]:
    with tempfile.NamedTemporaryFile("w", suffix=".jsonl", delete=False) as fh:
        samples = Path(fh.name)
    env = {
        **os.environ,
        "FLOWGEN_LOAD_KEY": key,
        "FLOWGEN_LOAD_SAMPLES": str(samples),
        "FLOWGEN_LOAD_PACING": str(scenario.pacing or ""),
    }
    subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(REPO / "benchmarks" / "locustfile.py"),
            "--headless",
            "--host",
            url,
            "--users",
            str(scenario.users),
            "--spawn-rate",
            str(scenario.spawn_rate),
            "--run-time",
            f"{scenario.run_time}s",
            "--stop-timeout",
            f"{stop_timeout}s",
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        check=False,
        stdout=subprocess.DEVNULL,
    )
    # Requests in flight at the end finish within the stop timeout; they were started
    # within the run time, which is what the rate is over.
    minutes = scenario.run_time / 60
    records = [json.loads(line) for line in samples.read_text().splitlines() if line]
    samples.unlink()
    rows = []
    for name in sorted({r[0] for r in records}):
        mine = [r for r in records if r[0] == name]
        ok_times = [r[1] for r in mine if r[2]]
        rows.append(
            Row(
                scenario=scenario.name,
                request=name,
                requests=len(mine),
                per_minute=round(len(mine) / minutes, 2),
                failures_pct=round(100 * sum(not r[2] for r in mine) / len(mine), 1),
                p10=round(percentile(ok_times, 10), 2),
                p50=round(percentile(ok_times, 50), 2),
                p90=round(percentile(ok_times, 90), 2),
            )
        )
    return rows


def show(rows: list[Row]) -> Table:
    table = Table("scenario", "request", "n", "req/min", "fail %", "p10 s", "p50 s", "p90 s")
    for r in rows:
        table.add_row(
            r.scenario,
            r.request,
            str(r.requests),
            f"{r.per_minute:.2f}",
            f"{r.failures_pct:.1f}",
            f"{r.p10:.1f}",
            f"{r.p50:.1f}",
            f"{r.p90:.1f}",
        )
    return table


def markdown(rows: list[Row], held: float | None, peak_rss_mb: int) -> str:
    lines = [
        "| scenario | request | n | req/min | failures % | p10 s | p50 s | p90 s |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.request} | {r.requests} | {r.per_minute:.2f} | "
            f"{r.failures_pct:.1f} | {r.p10:.1f} | {r.p50:.1f} | {r.p90:.1f} |"
        )
    lines.append("")
    lines.append(f"Highest generation rate held with no failures: {held} per minute.")
    lines.append(f"Peak RSS of `flowgen serve`: {peak_rss_mb} MB.")
    return "\n".join(lines) + "\n"


def main(
    users: Annotated[int, typer.Option(help="Users in the ramp-up scenarios.")] = 4,
    run_time: Annotated[int, typer.Option(help="Seconds per ramp-up scenario.")] = 120,
    slow_spawn_every: Annotated[int, typer.Option(help="Slow ramp-up: seconds/user.")] = 45,
    rates: Annotated[str, typer.Option(help="Generations per minute to try.")] = "2,3,4",
    step_time: Annotated[int, typer.Option(help="Seconds per rate step (a multiple of 60).")] = 120,
    stop_timeout: Annotated[int, typer.Option(help="Seconds for requests in flight.")] = 300,
    installation: Annotated[str, typer.Option()] = "acme-itsm",
    out: Annotated[Path, typer.Option(help="Folder for load.json and load.md.")] = REPO
    / "results"
    / "load",
) -> None:
    if not (BIN / "locust").exists():
        # checked first: the service and the store would start for nothing
        raise typer.BadParameter(
            f"Locust is not installed in {BIN.parent}: pip install -e '.[load]'",
            param_hint="the load extra",
        )
    from flowgen.db.connection import get_engine
    from flowgen.db.keys import KeyStore
    from flowgen.db.sync import sync_file
    from flowgen.shipped import catalogs

    engine = get_engine()
    sync_file(catalogs()[installation], engine)
    key = KeyStore(engine).create(installation, "load test")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    os.environ["FLOWGEN_LOAD_INSTALLATION"] = installation
    service = start_service(port)
    rss = PeakRss(service.pid)
    rows: list[Row] = []
    held: float | None = None
    try:
        for scenario in (
            Scenario("fast ramp-up", users, users, run_time),
            Scenario("slow ramp-up", users, round(1 / slow_spawn_every, 4), run_time),
        ):
            console.print(f"[bold]{scenario.name}[/]: {scenario.users} users")
            rows += run_scenario(scenario, url, key, stop_timeout)
            console.print(show(rows))
        for rate in (float(r) for r in rates.split(",")):
            # `rate` users, each starting one generation a minute, spawned one every
            # 60/rate seconds so that generations arrive evenly at `rate` a minute (all
            # spawned at once, they arrived as one burst a minute, which the queue of
            # four refused whatever the rate).
            scenario = Scenario(f"{rate:g}/min", int(rate), rate / 60, step_time, pacing=60.0)
            console.print(f"[bold]fixed rate[/]: {rate:g} generations per minute")
            step = run_scenario(scenario, url, key, stop_timeout)
            rows += step
            # Closed-loop users cannot overflow the queue, so "held" also means it keeps
            # up: at least 90% of the generations offered were made in the step.
            made = sum(r.per_minute for r in step)
            if any(r.failures_pct > 0 for r in step) or made < 0.9 * rate:
                break
            held = rate
        console.print(show(rows))
        console.print(f"highest generation rate with no failures: {held} per minute")
    finally:
        peak_rss_mb = rss.stop()
        service.terminate()
        service.wait(timeout=60)
    console.print(f"peak RSS of the service: {peak_rss_mb} MB")
    out.mkdir(parents=True, exist_ok=True)
    (out / "load.json").write_text(
        json.dumps(
            {
                "rows": [asdict(r) for r in rows],
                "held_per_minute": held,
                "peak_rss_mb": peak_rss_mb,
            },
            indent=2,
        )
        + "\n"
    )
    (out / "load.md").write_text(markdown(rows, held, peak_rss_mb))
    console.print(f"wrote {out / 'load.json'} and {out / 'load.md'}")


if __name__ == "__main__":
    typer.run(main)
