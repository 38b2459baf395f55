"""How close the inputs example an inputs turn shows is to the gold inputs, replayed over
the gold flows of the hand-written dev cases without a model (graph/input_examples.py).

For each item of a gold flow that has inputs (trigger and actions; flow logic is left
out), the example is chosen two ways: the first item of the same step in the three
flows the outline call shows (the rule before), and the item of the same step among the
twenty nearest solved flows whose annotation reads most like the gold item's (the rule
now). Each is scored against the gold inputs with FlowSim full on the item alone (an
item with no example scores as if it had no inputs). Needs the store the eval uses
(catalogs and the shared library synced, as in docs/results.md's reproduce lines).

    python benchmarks/input_examples_replay.py                 # dev, by set
    python benchmarks/input_examples_replay.py --split train   # leaves each case out
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections import defaultdict
from pathlib import Path
from typing import Any

from flowgen.db.store import CatalogStore
from flowgen.graph.input_examples import closest_item_inputs
from flowgen.metrics.flowsim import flowsim
from flowgen.prompts.line_format import parse_inputs
from flowgen.tools.catalog_tools import CatalogTools

HANDWRITTEN = Path("data/handwritten.jsonl")


def case_set(case_id: str) -> str:
    return "long" if "-long-" in case_id else "voices" if "-voices-" in case_id else "dev 100"


def items(flow: dict[str, Any]) -> list[tuple[str, bool, str, list[dict[str, str]]]]:
    """(definition, is trigger, annotation, inputs) of each item with inputs."""
    out = []
    trigger = flow.get("trigger") or {}
    if trigger.get("type") and trigger.get("inputs"):
        out.append((trigger["type"], True, trigger.get("annotation") or "", trigger["inputs"]))
    for c in flow["components"]:
        if c.get("inputs") and not c["definition"].isupper():
            out.append((c["definition"], False, c.get("annotation") or "", c["inputs"]))
    return out


def first_in_shown(shown: list[dict[str, Any]], definition: str, trigger: bool) -> str | None:
    """The rule before: the first item of the step in the first shown flow that has one."""
    for example in shown:
        for d, t, _, inputs in items(example["flow"]):
            if d == definition and t == trigger:
                return "".join(f"{i['name']} = {i['value']}\n" for i in inputs)
    return None


def item_similarity(definition: str, trigger: bool, lines: str | None, gold: list) -> float:
    given = [i.model_dump() for i in parse_inputs(lines or "")]
    if trigger:
        return flowsim(
            {"trigger": {"type": definition, "inputs": given}, "components": []},
            {"trigger": {"type": definition, "inputs": gold}, "components": []},
        )

    def one(inputs: list) -> dict[str, Any]:
        comp = {"order": 1, "category": "action", "definition": definition, "scope": "global"}
        return {"trigger": None, "components": [{**comp, "inputs": inputs}]}

    return flowsim(one(given), one(gold))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--split", default="dev")
    args = parser.parse_args()
    store = CatalogStore()
    scores: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for line in HANDWRITTEN.read_text().splitlines():
        case = json.loads(line)
        if case.get("split") != args.split or not case.get("flow"):
            continue
        tools = CatalogTools(store, case["installation"])
        exclude = [case["id"]] if args.split == "train" else []
        found = tools.search_solved_flows(case["requirement"], k=3, exclude=exclude)
        shown, pool = found["examples"], found["item_inputs"]
        for definition, trigger, annotation, gold in items(case["flow"]):
            names = [e["name"] for e in shown]
            rules = {
                "before": first_in_shown(shown, definition, trigger),
                "by annotation": closest_item_inputs(pool, definition, trigger, annotation),
                "now": closest_item_inputs(pool, definition, trigger, annotation, names),
            }
            for name in (case_set(case["id"]), "all"):
                for rule, lines in rules.items():
                    similarity = item_similarity(definition, trigger, lines, gold)
                    scores[name][rule].append(similarity)
                    scores[name][f"{rule} shown"].append(lines is not None)
    print(
        "| set | items | FlowSim of the example: before | by annotation | now "
        "| items with an example: before | now |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, row in scores.items():
        print(
            f"| {name} | {len(row['before'])} | {statistics.mean(row['before']):.3f} | "
            f"{statistics.mean(row['by annotation']):.3f} | {statistics.mean(row['now']):.3f} | "
            f"{statistics.mean(row['before shown']):.0%} | "
            f"{statistics.mean(row['now shown']):.0%} |"
        )


if __name__ == "__main__":
    main()
