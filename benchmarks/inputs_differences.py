"""Where an eval's flows lose their inputs: for each item whose outline matches gold (the
trigger when its type does, and each gold step matched in order by the first later
predicted step with the same definition), each input is counted equal, different,
missing or extra, and the most frequent differences are listed by item and input name.
No model runs; it reads the eval's `cases.jsonl` and the gold case file.

    python benchmarks/inputs_differences.py results/amd-v11-dev100-today
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any

GOLD = Path("data/handwritten.jsonl")


def aligned_items(gold: dict[str, Any], pred: dict[str, Any]) -> list[tuple[str, list, list]]:
    """(item, gold inputs, predicted inputs) for the items both flows agree on."""
    pairs = []
    g_trigger, p_trigger = gold.get("trigger") or {}, pred.get("trigger") or {}
    if g_trigger and p_trigger and g_trigger.get("type") == p_trigger.get("type"):
        pairs.append(("trigger", g_trigger.get("inputs", []), p_trigger.get("inputs", [])))
    predicted = pred.get("components", [])
    start = 0
    for comp in gold.get("components", []):
        for j in range(start, len(predicted)):
            if predicted[j]["definition"] == comp["definition"]:
                pairs.append(
                    (comp["definition"], comp.get("inputs", []), predicted[j].get("inputs", []))
                )
                start = j + 1
                break
    return pairs


def main(folders: list[str]) -> None:
    gold = {c["id"]: c for c in map(json.loads, GOLD.read_text().splitlines()) if c}
    for folder in folders:
        kinds: Counter[str] = Counter()
        by_input: Counter[tuple[str, str]] = Counter()
        for line in (Path(folder) / "cases.jsonl").read_text().splitlines():
            row = json.loads(line)
            case = gold.get(row["id"])
            if row.get("gold_refusal") or not row.get("flow") or not case or not case.get("flow"):
                continue
            for item, g_inputs, p_inputs in aligned_items(case["flow"], row["flow"]):
                want = {i["name"]: i["value"] for i in g_inputs}
                got = {i["name"]: i["value"] for i in p_inputs}
                for name in want.keys() | got.keys():
                    if name in want and name in got:
                        kind = "equal" if want[name] == got[name] else "different"
                    else:
                        kind = "missing" if name in want else "extra"
                    kinds[kind] += 1
                    if kind != "equal":
                        by_input[(f"{item}.{name}", kind)] += 1
        print(f"{folder}: {sum(kinds.values())} inputs of aligned items, {dict(kinds)}")
        for (name, kind), count in by_input.most_common(12):
            print(f"  {count:4d} {kind:9s} {name}")


if __name__ == "__main__":
    main(sys.argv[1:])
