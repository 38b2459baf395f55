"""Catalog store at scale: sync and search a generated large installation, then the tool
time of whole flows.

    python benchmarks/catalog_store_bench.py [--reuse] [--steps 2000 --tables 2000 \
        --columns-per-table 25 --choice-columns-per-table 5 --choices-per-column 10] \
        [--queries 200] [--flows-split dev --flows-limit N | --no-flows | --flows-only]
        [--sync-only]

Defaults give 2,000 steps, 2,000 tables, 50,000 columns and 100,000 choice values. Prints
one JSON line per measurement: the embedding model's own encode throughput on the same
texts (the ceiling), the first sync (seconds, embeddings/s), a re-sync of the unchanged
file (seconds, share of the first), p50/p99 latency of every retrieval tool (each search
with a query never embedded before: the query cache is emptied before every call), and
the tool time of each flow of the dev split (the real graph, answered with the gold
lines by the replay engine, so its tool calls are those of a generation; each flow
starts with an empty query cache), with a summary line of p50/p90/max seconds per flow
and per-tool p50/p99 inside flows. `--reuse` keeps an installation synced by an earlier
run (no ceiling, no first sync: building it takes 10-20 minutes of embedding).
Uses FLOWGEN_DATA_DIR (or DATABASE_URL) like the CLI; a fresh data dir gives a clean run.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from flowgen.db.connection import get_engine
from flowgen.db.embedder import default_embedder
from flowgen.db.store import CatalogStore
from flowgen.db.sync import catalog_items, sync_file
from flowgen.flow.catalog import load_catalog
from flowgen.tools.catalog_tools import CatalogTools

REPO = Path(__file__).resolve().parent.parent

NOUNS = [
    "asset",
    "contract",
    "invoice",
    "vendor",
    "shipment",
    "order",
    "ticket",
    "request",
    "approval",
    "laptop",
    "server",
    "license",
    "incident",
    "change",
    "problem",
    "release",
    "sprint",
    "backlog",
    "project",
    "budget",
    "expense",
    "claim",
    "badge",
    "visitor",
    "room",
    "desk",
    "parking",
    "locker",
    "policy",
    "risk",
    "control",
    "audit",
    "finding",
    "exception",
    "patch",
    "vulnerability",
    "certificate",
    "domain",
    "account",
    "mailbox",
    "device",
    "printer",
    "phone",
    "site",
]
VERBS = [
    "create",
    "update",
    "close",
    "approve",
    "assign",
    "notify",
    "sync",
    "export",
    "import",
    "archive",
    "escalate",
]
SPOKES = [f"sn_{n}_spoke" for n in NOUNS[:40]]


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def generate(args: argparse.Namespace, rng: random.Random) -> dict:
    tables = []
    for t in range(args.tables):
        a, b = rng.sample(NOUNS, 2)
        name = f"u_{a}_{b}_{t}"
        columns = []
        for c in range(args.columns_per_table):
            noun = rng.choice(NOUNS)
            col = {"name": f"u_{noun}_{c}", "label": f"{noun.title()} {c}", "type": "string"}
            if c < args.choice_columns_per_table:
                col["type"] = "choice"
                col["choices"] = [
                    {"value": str(v), "label": f"{rng.choice(NOUNS).title()} {v}"}
                    for v in range(args.choices_per_column)
                ]
            elif c % 7 == 0 and t > 0:
                col.update(type="reference", reference=tables[rng.randrange(len(tables))]["name"])
            columns.append(col)
        tables.append(
            {
                "name": name,
                "label": f"{a.title()} {b.title()} {t}",
                "description": f"Tracks {a}s and their {b}s",
                "columns": columns,
            }
        )
    steps = []
    for s in range(args.steps):
        verb, noun = rng.choice(VERBS), rng.choice(NOUNS)
        steps.append(
            {
                "name": f"{verb}_{noun}_{s}",
                "scope": rng.choice(SPOKES),
                "label": f"{verb.title()} {noun.title()} {s}",
                "description": f"{verb.title()} a {noun} in the external system",
                "inputs": [
                    {"name": f"{noun}_id", "type": "string", "required": True},
                    {"name": "notes", "type": "string"},
                ],
                "outputs": [{"name": "status", "type": "string"}],
            }
        )
    triggers = [{"name": "record_create", "inputs": [{"name": "table", "type": "table"}]}]
    return {"installation": "bench-large", "triggers": triggers, "steps": steps, "tables": tables}


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure_sync(
    path: Path, texts: list[str], rng: random.Random, args: argparse.Namespace, engine: Engine
) -> None:
    embedder = default_embedder()
    sample = rng.sample(texts, min(args.ceiling_sample, len(texts)))
    start = time.perf_counter()
    embedder.encode(sample)
    ceiling = len(sample) / (time.perf_counter() - start)
    emit({"what": "encode_ceiling", "texts": len(sample), "texts_per_s": round(ceiling, 1)})

    first = sync_file(path, engine, embedder=embedder)
    emit(
        {
            "what": "first_sync",
            "seconds": round(first.seconds, 1),
            "embed_seconds": round(first.embed_seconds, 1),
            "embedded": first.embedded,
            "embeddings_per_s": round(first.embedded / first.seconds, 1),
            "of_ceiling": round(first.embedded / first.seconds / ceiling, 3),
        }
    )

    start = time.perf_counter()
    again = sync_file(path, engine, embedder=embedder)  # includes reading and checking the file
    seconds = time.perf_counter() - start
    emit(
        {
            "what": "resync_unchanged",
            "seconds": round(seconds, 2),
            "embedded": again.embedded,
            "unchanged": again.total("unchanged"),
            "share_of_first": round(seconds / first.seconds, 4),
        }
    )


def measure_searches(tools: CatalogTools, catalog: Any, args: argparse.Namespace) -> None:
    """p50/p99 of each tool, every search embedding a query it has never seen."""
    rng = random.Random(12)  # the same queries whether or not the sync ran
    table_names = [t.name for t in catalog.tables]
    choice_cols = [(t.name, c.name) for t in catalog.tables for c in t.columns if c.choices]

    def noun() -> str:
        return rng.choice(NOUNS)

    calls = {
        "search_steps": lambda: tools.search_steps(f"{rng.choice(VERBS)} the {noun()}", 10),
        "search_triggers": lambda: tools.search_triggers("when a record is created", 5),
        "search_tables": lambda: tools.search_tables(f"{noun()}s and their {noun()}s", 5),
        "search_columns": lambda: tools.search_columns(rng.choice(table_names), noun(), 10),
        "search_values": lambda: tools.search_values(*rng.choice(choice_cols), noun(), 10),
        "get_step": lambda: tools.get_step(rng.choice(catalog.steps).name),
        "get_table": lambda: tools.get_table(rng.choice(table_names)),
    }
    embedder = tools.store.embedder
    for name, call in calls.items():
        call()  # warm-up
        latencies = []
        for _ in range(args.queries):
            embedder.clear_query_cache()  # a repeated query would only measure the cache
            start = time.perf_counter()
            call()
            latencies.append((time.perf_counter() - start) * 1000)
        emit(
            {
                "what": "search",
                "tool": name,
                "queries": args.queries,
                "p50_ms": round(statistics.median(latencies), 1),
                "p99_ms": round(percentile(latencies, 0.99), 1),
            }
        )


def measure_flows(store: CatalogStore, args: argparse.Namespace) -> None:
    """Tool time per flow: the graph on each case, its tool spans summed from the trace."""
    from flowgen.db.runs import RunStore
    from flowgen.flow.model import Flow
    from flowgen.graph.generator import FlowGenerator
    from flowgen.training.replay import ReplayEngine

    cases = [json.loads(line) for line in args.flows_cases.read_text().splitlines() if line]
    cases = [c for c in cases if c.get("split") == args.flows_split][: args.flows_limit]
    for installation in sorted({c["installation"] for c in cases}):
        sync_file(REPO / "catalogs" / f"{installation}.yaml", store.engine)
    runs = RunStore(store.engine)
    per_flow: list[float] = []
    per_tool: dict[str, list[float]] = {}
    calls: list[int] = []
    for case in cases:
        gold = Flow.model_validate(case["flow"]) if case["flow"] else None
        gen = FlowGenerator(
            case["installation"],
            store=store,
            engine=ReplayEngine(gold),
            checkpoints=False,
            guard=None,  # the guard embeds the requirement itself; it is no tool
        )
        store.embedder.clear_query_cache()  # each flow pays for its own embeddings
        result = gen.generate(case["requirement"])
        tools = [e for e in runs.get(result.run_id).events if e.kind == "tool"]
        for event in tools:
            per_tool.setdefault(event.name, []).append(event.duration_ms)
        seconds = sum(e.duration_ms for e in tools) / 1000
        per_flow.append(seconds)
        calls.append(len(tools))
        emit(
            {
                "what": "flow",
                "id": case["id"],
                "tool_calls": len(tools),
                "tool_s": round(seconds, 3),
            }
        )
    if not per_flow:
        return
    emit(
        {
            "what": "flows",
            "split": args.flows_split,
            "flows": len(per_flow),
            "tool_calls_mean": round(statistics.fmean(calls), 1),
            "tool_s_p50": round(statistics.median(per_flow), 3),
            "tool_s_p90": round(percentile(per_flow, 0.9), 3),
            "tool_s_max": round(max(per_flow), 3),
            "per_tool_ms": {
                name: {
                    "calls": len(ms),
                    "p50": round(statistics.median(ms), 1),
                    "p99": round(percentile(ms, 0.99), 1),
                }
                for name, ms in sorted(per_tool.items())
            },
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=2000)
    parser.add_argument("--tables", type=int, default=2000)
    parser.add_argument("--columns-per-table", type=int, default=25)
    parser.add_argument("--choice-columns-per-table", type=int, default=5)
    parser.add_argument("--choices-per-column", type=int, default=10)
    parser.add_argument("--ceiling-sample", type=int, default=20000)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--reuse", action="store_true", help="keep an installation synced before")
    parser.add_argument(
        "--sync-only",
        action="store_true",
        help="sync (with --reuse: bring an earlier installation up to date, e.g. re-embed it "
        "after the embedder changed) and stop, so the searches can be measured on a quiet "
        "machine later",
    )
    parser.add_argument("--flows-cases", type=Path, default=REPO / "data" / "handwritten.jsonl")
    parser.add_argument("--flows-split", default="dev")
    parser.add_argument("--flows-limit", type=int, default=None)
    parser.add_argument("--no-flows", action="store_true")
    parser.add_argument("--flows-only", action="store_true", help="no large installation")
    args = parser.parse_args()
    if args.flows_only:
        embedder = default_embedder()
        measure_flows(CatalogStore(get_engine(), embedder), args)
        return
    rng = random.Random(11)
    path = Path(tempfile.mkdtemp()) / "bench-large.json"
    path.write_text(json.dumps(generate(args, rng)))
    catalog = load_catalog(path)
    items = catalog_items(catalog)
    texts = [i.embed_text for by_key in items.values() for i in by_key.values()]
    emit(
        {
            "what": "catalog",
            "steps": len(catalog.steps),
            "tables": len(catalog.tables),
            "columns": sum(len(t.columns) for t in catalog.tables),
            "choices": sum(len(c.choices or []) for t in catalog.tables for c in t.columns),
            "items": len(texts),
            "file_mb": round(path.stat().st_size / 1e6, 1),
        }
    )

    embedder = default_embedder()
    engine = get_engine()
    store = CatalogStore(engine, embedder)
    if args.reuse and store.exists(catalog.installation):
        sync_file(path, engine, embedder=embedder)  # a no-op when the file is unchanged
    else:
        measure_sync(path, texts, rng, args, engine)
    if args.sync_only:
        return

    measure_searches(CatalogTools(store, catalog.installation), catalog, args)
    if not args.no_flows:
        measure_flows(store, args)
    sys.stdout.flush()


if __name__ == "__main__":
    main()
