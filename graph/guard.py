"""The refusal guard: does a requirement ask for something flowgen must not build?

A logistic-regression head on the requirement's all-MiniLM-L6-v2 embedding, trained on
the train split's refusal cases against its flows (`flowgen train-guard`,
`training/guard.py`). Its decision threshold refuses at most a set share of held-out
legitimate requests. When it refuses, the outline call is asked for the refusal line
only, so the fine-tuned model still words the reason.

Why a separate head: the outline call's own first-token choice separates refusals from
flows poorly in a 135M model (adapter v1: AUC 0.74 on dev, `flowgen tune-refusal`),
while the sentence embedding separates them well (AUC 1.0 on dev, 0.98 on test).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from flowgen import shipped

FIELDS = ("weights", "intercept", "threshold", "embedding_model")  # the rest is metadata


@dataclass(frozen=True)
class RefusalGuard:
    weights: np.ndarray
    intercept: float
    threshold: float  # a probability: refuse above it
    embedding_model: str
    meta: dict[str, Any]

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
        )

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        data = {
            **self.meta,
            "threshold": self.threshold,
            "embedding_model": self.embedding_model,
            "intercept": self.intercept,
            "weights": [round(float(w), 6) for w in self.weights],
        }
        path.write_text(json.dumps(data, indent=1) + "\n")

    def probability(self, embedding: np.ndarray) -> float:
        z = float(embedding @ self.weights) + self.intercept
        return 1.0 / (1.0 + math.exp(-z))

    def score(self, requirement: str) -> float:
        from flowgen.db.embedder import base_embedder

        # As a search query: one thread and cached (a plain encode took 45 ms here, the
        # query path 21, on this 2-core machine; db/embedder.py says why).
        return self.probability(base_embedder().encode_queries([requirement])[0])

    def refuses(self, requirement: str) -> bool:
        return self.score(requirement) > self.threshold


@cache
def shipped_guard() -> RefusalGuard | None:
    """The guard that ships in the package, or None where none was trained."""
    path = shipped.guard_file()
    return RefusalGuard.load(path) if path.is_file() else None
