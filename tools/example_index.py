"""Nearest training cases for a requirement: the few-shot examples of the prompted
baselines (the base model, or any LLM, shown three solved cases like the one at hand)
and the nearest-example baseline of the evaluation."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from flowgen.flow.model import Flow
from flowgen.prompts.line_format import inputs_lines, outline_lines


@dataclass(frozen=True)
class SolvedCase:
    id: str
    installation: str
    requirement: str
    flow: Flow | None
    refusal: str | None = None

    @property
    def outline(self) -> str:
        return outline_lines(self.flow, self.refusal or "not a workflow request")

    def inputs_of(self, definition: str) -> str | None:
        """The inputs of this case's first item of `definition`, as answer lines."""
        if self.flow is None:
            return None
        if self.flow.trigger and self.flow.trigger_type == definition:
            return inputs_lines(self.flow.trigger.inputs)
        comp = next((c for c in self.flow.components if c.definition == definition), None)
        return inputs_lines(comp.inputs) if comp and comp.inputs else None


class ExampleIndex:
    """MiniLM embeddings of the requirements of solved cases, searched by cosine."""

    def __init__(self, cases: list[SolvedCase]):
        from flowgen.db.embedder import default_embedder

        self.cases = cases
        self.embedder = default_embedder()
        self.vectors = self.embedder.encode([c.requirement for c in cases])

    def nearest(
        self, requirement: str, k: int = 3, installation: str | None = None
    ) -> list[SolvedCase]:
        query = self.embedder.encode_queries([requirement])[0]
        scores = self.vectors @ query
        order = np.argsort(-scores)
        found = []
        for i in order:
            case = self.cases[int(i)]
            if installation is not None and case.installation != installation:
                continue
            if case.requirement == requirement:
                continue  # never the case itself
            found.append(case)
            if len(found) == k:
                break
        return found
