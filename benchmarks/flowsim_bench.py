"""FlowSim throughput: score pairs of realistic flows and print pairs/s.

    python benchmarks/flowsim_bench.py [--pairs 1000] [--min-steps 10] [--max-steps 20]

Each pair is a generated gold flow (IF/FOREACH blocks, look-ups with encoded queries,
updates with data pills and work notes) and a perturbed copy standing in for a model's
prediction (steps dropped, swapped or renamed; values changed). Prints one JSON line per
measurement: node counts, seconds, pairs/s, serial and over all cores; then single pairs
of growing size to find where the pure-Python tree edit distance becomes the bottleneck.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import random
import sys
import time
from pathlib import Path
from typing import Any

from flowgen.flow.catalog import load_catalog
from flowgen.metrics.flowsim import flow_to_tree, size, zss_distance
from flowgen.metrics.scoring import Pair, score_pairs

REPO = Path(__file__).resolve().parent.parent
TABLES = ["incident", "problem", "change_request", "sc_req_item", "sc_task"]
FIELDS = {
    "priority": ["1", "2", "3"],
    "active": ["true", "false"],
    "impact": ["1", "2"],
    "urgency": ["1", "2", "3"],
    "approval": ["requested", "approved"],
}


def condition(rng: random.Random) -> str:
    terms = rng.sample(sorted(FIELDS), rng.randint(1, 3))
    return "^".join(f"{f}{rng.choice(['=', '!=', '<='])}{rng.choice(FIELDS[f])}" for f in terms)


def make_flow(rng: random.Random, n_steps: int) -> dict[str, Any]:
    table = rng.choice(TABLES)
    comps: list[dict[str, Any]] = []
    open_blocks: list[int] = []
    records: list[int] = []

    def add(definition: str, category: str, inputs: dict[str, str]) -> int:
        order = len(comps) + 1
        comp = {
            "order": order,
            "category": category,
            "definition": definition,
            "scope": "global",
            "annotation": f"step {order}",
            "inputs": [{"name": k, "value": v} for k, v in inputs.items()],
        }
        if open_blocks:
            comp["block"] = open_blocks[-1]
        comps.append(comp)
        return order

    while len(comps) < n_steps:
        roll = rng.random()
        if roll < 0.15 and len(comps) < n_steps - 2:
            order = add("look_up_records", "action", {"table": table, "conditions": condition(rng)})
            open_blocks.append(add("FOREACH", "flowlogic", {"items": f"{{{{{order}.records}}}}"}))
        elif roll < 0.25 and len(comps) < n_steps - 1:
            open_blocks.append(
                add(
                    "IF",
                    "flowlogic",
                    {"condition": f"{{{{trigger.current.priority}}}}<={rng.randint(1, 3)}"},
                )
            )
        elif roll < 0.55:
            order = add("look_up_record", "action", {"table": table, "conditions": condition(rng)})
            records.append(order)
        elif roll < 0.8:
            record = f"{{{{{rng.choice(records)}.record}}}}" if records else "{{trigger.current}}"
            add(
                "update_record",
                "action",
                {
                    "table_name": table,
                    "record": record,
                    "values": f"{condition(rng)}^work_notes=See {{{{trigger.current.number}}}}",
                },
            )
        else:
            add(
                "send_email",
                "action",
                {
                    "ah_to": "{{trigger.current.assigned_to.email}}",
                    "ah_subject": f"Update {rng.randint(1, 999)}",
                    "ah_body": "See {{trigger.current.number}}",
                },
            )
        if open_blocks and rng.random() < 0.3:
            open_blocks.pop()
    return {
        "name": "bench",
        "trigger": {
            "type": "record_update",
            "inputs": [
                {"name": "table", "value": table},
                {"name": "condition", "value": condition(rng)},
            ],
        },
        "components": comps,
    }


def perturb(rng: random.Random, gold: dict[str, Any]) -> dict[str, Any]:
    pred = copy.deepcopy(gold)
    for comp in pred["components"]:
        roll = rng.random()
        if roll < 0.1 and comp["category"] == "action":
            comp["definition"] = rng.choice(["create_record", "look_up_records", "log"])
        elif roll < 0.3:
            for inp in comp["inputs"]:
                if rng.random() < 0.5:
                    inp["value"] = inp["value"].replace("=", "!=", 1)
    return pred


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", type=int, default=1000)
    parser.add_argument("--min-steps", type=int, default=10)
    parser.add_argument("--max-steps", type=int, default=20)
    parser.add_argument("--sizes", default="20,50,100,200", help="single-pair sizes to time")
    parser.add_argument("--zss-pairs", type=int, default=10, help="pairs timed with plain zss")
    args = parser.parse_args()
    rng = random.Random(7)
    catalog = load_catalog(REPO / "catalogs" / "acme-itsm.yaml")
    golds = [make_flow(rng, rng.randint(args.min_steps, args.max_steps)) for _ in range(args.pairs)]
    pairs = [Pair(str(i), "acme-itsm", perturb(rng, g), g) for i, g in enumerate(golds)]
    nodes = [size(flow_to_tree(g, "full")) for g in golds]
    common = {
        "pairs": args.pairs,
        "steps": f"{args.min_steps}-{args.max_steps}",
        "mean_nodes_full": round(sum(nodes) / len(nodes), 1),
        "max_nodes_full": max(nodes),
    }
    for workers in (1, os.cpu_count() or 1):
        for with_catalog in (False, True):
            start = time.perf_counter()
            catalogs = {"acme-itsm": catalog} if with_catalog else None
            score_pairs(pairs, catalogs, workers=workers)
            seconds = time.perf_counter() - start
            print(
                json.dumps(
                    {
                        **common,
                        "workers": workers,
                        "catalog": with_catalog,
                        "seconds": round(seconds, 2),
                        "pairs_per_s": round(args.pairs / seconds, 1),
                    }
                )
            )
            sys.stdout.flush()
    start = time.perf_counter()
    for pair in pairs[: args.zss_pairs]:
        a = flow_to_tree(pair.pred, "full")
        b = flow_to_tree(pair.gold, "full")
        zss_distance(a, b)
    seconds = time.perf_counter() - start
    print(
        json.dumps(
            {
                "reference": "zss",
                "pairs": args.zss_pairs,
                "workers": 1,
                "seconds": round(seconds, 2),
                "pairs_per_s": round(args.zss_pairs / seconds, 2),
            }
        )
    )
    for n in map(int, args.sizes.split(",")):
        gold = make_flow(rng, n)
        pair = [Pair("big", None, perturb(rng, gold), gold)]
        start = time.perf_counter()
        score_pairs(pair, workers=1)
        print(
            json.dumps(
                {
                    "steps": n,
                    "nodes_full": size(flow_to_tree(gold, "full")),
                    "seconds_per_pair": round(time.perf_counter() - start, 3),
                }
            )
        )
        sys.stdout.flush()


if __name__ == "__main__":
    main()
