"""Replays a rule that was tried and not shipped: drop the AND-ed terms of a record
trigger's condition that no word of the requirement supports (a term's evidence: the
words of its field path and their column labels, its value and the value's choice
label). The small model copies terms from the trigger's example (`^channel=chat` on
"case closed"); the rule would drop them. No model runs; FlowSim full is scored before
and after against gold, as `trigger_grounding_replay.py` does.

    python benchmarks/unsaid_terms_replay.py results/inex-dev100 results/inex-voices
    python benchmarks/unsaid_terms_replay.py --gold   # gold conditions it would change
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from trigger_grounding_replay import summary  # this folder: run as a script

from flowgen.flow.catalog import Catalog, load_catalog
from flowgen.flow.encoded_query import Term, join_parts, parse_query
from flowgen.graph.choice_grounding import label_stems, stems
from flowgen.metrics.flowsim import flowsim

GOLD = Path("data/handwritten.jsonl")
CATALOGS = Path("catalogs")
RECORD_TRIGGERS = {"record_create", "record_update", "record_create_or_update"}
NO_EVIDENCE = set(stems("a an the is are be of to in on for and or with by it its true false"))


def evidence(term: Term, table: str, catalog: Catalog) -> set[str]:
    """The words that would say `term`: its field path's names and labels, its value and
    the label of that value's choice."""
    words: set[str] = set()
    current: str | None = table
    path = term.field.split(".")
    for segment in path:
        words |= set(stems(segment.replace("_", " ")))
        column = catalog.column(current, segment) if current else None
        if column is None:
            current = None
            continue
        words |= set(stems(column.label or ""))
        if segment == path[-1] and column.choices:
            for value in term.value.split(","):
                words |= {w for c in column.choices if c.value == value for w in label_stems(c)}
        current = column.reference
    words |= set(stems(term.value.replace("_", " ")))
    return words - NO_EVIDENCE


def without_unsaid_terms(
    condition: str, table: str, requirement: str, catalog: Catalog
) -> tuple[str, list[str]]:
    """`condition` without the AND-ed terms after the first that nothing in
    `requirement` says, and the terms dropped."""
    terms = parse_query(condition)
    if len(terms) < 2 or any(t.connector != "AND" for t in terms):
        return condition, []
    said = set(stems(requirement))
    kept: list[tuple[str, str]] = []
    dropped: list[str] = []
    for index, term in enumerate(terms):
        words = set() if index == 0 or "{{" in term.raw else evidence(term, table, catalog)
        if words and not words & said:
            dropped.append(term.raw)
        else:
            kept.append((term.connector, term.raw))
    return (join_parts(kept) if dropped else condition), dropped


def replayed(flow: dict[str, Any], requirement: str, catalog: Catalog) -> tuple[dict | None, list]:
    trigger = flow.get("trigger") or {}
    values = {i["name"]: i["value"] for i in trigger.get("inputs", [])}
    if trigger.get("type") not in RECORD_TRIGGERS or not {"table", "condition"} <= values.keys():
        return None, []
    condition, dropped = without_unsaid_terms(
        values["condition"], values["table"], requirement, catalog
    )
    if not dropped:
        return None, []
    inputs = [
        {**i, "value": condition} if i["name"] == "condition" else i for i in trigger["inputs"]
    ]
    return {**flow, "trigger": {**trigger, "inputs": inputs}}, dropped


def main(folders: list[str]) -> None:
    gold = {c["id"]: c for c in map(json.loads, GOLD.read_text().splitlines()) if c}
    catalogs: dict[str, Catalog] = {}
    for folder in folders:
        diffs: list[float] = []
        changed = 0
        for row in map(json.loads, (Path(folder) / "cases.jsonl").read_text().splitlines()):
            flow, case = row.get("flow"), gold.get(row["id"])
            name = row["installation"]
            catalog = catalogs.setdefault(name, load_catalog(CATALOGS / f"{name}.yaml"))
            new, dropped = (None, []) if not flow else replayed(flow, row["requirement"], catalog)
            if new is None or not case or not case.get("flow"):
                diffs.append(0.0)
                continue
            delta = flowsim(new, case["flow"], "full") - flowsim(flow, case["flow"], "full")
            diffs.append(delta)
            changed += 1
            print(f"  {row['id']:22s} dropped {dropped}  {delta:+.3f}")
        print(summary(folder, diffs, f"{changed} of {len(diffs)} conditions changed"))


def gold_changes() -> None:
    catalogs: dict[str, Catalog] = {}
    changed = seen = 0
    for path in (GOLD, Path("data/synthetic.jsonl")):
        for case in map(json.loads, path.read_text().splitlines()):
            if not case.get("flow"):
                continue
            name = case["installation"]
            catalog = catalogs.setdefault(name, load_catalog(CATALOGS / f"{name}.yaml"))
            seen += 1
            new, dropped = replayed(case["flow"], case["requirement"], catalog)
            if new is not None:
                changed += 1
                print(f"  {case['id']:22s} dropped {dropped}")
    print(f"gold: {changed} of {seen} flows' trigger conditions changed")


if __name__ == "__main__":
    if sys.argv[1:] == ["--gold"]:
        gold_changes()
    else:
        main(sys.argv[1:])
