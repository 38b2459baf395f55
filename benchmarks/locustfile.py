"""Locust users of the HTTP service (driven by `benchmarks/load_test.py`).

Each user asks for flows with requirements from the dev split, and now and then reads
the installation's catalog summary. Every request is also appended to the file in
FLOWGEN_LOAD_SAMPLES (name, seconds, ok), from which the driver computes p10/p50/p90
(Locust's own table has no p10).

    FLOWGEN_LOAD_KEY, FLOWGEN_LOAD_INSTALLATION: who asks, for which installation
    FLOWGEN_LOAD_PACING: if set, each user starts one generation every that many
        seconds (a fixed request rate) and nothing else
"""

from __future__ import annotations

import json
import os
import random
from pathlib import Path
from typing import Any

from locust import HttpUser, between, constant_pacing, events, task

REPO = Path(__file__).resolve().parent.parent
INSTALLATION = os.environ.get("FLOWGEN_LOAD_INSTALLATION", "acme-itsm")
PACING = float(os.environ["FLOWGEN_LOAD_PACING"]) if os.environ.get("FLOWGEN_LOAD_PACING") else 0
SAMPLES = os.environ.get("FLOWGEN_LOAD_SAMPLES")
REQUIREMENTS = [
    case["requirement"]
    for case in map(json.loads, (REPO / "data" / "handwritten.jsonl").open())
    if case["installation"] == INSTALLATION
    and case["split"] == "dev"
    # The long dev cases (`*-dev-long-*`, 9-14 components, added after the load target of
    # issue 22 was set) stay out of the mix, so that rates compare across runs.
    and "-long-" not in case["id"]
]


@events.request.add_listener
def record(name: str, response_time: float, exception: Any, **_: Any) -> None:
    if SAMPLES:
        with open(SAMPLES, "a", encoding="utf-8") as fh:
            fh.write(json.dumps([name, response_time / 1000, exception is None]) + "\n")


class FlowUser(HttpUser):
    wait_time = constant_pacing(PACING) if PACING else between(5, 15)
    network_timeout = 900.0
    connection_timeout = 30.0

    def on_start(self) -> None:
        self.client.headers["Authorization"] = f"Bearer {os.environ['FLOWGEN_LOAD_KEY']}"

    @task(3 if not PACING else 1)
    def generate(self) -> None:
        self.client.post(
            f"/v1/installations/{INSTALLATION}/flows",
            json={"requirement": random.choice(REQUIREMENTS)},
            name="POST flows",
        )

    @task(0 if PACING else 1)
    def catalog(self) -> None:
        self.client.get(f"/v1/installations/{INSTALLATION}/catalog", name="GET catalog")
