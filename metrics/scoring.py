"""Scoring predictions against gold cases: per-case figures and their macro averages."""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from flowgen.flow.catalog import CatalogView
from flowgen.flow.parsing import iter_jsonl, load_flow
from flowgen.flow.validator import validate_flow
from flowgen.metrics.flowsim import flowsim
from flowgen.metrics.lcss import lcss

SUMMARY_KEYS = (
    "n",
    "flowsim_outline",
    "flowsim_full",
    "flowsim_outline_validated",
    "flowsim_full_validated",
    "lcss",
    "structure_error_rate",
    "unparseable_rate",
)


@dataclass
class CaseScore:
    id: str
    flowsim_outline: float
    flowsim_full: float
    flowsim_outline_validated: float
    flowsim_full_validated: float
    lcss: float
    structure_error: bool
    catalog_error: bool
    unparseable: bool
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def score_case(case_id: str, pred: Any, gold: Any, catalog: CatalogView | None = None) -> CaseScore:
    """Score one prediction. `pred` is a flow (dict/model), None (a refusal) or the raw
    model output as a string (parsed here; unparseable text scores as an empty flow).
    `gold` is the case's flow JSON or None (a refusal)."""
    report = validate_flow(pred, catalog)
    gold_flow = load_flow(gold).flow
    # FlowSim reads the JSON as written, as ServiceNow's reference does: a flow the
    # validator rejects for its shape still gets the reference's score (the validated
    # variants below are 0 for it).
    outline = flowsim(pred, gold, "outline")
    full = flowsim(pred, gold, "full")
    # Validated variants: a flow that cannot be used scores 0 (catalog errors count too
    # when the installation's catalog is given).
    invalid = report.has_structure_error or (catalog is not None and report.has_catalog_error)
    return CaseScore(
        id=case_id,
        flowsim_outline=outline,
        flowsim_full=full,
        flowsim_outline_validated=0.0 if invalid else outline,
        flowsim_full_validated=0.0 if invalid else full,
        lcss=lcss(report.flow, gold_flow),
        structure_error=report.has_structure_error,
        catalog_error=report.has_catalog_error,
        unparseable=report.unparseable,
        errors=[str(e) for e in report.errors],
    )


def summarize(scores: list[CaseScore]) -> dict[str, float | int]:
    n = len(scores)

    def mean(values: Iterable[float]) -> float:
        return sum(values) / n if n else 0.0

    return {
        "n": n,
        "flowsim_outline": mean(s.flowsim_outline for s in scores),
        "flowsim_full": mean(s.flowsim_full for s in scores),
        "flowsim_outline_validated": mean(s.flowsim_outline_validated for s in scores),
        "flowsim_full_validated": mean(s.flowsim_full_validated for s in scores),
        "lcss": mean(s.lcss for s in scores),
        "structure_error_rate": mean(float(s.structure_error) for s in scores),
        "unparseable_rate": mean(float(s.unparseable) for s in scores),
    }


@dataclass(frozen=True)
class Pair:
    id: str
    installation: str | None
    pred: Any
    gold: Any


class ScoringInputError(ValueError):
    """A case file that cannot be scored (bad line, duplicate id, missing catalog)."""


def read_cases(path: str | Path) -> dict[str, dict[str, Any]]:
    """Cases by id; every line must be a JSON object with a string `id`."""
    cases: dict[str, dict[str, Any]] = {}
    source = str(path)
    try:
        with open(path, encoding="utf-8") as fh:
            for number, case in iter_jsonl(fh, source):
                if not isinstance(case, dict) or not isinstance(case.get("id"), str):
                    raise ScoringInputError(
                        f"{source}:{number}: a case is an object with a string 'id'"
                    )
                if case["id"] in cases:
                    raise ScoringInputError(f"{source}:{number}: duplicate id {case['id']!r}")
                cases[case["id"]] = case
    except (OSError, UnicodeDecodeError) as exc:
        raise ScoringInputError(f"{source}: cannot read ({exc})") from None
    except ValueError as exc:
        if isinstance(exc, ScoringInputError):
            raise
        raise ScoringInputError(str(exc)) from None
    return cases


def join_cases(
    preds: Mapping[str, dict[str, Any]], golds: Mapping[str, dict[str, Any]]
) -> tuple[list[Pair], list[str]]:
    """Pairs in gold order, and warnings. A gold case with no prediction scores as
    unparseable output; predictions for unknown ids are ignored (and reported)."""
    warnings = []
    pairs = []
    missing = [i for i in golds if i not in preds]
    if missing:
        warnings.append(
            f"{len(missing)} gold case(s) have no prediction and score as "
            f"unparseable: {', '.join(missing[:5])}{' ...' if len(missing) > 5 else ''}"
        )
    extra = [i for i in preds if i not in golds]
    if extra:
        warnings.append(
            f"{len(extra)} prediction(s) match no gold case and are ignored: "
            f"{', '.join(extra[:5])}{' ...' if len(extra) > 5 else ''}"
        )
    for case_id, gold in golds.items():
        pred = preds[case_id].get("flow") if case_id in preds else ""
        pairs.append(Pair(case_id, gold.get("installation"), pred, gold.get("flow")))
    return pairs, warnings


def _score_pair(args: tuple[Pair, CatalogView | None]) -> CaseScore:
    pair, catalog = args
    return score_case(pair.id, pair.pred, pair.gold, catalog)


def score_pairs(
    pairs: list[Pair],
    catalogs: Mapping[str, CatalogView] | None = None,
    workers: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[CaseScore]:
    """Score every pair; validation is pure Python, so large batches are spread over
    processes (one per core)."""
    jobs = []
    for pair in pairs:
        catalog = None
        if catalogs:
            catalog = catalogs.get(pair.installation or "")
            if catalog is None:
                if len(catalogs) == 1 and not pair.installation:
                    catalog = next(iter(catalogs.values()))
                else:
                    raise ScoringInputError(
                        f"case {pair.id!r}: no catalog given for installation {pair.installation!r}"
                    )
        jobs.append((pair, catalog))
    workers = workers if workers is not None else (os.cpu_count() or 1)
    if workers <= 1 or len(jobs) < 64:
        scores = []
        for job in jobs:
            scores.append(_score_pair(job))
            if progress:
                progress(1)
        return scores
    scores = []
    with ProcessPoolExecutor(max_workers=workers) as pool:
        for score in pool.map(_score_pair, jobs, chunksize=16):
            scores.append(score)
            if progress:
                progress(1)
    return scores


def write_per_case(scores: list[CaseScore], path: str | Path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        for s in scores:
            fh.write(json.dumps(s.as_dict()) + "\n")
