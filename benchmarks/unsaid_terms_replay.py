"""Replays the rule of graph/unnamed_terms.py on stored runs: a record trigger's condition
without the AND-ed terms its span never names. No model runs; FlowSim full is scored
before and after against gold, as `trigger_grounding_replay.py` does. The change
operator is settled afterwards, as the graph does (graph/trigger_condition.py).

    python benchmarks/unsaid_terms_replay.py results/s27-steptable-dev100
    python benchmarks/unsaid_terms_replay.py --requirement results/s27-steptable-dev100
    python benchmarks/unsaid_terms_replay.py --gold   # gold conditions it would change

`--requirement` takes the whole requirement as the words that may name a term, not the
trigger's span: the variant the fifteenth session replayed and did not ship (it also
spared each condition's first term).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from trigger_grounding_replay import summary  # this folder: run as a script

from flowgen.flow.catalog import Catalog, load_catalog
from flowgen.flow.model import FlowInput
from flowgen.graph.trigger_condition import settle_change_operators
from flowgen.graph.unnamed_terms import drop_unnamed_trigger_terms
from flowgen.metrics.flowsim import flowsim

GOLD = Path("data/handwritten.jsonl")
CATALOGS = Path("catalogs")
RECORD_TRIGGERS = {"record_create", "record_update", "record_create_or_update"}


def replayed(
    flow: dict[str, Any], words: str | None, catalog: Catalog
) -> tuple[dict[str, Any] | None, list[str]]:
    """The flow with the rule applied to its trigger's condition (None if unchanged), and
    the terms dropped. `words`: what may name a term; the trigger's span when None."""
    trigger = flow.get("trigger") or {}
    if trigger.get("type") not in RECORD_TRIGGERS:
        return None, []
    given = [FlowInput(name=i["name"], value=i["value"]) for i in trigger.get("inputs", [])]
    span = words if words is not None else trigger.get("annotation") or ""
    kept, dropped = drop_unnamed_trigger_terms(given, span, catalog, catalog.columns)
    if not dropped:
        return None, []
    settled, _ = settle_change_operators(trigger["type"], kept)
    inputs_json = [i.model_dump() for i in settled]
    return {**flow, "trigger": {**trigger, "inputs": inputs_json}}, dropped


def main(folders: list[str], whole_requirement: bool) -> None:
    gold = {c["id"]: c for c in map(json.loads, GOLD.read_text().splitlines()) if c}
    catalogs: dict[str, Catalog] = {}
    for folder in folders:
        diffs: list[float] = []
        changed = 0
        for row in map(json.loads, (Path(folder) / "cases.jsonl").read_text().splitlines()):
            flow, case = row.get("flow"), gold.get(row["id"])
            name = row["installation"]
            catalog = catalogs.setdefault(name, load_catalog(CATALOGS / f"{name}.yaml"))
            words = row["requirement"] if whole_requirement else None
            new, dropped = (None, []) if not flow else replayed(flow, words, catalog)
            if not case or not case.get("flow"):
                continue  # a refusal case: no flow to score
            if new is None:
                diffs.append(0.0)
                continue
            delta = flowsim(new, case["flow"], "full") - flowsim(flow, case["flow"], "full")
            diffs.append(delta)
            changed += 1
            print(f"  {row['id']:22s} dropped {dropped}  {delta:+.3f}")
        print(summary(folder, diffs, f"{changed} of {len(diffs)} conditions changed"))


def gold_changes() -> None:
    catalogs: dict[str, Catalog] = {}
    for path in (GOLD, Path("data/synthetic.jsonl")):
        changed = seen = 0
        for case in map(json.loads, path.read_text().splitlines()):
            if not case.get("flow") or case.get("split") not in ("train", "dev"):
                continue
            name = case["installation"]
            catalog = catalogs.setdefault(name, load_catalog(CATALOGS / f"{name}.yaml"))
            trigger = case["flow"].get("trigger") or {}
            if not any(i["name"] == "condition" and i["value"] for i in trigger.get("inputs", [])):
                continue
            seen += 1
            new, dropped = replayed(case["flow"], None, catalog)
            if new is not None:
                changed += 1
                print(f"  {case['id']:22s} dropped {dropped}")
        print(f"{path}: {changed} of {seen} train and dev trigger conditions changed")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args == ["--gold"]:
        gold_changes()
    else:
        requirement = "--requirement" in args
        main([a for a in args if a != "--requirement"], requirement)
