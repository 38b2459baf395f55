"""Train the refusal guard (`graph/guard.py`) on the train split.

Logistic regression (class-balanced) on all-MiniLM-L6-v2 embeddings of the requirement:
refusal cases (hand-written and synthetic) against flows. The threshold comes from
5-fold cross-validated probabilities on the train split: the lowest value that refuses
at most `max_false` of the hand-written train flows, the realistic legitimate requests
(synthetic flows are easier to tell apart and would set it too low).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flowgen.graph.guard import RefusalGuard
from flowgen.training.cases import Case


def train_guard(
    cases: Sequence[Case],
    embeddings: np.ndarray,
    embedding_model: str,
    *,
    max_false: float = 0.03,
    c: float = 64.0,
    seed: int = 0,
) -> RefusalGuard:
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    labels = np.array([case.flow is None for case in cases])
    if labels.all() or not labels.any():
        raise ValueError("the guard needs both refusal cases and flows to learn from")
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=4000)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=seed)
    held_out = cross_val_predict(model, embeddings, labels, cv=folds, method="predict_proba")[:, 1]
    hand_flows = np.array([c.source == "handwritten" and c.flow is not None for c in cases])
    pool = held_out[hand_flows] if hand_flows.any() else held_out[~labels]
    threshold = float(np.quantile(pool, 1.0 - max_false))
    model.fit(embeddings, labels)
    hand_refusals = np.array([c.source == "handwritten" and c.flow is None for c in cases])
    return RefusalGuard(
        weights=model.coef_[0].astype(np.float32),
        intercept=float(model.intercept_[0]),
        threshold=threshold,
        embedding_model=embedding_model,
        meta={
            "c": c,
            "max_false": max_false,
            "train_cases": len(cases),
            "train_refusals": int(labels.sum()),
            "cv_hand_flows_refused": float((pool > threshold).mean()),
            "cv_hand_refusals_caught": (
                float((held_out[hand_refusals] > threshold).mean()) if hand_refusals.any() else None
            ),
        },
    )


def guard_report(
    guard: RefusalGuard, cases: Sequence[Case], embeddings: np.ndarray
) -> dict[str, float | int]:
    """Refusals caught and flows refused on `cases` (AUC where both kinds occur)."""
    from sklearn.metrics import roc_auc_score

    labels = np.array([case.flow is None for case in cases])
    scores = np.array([guard.probability(e) for e in embeddings])
    refused = scores > guard.threshold
    report: dict[str, float | int] = {
        "refusals": int(labels.sum()),
        "refusals_caught": int((refused & labels).sum()),
        "flows": int((~labels).sum()),
        "flows_refused": int((refused & ~labels).sum()),
    }
    if labels.any() and not labels.all():
        report["auc"] = round(float(roc_auc_score(labels, scores)), 3)
    return report
