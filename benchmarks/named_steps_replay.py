"""What the named-steps rule (graph/named_steps.py) does to finished runs, no model run:
each stored flow's core steps renamed where their span names an offered step, the
outline FlowSim against gold before and after. A live run then measures the whole flow
(the renamed steps' inputs are written for the new step).

    python benchmarks/named_steps_replay.py results/inex-dev100 results/inex-voices --show
    python benchmarks/named_steps_replay.py results/xeon-ood --offer store   # as the graph does

`--offer catalog` (the default) offers every step of the installation's catalog file;
`--offer store` offers what the outline call is offered (graph/retrieval.py's
`outline_offer`, which needs the catalogs synced into the store).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from flowgen.flow.catalog import load_catalog
from flowgen.flow.model import Flow
from flowgen.graph.named_steps import name_steps
from flowgen.metrics.flowsim import flowsim
from flowgen.shipped import catalogs

HANDWRITTEN = Path("data/handwritten.jsonl")


def catalog_steps() -> dict[str, list[dict[str, Any]]]:
    """Every step of each shipped catalog, by installation."""
    return {
        installation: [s.model_dump() for s in load_catalog(path).steps]
        for installation, path in catalogs().items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="eval output folders")
    parser.add_argument("--offer", choices=["catalog", "store"], default="catalog")
    parser.add_argument("--show", action="store_true", help="print each renamed flow")
    args = parser.parse_args()
    gold = {c["id"]: c for c in map(json.loads, HANDWRITTEN.open(encoding="utf-8"))}
    steps = catalog_steps()
    tools: dict[str, Any] = {}
    if args.offer == "store":
        from flowgen.db.store import CatalogStore
        from flowgen.graph.retrieval import outline_offer
        from flowgen.tools.catalog_tools import CatalogTools

        store = CatalogStore()
    flows = changed = better = worse = 0
    delta = 0.0
    for run in args.runs:
        for line in (run / "cases.jsonl").open(encoding="utf-8"):
            case = json.loads(line)
            expected = gold.get(case["id"], {}).get("flow")
            if not expected or not case.get("flow"):
                continue
            offered = steps[case["installation"]]
            if args.offer == "store":
                inst = case["installation"]
                tools.setdefault(inst, CatalogTools(store, inst))
                offered = outline_offer(tools[inst], case["requirement"]).steps
            flow = Flow.model_validate(case["flow"])
            renamed_flow, renamed = name_steps(flow, offered)
            before = flowsim(case["flow"], expected, "outline")
            after = (
                flowsim(renamed_flow.model_dump(exclude_none=True), expected, "outline")
                if renamed
                else before
            )
            flows += 1
            delta += after - before
            if renamed:
                changed += 1
                better += after > before + 1e-9
                worse += after < before - 1e-9
                if args.show:
                    spans = {c.order: c.annotation for c in flow.components}
                    shown = [f"{r} ({spans[int(r.split(':')[0])]!r})" for r in renamed]
                    print(f"{after - before:+.3f} {case['id']}: {'; '.join(shown)}")
    print(
        f"{flows} flows, {changed} renamed ({better} better, {worse} worse); "
        f"outline FlowSim {delta / max(flows, 1):+.4f} a flow"
    )


if __name__ == "__main__":
    main()
