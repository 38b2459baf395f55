"""`flowgen data check`: is every case usable, and are the held-out splits held out?

- every gold flow passes the validator against its installation's catalog;
- every annotation is a span of the requirement;
- ids are unique, refusals carry a reason;
- no dev/test/ood requirement is a near-duplicate of a train one: MiniLM cosine
  similarity ≥ `COSINE` or word-trigram Jaccard ≥ `JACCARD`.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from flowgen.flow.catalog import Catalog
from flowgen.flow.model import Flow
from flowgen.flow.validator import validate_flow
from flowgen.training.cases import Case

COSINE = 0.93
JACCARD = 0.6


@dataclass
class NearDuplicate:
    held_out: str
    train: str
    cosine: float
    jaccard: float


@dataclass
class DataReport:
    cases: int
    invalid: dict[str, list[str]] = field(default_factory=dict)  # case id → problems
    counts: dict[str, Counter[str]] = field(default_factory=dict)
    near_duplicates: list[NearDuplicate] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.invalid and not self.near_duplicates


def _norm(text: str) -> str:
    return " ".join(re.findall(r"\w+|[^\w\s]", text.lower()))


def case_problems(case: Case, catalog: Catalog | None) -> list[str]:
    if catalog is None:
        return [f"no catalog for installation {case.installation!r}"]
    if case.flow is None:
        return [] if case.refusal or "refusal" in case.features else ["a refusal needs a reason"]
    report = validate_flow(case.flow, catalog)
    problems = [str(e) for e in report.errors]
    flow = report.flow
    if flow is not None:
        requirement = _norm(case.requirement)
        for order, _, annotation in flow.annotated_items():
            where = "trigger" if order is None else f"step {order}"
            if not annotation:
                problems.append(f"{where}: no annotation")
            elif _norm(annotation) not in requirement:
                problems.append(f"{where}: annotation {annotation!r} is not in the requirement")
    return problems


def _trigrams(text: str) -> set[tuple[str, ...]]:
    words = re.findall(r"\w+", text.lower())
    return {tuple(words[i : i + 3]) for i in range(max(1, len(words) - 2))}


def near_duplicates(cases: list[Case], embed: bool = True) -> list[NearDuplicate]:
    train = [c for c in cases if c.split == "train"]
    held = [c for c in cases if c.split != "train"]
    if not train or not held:
        return []
    cosine = np.zeros((len(held), len(train)), dtype=np.float32)
    if embed:
        from flowgen.db.embedder import default_embedder

        embedder = default_embedder()
        a = embedder.encode([c.requirement for c in held])
        b = embedder.encode([c.requirement for c in train])
        cosine = a @ b.T  # the embeddings are normalized
    grams_train = [_trigrams(c.requirement) for c in train]
    found = []
    for i, case in enumerate(held):
        grams = _trigrams(case.requirement)
        for j, other in enumerate(train):
            jac = len(grams & grams_train[j]) / max(1, len(grams | grams_train[j]))
            if cosine[i, j] >= COSINE or jac >= JACCARD:
                found.append(NearDuplicate(case.id, other.id, float(cosine[i, j]), jac))
    return found


def without_near_duplicates(
    made: list[Case], held_out: list[Case], embed: bool = True
) -> tuple[list[Case], list[NearDuplicate]]:
    """`made` (train cases) less those `flowgen data check` would flag as near-duplicates
    of a held-out requirement, and what was flagged. The others keep their ids, so a
    generator's remaining cases stay exactly those it made."""
    found = near_duplicates([*held_out, *made], embed)
    leaked = {d.train for d in found}
    return [c for c in made if c.id not in leaked], found


def check_cases(cases: list[Case], catalogs: dict[str, Catalog], embed: bool = True) -> DataReport:
    report = DataReport(cases=len(cases))
    ids = Counter(c.id for c in cases)
    for case in cases:
        problems = case_problems(case, catalogs.get(case.installation))
        if ids[case.id] > 1:
            problems.append("duplicate id")
        if problems:
            report.invalid[case.id] = problems
    counts: dict[str, Counter[str]] = {
        k: Counter() for k in ("split", "source", "installation", "trigger", "feature")
    }
    for case in cases:
        counts["split"][case.split or "none"] += 1
        counts["source"][case.source] += 1
        counts["installation"][case.installation] += 1
        trigger = Flow.model_validate(case.flow).trigger_type if case.flow else "refusal"
        counts["trigger"][trigger or "none"] += 1
        counts["feature"].update(case.features)
    report.counts = counts
    report.near_duplicates = near_duplicates(cases, embed)
    return report
