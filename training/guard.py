"""Train the refusal guard (`graph/guard.py`) on the train split.

Logistic regression (class-balanced) on all-MiniLM-L6-v2 embeddings of the requirement
and its words (TF-IDF, `graph/guard.py` says why): refusal cases (hand-written and
synthetic) against flows. The threshold comes from
cross-validated probabilities on the train split, each installation scored by a guard
trained on the others: the lowest value that flags at most `max_false` of the
hand-written train flows, the realistic legitimate requests (synthetic flows are easier
to tell apart and would set it too low).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from flowgen.graph.guard import RefusalGuard, WordFeatures
from flowgen.training.cases import Case

# Logits above the highest held-out flow's score where refusals become certain. Nested one
# level deeper (one installation left out, `certain` from the other two): at the highest
# score itself 4 of 297 unseen hand-written flows lie above it (88 of 141 refusals); at
# +0.5, 1 of 297 (72 of 141); at +2, 1 of 297 (51 of 141).
CERTAIN_MARGIN = 0.5


def fit_words(texts: Sequence[str], weight: float) -> WordFeatures:
    """The vocabulary (words in at least two requirements) and IDF of `texts`."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    fitted = TfidfVectorizer(min_df=2, sublinear_tf=True).fit(texts)
    vocabulary = {str(w): int(i) for w, i in fitted.vocabulary_.items()}
    return WordFeatures(vocabulary, fitted.idf_.astype(np.float32), weight)


def train_guard(
    cases: Sequence[Case],
    embeddings: np.ndarray,
    embedding_model: str,
    *,
    max_false: float = 0.03,
    c: float = 16.0,
    words_weight: float | None = 2.0,
    threshold_by_installation: bool = True,
    seed: int = 0,
) -> RefusalGuard:
    """`words_weight`: the TF-IDF vector's length beside the unit embedding (None: the
    embedding alone). `threshold_by_installation`: the threshold from scores of guards
    trained without the scored installation (else from stratified folds). C, the weight
    and the folds were chosen with one installation left out
    (`benchmarks/guard_transfer.py`)."""
    from scipy.special import expit, logit
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import LeaveOneGroupOut, StratifiedKFold, cross_val_predict

    labels = np.array([case.flow is None for case in cases])
    if labels.all() or not labels.any():
        raise ValueError("the guard needs both refusal cases and flows to learn from")
    texts = [case.requirement for case in cases]
    words = fit_words(texts, words_weight) if words_weight else None
    features = (
        np.hstack([embeddings, np.stack([words.vector(text) for text in texts])])
        if words
        else embeddings
    )
    model = LogisticRegression(C=c, class_weight="balanced", max_iter=4000)
    # Each installation's scores come from a guard trained without it: a new customer's
    # installation is one the guard has not seen, and stratified folds (which mix every
    # installation into training) set a threshold that flags three times the share there.
    groups = np.array([case.installation for case in cases])
    folds = (
        LeaveOneGroupOut().split(features, labels, groups)
        if threshold_by_installation and len(set(groups)) > 1
        else StratifiedKFold(n_splits=5, shuffle=True, random_state=seed).split(features, labels)
    )
    held_out = cross_val_predict(model, features, labels, cv=list(folds), method="predict_proba")
    held_out = held_out[:, 1]
    hand_flows = np.array([c.source == "handwritten" and c.flow is not None for c in cases])
    pool = held_out[hand_flows] if hand_flows.any() else held_out[~labels]
    threshold = float(np.quantile(pool, 1.0 - max_false))
    # Above every held-out legitimate request's score, by a margin, the model is not asked
    # whether to refuse (a 135M model's choice is the weak link: it writes flows for some
    # flagged harmful requests). Only by installation are these the scores of unseen
    # requests; stratified folds leave it unset.
    certain = None
    if threshold_by_installation and hand_flows.any():
        certain = float(expit(logit(pool.max()) + CERTAIN_MARGIN))
    model.fit(features, labels)
    hand_refusals = np.array([c.source == "handwritten" and c.flow is None for c in cases])
    return RefusalGuard(
        weights=model.coef_[0].astype(np.float32),
        intercept=float(model.intercept_[0]),
        threshold=threshold,
        certain=certain,
        embedding_model=embedding_model,
        words=words,
        meta={
            "c": c,
            "words_weight": words_weight,
            "threshold_by_installation": threshold_by_installation,
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
    scores = np.array(
        [
            guard.probability(guard.features(e, case.requirement))
            for case, e in zip(cases, embeddings, strict=True)
        ]
    )
    refused = scores > guard.threshold
    certain = np.array([guard.is_certain(float(s)) for s in scores], dtype=bool)
    report: dict[str, float | int] = {
        "refusals": int(labels.sum()),
        "refusals_caught": int((refused & labels).sum()),
        "refusals_certain": int((certain & labels).sum()),
        "flows": int((~labels).sum()),
        "flows_refused": int((refused & ~labels).sum()),
        "flows_certain": int((certain & ~labels).sum()),
    }
    if labels.any() and not labels.all():
        report["auc"] = round(float(roc_auc_score(labels, scores)), 3)
    return report
