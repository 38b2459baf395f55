"""How often the trigger cues (graph/trigger_cues.py) name the gold trigger: over the
hand-written cases of the splits asked (dev's voices and long cases apart) and the
synthetic corpus, each installation offering its catalog's triggers. No model runs: a
cue is judged in a second here before a live run confirms it. `--changed OLD.py` lists
instead the cases whose named trigger differs under another version of the module (the
only cases a live run can answer differently), e.g. the one on main:

    python benchmarks/trigger_cues_replay.py                  # train and dev
    python benchmarks/trigger_cues_replay.py --splits train,dev --wrong
    git show HEAD:graph/trigger_cues.py > /tmp/old_cues.py
    python benchmarks/trigger_cues_replay.py --changed /tmp/old_cues.py --splits dev \
        > changed.jsonl    # then: flowgen eval run changed.jsonl --split dev, old and new
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from flowgen.flow.catalog import load_catalog
from flowgen.graph.trigger_cues import named_trigger

HANDWRITTEN = Path("data/handwritten.jsonl")
SYNTHETIC = Path("data/synthetic.jsonl")
CATALOGS = Path("catalogs")

Namer = Callable[[str, list[str]], "str | None"]


def group(case: dict) -> str:
    """The split, with dev's voices and long cases apart (they are read differently)."""
    for tag in ("voices", "long"):
        if f"-{tag}-" in case["id"]:
            return f"{case['split']}-{tag}"
    return case["split"]


def load_namer(path: Path) -> Namer:
    spec = importlib.util.spec_from_file_location("other_trigger_cues", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.named_trigger


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--splits", default="train,dev", help="hand-written splits, comma-separated"
    )
    parser.add_argument("--no-synthetic", action="store_true", help="skip data/synthetic.jsonl")
    parser.add_argument("--wrong", action="store_true", help="print each wrongly named case")
    parser.add_argument(
        "--changed", type=Path, help="print the cases another version names otherwise"
    )
    args = parser.parse_args()
    splits = set(args.splits.split(","))
    offered = {
        path.stem: [t.name for t in load_catalog(path).triggers] for path in CATALOGS.glob("*.yaml")
    }
    other = load_namer(args.changed) if args.changed else None
    sources = [HANDWRITTEN] + ([] if args.no_synthetic or other else [SYNTHETIC])
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for source in sources:
        for line in source.open(encoding="utf-8"):
            case = json.loads(line)
            if source == HANDWRITTEN and case["split"] not in splits:
                continue
            triggers = offered.get(case["installation"], [])
            named = named_trigger(case["requirement"], triggers)
            if other is not None:
                if other(case["requirement"], triggers) != named:
                    sys.stdout.write(line)
                continue
            gold = ((case.get("flow") or {}).get("trigger") or {}).get("type")
            if gold is None:  # a refusal or a subflow: no trigger to name
                continue
            verdict = "none" if named is None else "right" if named == gold else "wrong"
            counts[group(case) if source == HANDWRITTEN else "synthetic"][verdict] += 1
            if verdict == "wrong" and args.wrong:
                print(
                    f"  wrong {case['id']}: gold {gold}, named {named}: {case['requirement'][:90]}"
                )
    for name, count in sorted(counts.items()):
        right, wrong, none = count["right"], count["wrong"], count["none"]
        print(f"{name:14s} right {right:5d}  wrong {wrong:3d}  none {none:5d}")


if __name__ == "__main__":
    main()
