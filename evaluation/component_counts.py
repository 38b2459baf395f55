"""Whole flows or one step: predicted / gold component counts, overall and per length.

A generator that writes one step where fourteen are asked scores a fair FlowSim on short
requirements and fails on long ones; the ratio of component counts shows it directly.
Run on earlier result folders too (their records lack the counts; the gold comes from
the case file):

    python -m flowgen.evaluation.component_counts results/v2-test --cases data/handwritten.jsonl
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

LONG = 6  # components (steps and flow logic, not the trigger) that make a flow long
BUCKETS = ((1, 2), (3, 5), (6, 9), (10, 99))


def components(flow: dict[str, Any] | None) -> int:
    return len(flow.get("components") or []) if flow else 0


def count_figures(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Over cases whose gold answer is a flow: sum of predicted over sum of gold
    components (a refused or failed case counts 0 predicted), overall, on long flows and
    per gold-length bucket."""
    flows = [r for r in records if r.get("gold_components")]

    def ratio(rows: list[dict[str, Any]]) -> float | None:
        gold = sum(r["gold_components"] for r in rows)
        return round(sum(components(r.get("flow")) for r in rows) / gold, 3) if gold else None

    out: dict[str, Any] = {
        "component_ratio": ratio(flows),
        "component_ratio_long": ratio([r for r in flows if r["gold_components"] >= LONG]),
        "long_cases": sum(1 for r in flows if r["gold_components"] >= LONG),
    }
    for low, high in BUCKETS:
        rows = [r for r in flows if low <= r["gold_components"] <= high]
        out[f"component_ratio_{low}-{high if high < 99 else ''}"] = ratio(rows)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="result folders of `flowgen eval run`")
    parser.add_argument(
        "--cases",
        type=Path,
        default=Path("data/handwritten.jsonl"),
        help="gold cases (default: the repository's, from its root)",
    )
    args = parser.parse_args()
    if not args.cases.is_file():
        parser.error(f"{args.cases}: no such case file in {Path.cwd()}; give --cases FILE")
    gold = {
        c["id"]: components(c.get("flow"))
        for c in map(json.loads, args.cases.read_text().splitlines())
    }
    for run in args.runs:
        records = [json.loads(line) for line in (run / "cases.jsonl").read_text().splitlines()]
        for r in records:
            r.setdefault("gold_components", gold.get(r["id"], 0))
        print(run, json.dumps(count_figures(records)))


if __name__ == "__main__":
    main()
