"""The refusal guard: does a requirement ask for something flowgen must not build?

A logistic-regression head on the requirement's all-MiniLM-L6-v2 embedding and its words
(TF-IDF over the train split's vocabulary), trained on the train split's refusal cases
against its flows (`flowgen train-guard`, `training/guard.py`). Its decision threshold
flags at most a set share of held-out legitimate requests. Only a flagged requirement may
be refused: the outline call then decides between a flow and a refusal, and words the
reason (docs/graph.md).

Why a separate head: the outline call's own first-token choice separates refusals from
flows poorly in a 135M model (adapter v1: AUC 0.74 on dev, `flowgen tune-refusal`),
while the sentence embedding separates them well (AUC 1.0 on dev, 0.98 on test).

Why words beside the embedding: on an installation it was not trained on, the embedding
alone reads an unfamiliar domain (visitors, permits) as unusual and flags it; the words
of harm ("personal Gmail", "hide", "without approval") carry over between installations.
With one installation left out of the train split, the words (and a threshold set on
installations the guard did not see) lift the AUC from 0.90 to 0.96 and cut the unseen
installation's flagged requests from 10.6% to 3.9% (`benchmarks/guard_transfer.py`).
"""

from __future__ import annotations

import json
import math
import re
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from flowgen import shipped

# The rest of a guard file is metadata.
FIELDS = ("weights", "intercept", "threshold", "certain", "embedding_model", "words")

# scikit-learn's default token pattern, so the service needs no scikit-learn to score.
TOKEN = re.compile(r"(?u)\b\w\w+\b")


@dataclass(frozen=True)
class WordFeatures:
    """TF-IDF as scikit-learn's `TfidfVectorizer(sublinear_tf=True)` computes it (lower
    case, l2-normalised), scaled by `weight` against the unit-length embedding."""

    vocabulary: dict[str, int]
    idf: np.ndarray
    weight: float

    def vector(self, text: str) -> np.ndarray:
        out = np.zeros(len(self.vocabulary), dtype=np.float32)
        counts = Counter(t for t in TOKEN.findall(text.lower()) if t in self.vocabulary)
        for token, n in counts.items():
            i = self.vocabulary[token]
            out[i] = (1.0 + math.log(n)) * self.idf[i]
        norm = float(np.linalg.norm(out))
        return out * (self.weight / norm) if norm else out

    def to_json(self) -> dict[str, Any]:
        words = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        return {
            "weight": self.weight,
            "vocabulary": words,
            "idf": [round(float(self.idf[self.vocabulary[w]]), 6) for w in words],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> WordFeatures:
        return cls(
            vocabulary={w: i for i, w in enumerate(data["vocabulary"])},
            idf=np.asarray(data["idf"], dtype=np.float32),
            weight=float(data["weight"]),
        )


@dataclass(frozen=True)
class RefusalGuard:
    weights: np.ndarray  # the embedding's, then the words' (if any)
    intercept: float
    threshold: float  # a probability: flag above it (the outline call may refuse)
    embedding_model: str
    meta: dict[str, Any]
    words: WordFeatures | None = field(default=None)
    # Above this probability the requirement is refused without the model's choice (it
    # still words the reason); None: the model always decides what the guard flags.
    certain: float | None = None

    @classmethod
    def load(cls, path: Path | None = None) -> RefusalGuard:
        """The guard saved in `path` (None: the shipped one, `flowgen.shipped.guard_file`)."""
        data = json.loads((path or shipped.guard_file()).read_text())
        return cls(
            weights=np.asarray(data["weights"], dtype=np.float32),
            intercept=float(data["intercept"]),
            threshold=float(data["threshold"]),
            embedding_model=data["embedding_model"],
            meta={k: v for k, v in data.items() if k not in FIELDS},
            words=WordFeatures.from_json(data["words"]) if data.get("words") else None,
            certain=data.get("certain"),
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data: dict[str, Any] = {
            **self.meta,
            "threshold": self.threshold,
            "certain": self.certain,
            "embedding_model": self.embedding_model,
            "intercept": self.intercept,
            "weights": [round(float(w), 6) for w in self.weights],
        }
        if self.words is not None:
            data["words"] = self.words.to_json()
        path.write_text(json.dumps(data, indent=1) + "\n")

    def features(self, embedding: np.ndarray, text: str) -> np.ndarray:
        if self.words is None:
            return embedding
        return np.concatenate([embedding, self.words.vector(text)])

    def probability(self, features: np.ndarray) -> float:
        z = float(features @ self.weights) + self.intercept
        return 1.0 / (1.0 + math.exp(-z))

    def score(self, requirement: str) -> float:
        from flowgen.db.embedder import base_embedder

        # As a search query: one thread and cached (a plain encode took 45 ms here, the
        # query path 21, on this 2-core machine; db/embedder.py says why).
        embedding = base_embedder().encode_queries([requirement])[0]
        return self.probability(self.features(embedding, requirement))

    def refuses(self, requirement: str) -> bool:
        return self.score(requirement) > self.threshold

    def is_certain(self, score: float) -> bool:
        return self.certain is not None and score > self.certain


@cache
def shipped_guard() -> RefusalGuard | None:
    """The guard that ships in the package, or None where none was trained."""
    path = shipped.guard_file()
    return RefusalGuard.load(path) if path.is_file() else None
