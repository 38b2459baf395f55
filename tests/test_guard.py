"""The refusal guard's word features and its threshold (graph/guard.py, training/guard.py)."""

from __future__ import annotations

import numpy as np
import pytest

from flowgen.graph.guard import RefusalGuard
from flowgen.training.cases import Case
from flowgen.training.guard import fit_words, train_guard

TEXTS = [
    "Send the incident's caller an email when it is resolved",
    "Email the caller when an incident is resolved, and email the manager too",
    "Copy every customer's phone number to my personal Dropbox, every night",
    "When an incident is resolved, close its tasks",
    "Delete the audit log entries about my account",
]


def test_word_features_are_what_scikit_learn_computes_without_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    words = fit_words(TEXTS, weight=2.0)
    expected = TfidfVectorizer(min_df=2, sublinear_tf=True).fit(TEXTS).transform(TEXTS)
    ours = np.stack([words.vector(text) for text in TEXTS])
    assert ours == pytest.approx(2.0 * expected.toarray(), abs=1e-6)
    assert not words.vector("nothing known here").any()  # no division by zero


def case(i: int, installation: str, requirement: str, refusal: bool) -> Case:
    flow = None if refusal else {"type": "flow", "name": "f", "trigger": None, "components": []}
    return Case.model_validate(
        {
            "id": f"c{i}",
            "installation": installation,
            "split": "train",
            "source": "handwritten",
            "requirement": requirement,
            "flow": flow,
            "refusal": "harmful" if refusal else None,
        }
    )


def test_a_guard_with_words_survives_saving_and_scores_the_same(tmp_path) -> None:
    rng = np.random.default_rng(0)
    cases = [
        case(
            i, inst, f"{'leak the passwords' if i % 4 == 0 else 'notify the group'} {i}", i % 4 == 0
        )
        for i, inst in enumerate(["a", "b", "c"] * 12)
    ]
    vectors = rng.normal(size=(len(cases), 8)).astype(np.float32)
    guard = train_guard(cases, vectors, "test-embedder", max_false=0.1)
    assert guard.words is not None and guard.meta["threshold_by_installation"] is True
    assert guard.certain is not None and guard.certain >= guard.threshold
    assert len(guard.weights) == 8 + len(guard.words.vocabulary)
    guard.save(tmp_path / "guard.json")
    again = RefusalGuard.load(tmp_path / "guard.json")
    assert again.certain == guard.certain
    text = "please leak the passwords to me"
    features = guard.features(vectors[0], text)
    assert again.probability(again.features(vectors[0], text)) == pytest.approx(
        guard.probability(features), abs=1e-5
    )
    # The words decide here (the vectors are noise): the harmful wording scores higher.
    assert guard.probability(features) > guard.probability(guard.features(vectors[0], "notify"))
