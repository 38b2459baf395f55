"""How the refusal guard carries over to an installation it was not trained on.

    python benchmarks/guard_transfer.py

Leave one installation out of the train split, train the guard on the others exactly as
`flowgen train-guard` does (threshold from cross-validation on their hand-written
flows), and score the left-out installation's hand-written flows and refusals. The ood
split is such an installation; this measures the effect on train data alone, so nothing
held out is tuned on.

Three arms: the guard as it was before (the embedding alone, C=64, threshold from
stratified folds), the shipped one (embedding and words, threshold from guards trained
without the scored installation), and the shipped one with how close the requirement is to
the installation's own catalog (best and mean-of-3 cosine to its steps, tables and
triggers, centred and scaled by `SCALE`), so an unfamiliar domain that the installation
does cover reads as in scope.
"""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from flowgen.cli.data_commands import corpus_files
from flowgen.db.embedder import base_embedder
from flowgen.flow.catalog import load_catalog
from flowgen.shipped import catalogs
from flowgen.training.cases import read_cases
from flowgen.training.guard import train_guard

SCALE = 5.0


def catalog_vectors(installation: str) -> list[np.ndarray]:
    catalog = load_catalog(catalogs()[installation])
    texts = [
        [f"{s.label or s.name}. {s.description or ''}" for s in catalog.steps],
        [f"{t.label or t.name}. {t.description or ''}" for t in catalog.tables],
        [f"{t.label or t.name}. {t.description or ''}" for t in catalog.triggers],
    ]
    return [base_embedder().encode(t) for t in texts]  # unit vectors: cosine = dot


def closeness_to(catalog: list[np.ndarray], vector: np.ndarray) -> list[float]:
    features = []
    for kind in catalog:
        best = np.sort(kind @ vector)[::-1]
        features += [float(best[0]), float(best[:3].mean())]
    return features


BEFORE = {"threshold_by_installation": False}
ARMS = (  # name, extra features, training options
    ("embedding (before)", False, {"words_weight": None, "c": 64.0, **BEFORE}),
    ("embedding + words", False, {}),
    ("+ catalog", True, {}),
)


def main() -> None:
    cases = [c for c in read_cases(corpus_files()) if c.split == "train"]
    texts = [c.requirement for c in cases]
    vectors = base_embedder().encode(texts)
    items = {name: catalog_vectors(name) for name in sorted({c.installation for c in cases})}
    closeness = np.array(
        [closeness_to(items[c.installation], v) for c, v in zip(cases, vectors, strict=True)]
    )
    closeness = SCALE * (closeness - closeness.mean(axis=0))
    refusal = np.array([c.flow is None for c in cases])
    hand = np.array([c.source == "handwritten" for c in cases])
    where = np.array([c.installation for c in cases])
    print(f"{'arm':20} {'left out':16} {'flows flagged':>14} {'refusals caught':>16} {'AUC':>6}")
    for arm, with_catalog, options in ARMS:
        features = np.hstack([vectors, closeness]) if with_catalog else vectors
        rows = []
        for left_out in sorted(items):
            fit, held = where != left_out, where == left_out
            kept = [c for c, f in zip(cases, fit, strict=True) if f]
            guard = train_guard(kept, features[fit], "", **options)
            p = np.array(
                [
                    guard.probability(guard.features(x, text))
                    for x, text, h in zip(features, texts, held, strict=True)
                    if h
                ]
            )
            flows, refusals = (hand & ~refusal)[held], (hand & refusal)[held]
            both = flows | refusals
            row = (
                float((p[flows] > guard.threshold).mean()),
                float((p[refusals] > guard.threshold).mean()),
                float(roc_auc_score(refusals[both], p[both])),
            )
            rows.append(row)
            print(f"{arm:20} {left_out:16} {row[0]:14.3f} {row[1]:16.3f} {row[2]:6.3f}")
        mean = np.mean(rows, axis=0)
        print(f"{arm:20} {'mean':16} {mean[0]:14.3f} {mean[1]:16.3f} {mean[2]:6.3f}")


if __name__ == "__main__":
    main()
