"""Replays the trigger-field grounding (graph/choice_grounding.py,
`ground_trigger_condition`: `ground_fields`, then `add_named_terms`) over an
eval's stored flows, or the gold flows themselves with `--gold` (a rule must leave them
alone): each record trigger's condition is grounded as the inputs node grounds it, and
FlowSim full is scored before and after against gold. No model runs, so a rule can be
judged on dev in seconds before a live run confirms it.

    python benchmarks/trigger_grounding_replay.py results/amd-v11-dev100-today
    python benchmarks/trigger_grounding_replay.py --gold   # gold conditions changed, by split
"""

from __future__ import annotations

import json
import statistics
import sys
from collections import Counter
from pathlib import Path

from flowgen.flow.catalog import Catalog, load_catalog
from flowgen.flow.model import FlowInput
from flowgen.graph.choice_grounding import ground_trigger_condition
from flowgen.graph.trigger_condition import settle_change_operators
from flowgen.metrics.flowsim import flowsim

GOLD = Path("data/handwritten.jsonl")
CATALOGS = Path("catalogs")


def grounded_trigger(flow: dict, catalog: Catalog) -> dict | None:
    """The flow's trigger with its condition grounded as the inputs node grounds it, or
    None when nothing changes."""
    trigger = flow.get("trigger") or {}
    declared = catalog.trigger(trigger.get("type", ""))
    if declared is None or not trigger.get("annotation"):
        return None
    given = [FlowInput(**i) for i in trigger.get("inputs", [])]
    grounded, changes = ground_trigger_condition(
        given, trigger["type"], declared.inputs, trigger["annotation"], catalog, catalog.columns
    )
    if not changes:
        return None
    settled, _ = settle_change_operators(trigger["type"], grounded)
    return {**trigger, "inputs": [i.model_dump() for i in settled]}


def _condition(trigger: dict | None) -> str | None:
    inputs = {i["name"]: i["value"] for i in (trigger or {}).get("inputs", [])}
    return inputs.get("condition")


def main(folders: list[str]) -> None:
    gold = {c["id"]: c for c in map(json.loads, GOLD.read_text().splitlines()) if c}
    catalogs: dict[str, Catalog] = {}
    for folder in folders:
        rows = [
            json.loads(line) for line in (Path(folder) / "cases.jsonl").read_text().splitlines()
        ]
        diffs: list[float] = []
        changed = []
        for row in rows:
            flow, case = row.get("flow"), gold.get(row["id"])
            if not flow or not case or not case.get("flow"):
                diffs.append(0.0)
                continue
            name = row["installation"]
            catalog = catalogs.setdefault(name, load_catalog(CATALOGS / f"{name}.yaml"))
            trigger = grounded_trigger(flow, catalog)
            if trigger is None:
                diffs.append(0.0)
                continue
            before = flowsim(flow, case["flow"], "full")
            after = flowsim({**flow, "trigger": trigger}, case["flow"], "full")
            diffs.append(after - before)
            old, new = _condition(flow["trigger"]), _condition(trigger)
            changed.append(
                (row["id"], old, new, _condition(case["flow"]["trigger"]), after - before)
            )
        for case_id, old, new, want, delta in changed:
            print(f"  {case_id:22s} {old} -> {new}   (gold {want})  {delta:+.3f}")
        print(summary(folder, diffs, f"{len(changed)} of {len(rows)} conditions changed"))


def summary(label: str, diffs: list[float], changed: str) -> str:
    """One line for a replay: what changed, the mean FlowSim full difference a case with
    its standard error, and how many cases came closer to gold or went further."""
    se = statistics.stdev(diffs) / len(diffs) ** 0.5 if len(diffs) > 1 else 0.0
    return (
        f"{label}: {changed}; FlowSim full {statistics.mean(diffs):+.4f} ± {se:.4f} a case;"
        f" {sum(d > 0 for d in diffs)} closer, {sum(d < 0 for d in diffs)} further"
    )


def gold_changes() -> None:
    """How many gold trigger conditions the rules would change, by corpus and split."""
    catalogs: dict[str, Catalog] = {}
    changed: Counter[str] = Counter()
    seen: Counter[str] = Counter()
    for path in (GOLD, Path("data/synthetic.jsonl")):
        for case in map(json.loads, path.read_text().splitlines()):
            flow = case.get("flow")
            if not flow or not flow.get("trigger"):
                continue
            name = case["installation"]
            catalog = catalogs.setdefault(name, load_catalog(CATALOGS / f"{name}.yaml"))
            where = f"{path.stem} {case['split']}"
            seen[where] += 1
            trigger = grounded_trigger(flow, catalog)
            if trigger is not None:
                changed[where] += 1
                print(f"  {case['id']:22s} {_condition(flow['trigger'])} -> {_condition(trigger)}")
    for where in sorted(seen):
        print(f"{where}: {changed[where]} of {seen[where]} gold conditions changed")


if __name__ == "__main__":
    if sys.argv[1:] == ["--gold"]:
        gold_changes()
    else:
        main(sys.argv[1:])
