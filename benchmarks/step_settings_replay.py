"""Replays a grounding rule of steps' inputs over an eval's stored flows, or over the gold
flows with `--gold` (the rule should leave them alone), and scores FlowSim full before and
after against gold. No model runs. `RULE` picks the rule:

- `settings` (the default): the named-settings rule (graph/flow_graph.py,
  `NAMED_STEP_INPUTS`; graph/choice_grounding.py, `add_step_settings`): each listed
  step's query gets the settings its span names;
- `fields`: an update's term on a column its span never names moved to the one it names
  (`GROUNDED_STEP_FIELDS`, `ground_step_fields`);
- `polarity`: an IF's lone boolean test set to its span's polarity (graph/if_polarity.py).

    python benchmarks/step_settings_replay.py results/grounded-dev100
    python benchmarks/step_settings_replay.py --gold
    RULE=fields python benchmarks/step_settings_replay.py results/s28-verbs-dev100
    STEPS=update_record:values python benchmarks/step_settings_replay.py FOLDER  # try others
"""

from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path
from typing import Any

from trigger_grounding_replay import summary  # this folder: run as a script

from flowgen.flow.catalog import Catalog, Param, load_catalog
from flowgen.flow.model import FlowInput
from flowgen.graph.choice_grounding import add_step_settings, ground_step_fields
from flowgen.graph.flow_graph import GROUNDED_STEP_FIELDS, NAMED_STEP_INPUTS
from flowgen.graph.if_polarity import CONDITION_LOGIC, settle_if_polarity
from flowgen.metrics.flowsim import flowsim

GOLD = Path("data/handwritten.jsonl")
CATALOGS = Path("catalogs")


RULE = os.environ.get("RULE", "settings")
SHIPPED_STEPS = {
    "settings": NAMED_STEP_INPUTS,
    "fields": GROUNDED_STEP_FIELDS,
    "polarity": dict.fromkeys(CONDITION_LOGIC, "condition"),
}


def steps_to_ground() -> dict[str, str]:
    given = os.environ.get("STEPS")
    if not given:
        return dict(SHIPPED_STEPS[RULE])
    return dict(pair.split(":") for pair in given.split(","))


def ground(
    given: list[FlowInput], name: str, params: list[Param], annotation: str, catalog: Catalog
) -> tuple[list[FlowInput], list[str]]:
    """The step's inputs as the inputs node grounds them with `RULE`, and the changes."""
    if RULE == "polarity":
        return settle_if_polarity(given, annotation)
    rule = ground_step_fields if RULE == "fields" else add_step_settings
    return rule(given, name, params, annotation, catalog, catalog.columns)


def grounded_steps(
    flow: dict[str, Any], catalog: Catalog, steps: dict[str, str]
) -> tuple[dict[str, Any], list[str]]:
    """The flow with each listed step's query grounded as the inputs node grounds it, and
    the changes as text."""
    grounded = copy.deepcopy(flow)
    changes = []
    for comp in grounded.get("components", []):
        name = steps.get(comp.get("definition", ""))
        step = catalog.step(comp["definition"]) if name else None
        logic = comp.get("category") == "flowlogic"
        if name is None or (step is None and not logic) or not comp.get("annotation"):
            continue
        given = [FlowInput(**i) for i in comp.get("inputs", [])]
        params = list(step.inputs) if step else []
        inputs, changed = ground(given, name, params, comp["annotation"], catalog)
        comp["inputs"] = [i.model_dump() for i in inputs]
        changes += [
            f"#{comp['order']} {comp['definition']} '{comp['annotation']}': {c}" for c in changed
        ]
    return grounded, changes


def replay(rows: list[dict[str, Any]], gold: dict[str, dict[str, Any]], label: str) -> None:
    catalogs: dict[str, Catalog] = {}
    steps = steps_to_ground()
    diffs: list[float] = []
    for row in rows:
        flow, case = row.get("flow"), gold.get(row["id"])
        if not flow or not case or not case.get("flow"):
            diffs.append(0.0)
            continue
        name = row["installation"]
        catalog = catalogs.setdefault(name, load_catalog(CATALOGS / f"{name}.yaml"))
        grounded, changes = grounded_steps(flow, catalog, steps)
        if not changes:
            diffs.append(0.0)
            continue
        delta = flowsim(grounded, case["flow"], "full") - flowsim(flow, case["flow"], "full")
        diffs.append(delta)
        for change in changes:
            print(f"  {row['id']:22s} {delta:+.3f} {change}")
    print(summary(label, diffs, f"{sum(d != 0 for d in diffs)} of {len(rows)} flows changed"))


def main(args: list[str]) -> None:
    gold = {c["id"]: c for c in map(json.loads, GOLD.read_text().splitlines()) if c}
    if args == ["--gold"]:
        rows = [c for c in gold.values() if c.get("flow")]
        replay(rows, gold, "gold flows")
        return
    for folder in args:
        lines = (Path(folder) / "cases.jsonl").read_text().splitlines()
        replay([json.loads(line) for line in lines], gold, folder)


if __name__ == "__main__":
    main(sys.argv[1:])
