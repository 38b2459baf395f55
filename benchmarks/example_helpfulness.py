"""How much the solved flows a prompt shows give away: the outline similarity of the first
example (and the best of the three) to the gold outline, for training prompts (built as
`flowgen train` builds them, with and without the same-shape rule) and for dev's
prompts at inference.

    python benchmarks/example_helpfulness.py build/handwritten-v7cases.jsonl data/synthetic.jsonl

The case files are those the adapter is trained on (v11's recipe: 396 cases, seed 5,
a quarter of the synthetic sample subflows); dev comes from data/handwritten.jsonl.
Similarity: twice the longest common subsequence of the two outlines' (trigger, step at
its depth) lines over their total length. No model runs; it needs the catalogs and
the shared library synced in the data directory (docs/results.md).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

from flowgen.db.store import CatalogStore
from flowgen.flow.model import Flow
from flowgen.graph.flow_graph import ExampleRetrieval, retrieve_examples
from flowgen.metrics.lcss import lcs_length
from flowgen.tools.catalog_tools import CatalogTools
from flowgen.training.cases import Case, read_cases, training_cases
from flowgen.training.examples import (
    Shape,
    example_retrieval,
    outline_shape,
    same_shape,
    shapes_of,
)


def similarity(a: Shape, b: Shape) -> float:
    return 2 * lcs_length(list(a), list(b)) / (len(a) + len(b))


def shown(tools: CatalogTools, case: Case, rule: ExampleRetrieval) -> tuple[float, float] | None:
    """(first, best of k) similarity of what `rule` shows for `case`; None if nothing."""
    assert case.flow is not None
    gold = outline_shape(Flow.model_validate(case.flow))
    found, _ = retrieve_examples(tools, rule, case.requirement)
    sims = [similarity(gold, outline_shape(Flow.model_validate(e["flow"]))) for e in found]
    return (sims[0], max(sims)) if sims else None


def line(name: str, pairs: list[tuple[float, float] | None]) -> str:
    kept = [p for p in pairs if p is not None]
    first = statistics.mean(p[0] for p in kept)
    best = statistics.mean(p[1] for p in kept)
    identical = sum(p[0] > 0.999 for p in kept) / len(kept)
    return (
        f"{name:<34} {len(kept):>4} prompts  first {first:.3f}  best of k {best:.3f}  "
        f"first identical {identical:.0%}"
    )


def main(files: list[str]) -> None:
    store = CatalogStore()
    tools: dict[str, CatalogTools] = {}

    def tools_for(installation: str) -> CatalogTools:
        return tools.setdefault(installation, CatalogTools(store, installation))

    cases = read_cases(Path(f) for f in files)
    chosen, _ = training_cases(cases, None, [], True, 396, 5, 0.25, 0.0)
    flows = [c for c in chosen if c.flow]
    others = [c.requirement for c in chosen]
    by_shape = shapes_of(c for c in cases if c.split == "train" and c.flow)
    for name, leave_out in (
        ("train, same shapes shown (v11)", False),
        ("train, same shapes left out", True),
    ):
        for source in ("handwritten", "synthetic"):
            pairs = []
            for case in (
                c for c in flows if (c.source == "handwritten") == (source == "handwritten")
            ):
                same = same_shape(case, by_shape) if leave_out else []
                rule = example_retrieval(case, others, 3, same)
                # Training's prompts without examples or with another requirement's are
                # left out: they measure the rule's draw, not retrieval.
                if rule.k and rule.query is None:
                    pairs.append(shown(tools_for(case.installation), case, rule))
            print(line(f"{name}: {source}", pairs), flush=True)
    dev = [c for c in read_cases([Path("data/handwritten.jsonl")]) if c.split == "dev" and c.flow]
    for name, subset in (
        ("dev at inference: short", [c for c in dev if "-long-" not in c.id]),
        ("dev at inference: long", [c for c in dev if "-long-" in c.id]),
    ):
        pairs = [shown(tools_for(c.installation), c, ExampleRetrieval(k=3)) for c in subset]
        print(line(name, pairs), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or ["build/handwritten-v7cases.jsonl", "data/synthetic.jsonl"])
