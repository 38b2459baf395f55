"""Where an eval's flows spent their prompt: tokens processed (not served from the KV
cache), tokens sent, prompt and decode seconds, read from each case's run trace.

    python benchmarks/trace_tokens.py results/adapter-v2-dev results/adapter-v3-dev

Legitimate requests only (a refusal makes one short call). The runs must be in this
data directory's run store (the eval that wrote the folder ran here)."""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path
from typing import Any

from flowgen.db.runs import RunStore
from flowgen.db.store import CatalogStore


def flow_usage(store: RunStore, run_id: str) -> dict[str, float]:
    totals = {"processed": 0.0, "sent": 0.0, "prompt_s": 0.0, "decode_s": 0.0}
    for event in store.get(run_id).events:
        payload: dict[str, Any] = event.payload if isinstance(event.payload, dict) else {}
        usage, timings = payload.get("usage"), payload.get("timings")
        if usage:
            totals["processed"] += usage["prompt_tokens"] - usage.get("cached_prompt_tokens", 0)
            totals["sent"] += usage["prompt_tokens"]
        if timings:
            totals["prompt_s"] += timings.get("prompt_s", 0.0)
            totals["decode_s"] += timings.get("decode_s", 0.0)
    return totals


def main(folders: list[str]) -> None:
    store = RunStore(CatalogStore().engine)
    for folder in folders:
        path = Path(folder) / "cases.jsonl"
        rows = [json.loads(line) for line in path.read_text().splitlines() if line]
        flows = [
            flow_usage(store, r["run_id"])
            for r in rows
            if not r["gold_refusal"] and r.get("run_id")
        ]
        mean = {k: statistics.mean(f[k] for f in flows) for k in flows[0]}
        print(
            f"{folder}: {len(flows)} flows; prompt tokens processed {mean['processed']:.0f}"
            f" (median {statistics.median(f['processed'] for f in flows):.0f}), sent"
            f" {mean['sent']:.0f}; prompt {mean['prompt_s']:.2f} s, decode"
            f" {mean['decode_s']:.2f} s per flow (means)"
        )


if __name__ == "__main__":
    main(sys.argv[1:])
