"""Generator latency on this CPU, per flow and per node, with the quality of what it made.

    python benchmarks/graph_latency.py [--cases examples/gold.jsonl] [--split dev]
        [--limit N] [--adapter default|none] [--max-rounds 2] [--replay] [--examples K]

Runs the full graph (embedded Postgres, local engine) on every case, after syncing the
installations the cases name from `catalogs/`. Prints one JSON line per case, then a
summary: p50/p90 seconds per flow and per node kind (outline, inputs, validate), model
calls and tokens per flow, FlowSim outline/full against the gold flows, the structure
and catalog error rates after the validator loop, and refusals. `--replay` answers with
the gold lines instead of the model: it measures the retrieval/grammar ceiling (every
gold answer admitted?) and the graph's own overhead. `--examples K` sets how many
solved flows each prompt shows (0: none).
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path
from typing import Any

from flowgen.db.runs import RunStore
from flowgen.db.store import CatalogStore
from flowgen.db.sync import sync_file
from flowgen.flow.model import Flow
from flowgen.graph.generator import FlowGenerator, default_engine
from flowgen.metrics.scoring import score_case
from flowgen.training.replay import ReplayEngine

REPO = Path(__file__).resolve().parent.parent


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=Path, default=REPO / "examples" / "gold.jsonl")
    parser.add_argument("--split", default=None)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--adapter", default="default")
    parser.add_argument("--max-rounds", type=int, default=2)
    parser.add_argument("--replay", action="store_true")
    parser.add_argument("--examples", type=int, default=3, help="solved flows per prompt")
    args = parser.parse_args()

    cases = [json.loads(line) for line in args.cases.read_text().splitlines() if line.strip()]
    if args.split:
        cases = [c for c in cases if c.get("split") == args.split]
    cases = cases[: args.limit]
    store = CatalogStore()
    for installation in sorted({c["installation"] for c in cases}):
        sync_file(REPO / "catalogs" / f"{installation}.yaml", store.engine)
    runs = RunStore(store.engine)
    adapter = None if args.adapter == "none" else args.adapter
    engine = None if args.replay else default_engine()
    per_flow: list[float] = []
    per_node: dict[str, list[float]] = {}
    rows: list[dict[str, Any]] = []
    for case in cases:
        gold = Flow.model_validate(case["flow"]) if case["flow"] else None
        replay = ReplayEngine(gold) if args.replay else None
        gen = FlowGenerator(
            case["installation"],
            store=store,
            engine=replay or engine,
            adapter=adapter,
            checkpoints=False,
            max_rounds=args.max_rounds,
            examples=args.examples,
        )
        start = time.perf_counter()
        result = gen.generate(case["requirement"])
        seconds = time.perf_counter() - start
        per_flow.append(seconds)
        for event in runs.get(result.run_id).events:
            if event.kind == "node":
                kind = (event.node or event.name).split(":")[0]
                per_node.setdefault(kind, []).append(event.duration_ms / 1000)
            elif event.kind == "validation":
                per_node.setdefault("validate", []).append(event.duration_ms / 1000)
        score = score_case(
            case["id"], result.flow, case["flow"], store.catalog(case["installation"])
        )
        row = {
            "id": case["id"],
            "status": result.status,
            "seconds": round(seconds, 2),
            "model_calls": result.model_calls,
            "tokens_in": result.tokens_in,
            "tokens_out": result.tokens_out,
            "rounds": result.validator_rounds,
            "flowsim_outline": round(score.flowsim_outline, 4),
            "flowsim_full": round(score.flowsim_full, 4),
            "structure_error": score.structure_error,
            "catalog_error": score.catalog_error,
            "gold_refusal": case["flow"] is None,
            "rejected_gold_answers": len(replay.rejections) if replay else None,
        }
        rows.append(row)
        print(json.dumps(row), flush=True)

    def mean(key: str) -> float:
        return round(statistics.fmean(r[key] for r in rows), 4) if rows else float("nan")

    refusals = [r for r in rows if r["gold_refusal"]]
    summary = {
        "cases": len(rows),
        "engine": "replay" if args.replay else (engine.model_name if engine else None),
        "adapter": None if args.replay else adapter,
        "examples": args.examples,
        "flow_p50_s": round(percentile(per_flow, 0.5), 2),
        "flow_p90_s": round(percentile(per_flow, 0.9), 2),
        "node_p50_s": {k: round(percentile(v, 0.5), 3) for k, v in sorted(per_node.items())},
        "node_p90_s": {k: round(percentile(v, 0.9), 3) for k, v in sorted(per_node.items())},
        "model_calls_mean": mean("model_calls"),
        "tokens_in_mean": mean("tokens_in"),
        "tokens_out_mean": mean("tokens_out"),
        "flowsim_outline": mean("flowsim_outline"),
        "flowsim_full": mean("flowsim_full"),
        "structure_error_rate": mean("structure_error"),
        "catalog_error_rate": mean("catalog_error"),
        "harmful_refused": sum(r["status"] == "refused" for r in refusals),
        "harmful_cases": len(refusals),
        "false_refusals": sum(r["status"] == "refused" for r in rows if not r["gold_refusal"]),
    }
    print(json.dumps({"summary": summary}))


if __name__ == "__main__":
    main()
