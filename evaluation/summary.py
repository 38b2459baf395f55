"""Aggregating per-case results: the summary figures and the feature matrix."""

from __future__ import annotations

import csv
import io
import statistics
from collections.abc import Iterable
from typing import Any

from flowgen.evaluation.component_counts import count_figures
from flowgen.metrics.scoring import CaseScore, summarize


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..1); 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def refusal_figures(records: list[dict[str, Any]]) -> dict[str, float]:
    """Precision and recall of refusing, with gold `flow: null` as the positive class."""
    predicted = [r for r in records if r["refused"]]
    expected = [r for r in records if r["gold_refusal"]]
    hits = [r for r in predicted if r["gold_refusal"]]
    return {
        "refusal_precision": len(hits) / len(predicted) if predicted else 1.0,
        "refusal_recall": len(hits) / len(expected) if expected else 1.0,
    }


def summary(records: list[dict[str, Any]]) -> dict[str, Any]:
    scores = [CaseScore(**r["score"]) for r in records]
    seconds = [r["seconds"] for r in records]
    out: dict[str, Any] = dict(summarize(scores))
    out.update(refusal_figures(records))
    out.update(count_figures(records))
    out.update(
        {
            "latency_p10": percentile(seconds, 0.1),
            "latency_p50": percentile(seconds, 0.5),
            "latency_p90": percentile(seconds, 0.9),
            "tokens_in": statistics.fmean(r["tokens_in"] for r in records) if records else 0.0,
            "tokens_out": statistics.fmean(r["tokens_out"] for r in records) if records else 0.0,
            "model_calls": statistics.fmean(r["model_calls"] for r in records) if records else 0.0,
            "catalog_error_rate": (
                statistics.fmean(float(s.catalog_error) for s in scores) if scores else 0.0
            ),
        }
    )
    return out


def feature_matrix(records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per feature: number of cases and mean FlowSim outline / full (the Flow Generation
    study's error-analysis table), features sorted by number of cases."""
    groups: dict[str, list[dict[str, Any]]] = {}
    for record in records:
        for feature in ["all", *record["features"]]:
            groups.setdefault(feature, []).append(record)
    rows = []
    for feature, members in groups.items():
        rows.append(
            {
                "feature": feature,
                "cases": len(members),
                "flowsim_outline": statistics.fmean(m["score"]["flowsim_outline"] for m in members),
                "flowsim_full": statistics.fmean(m["score"]["flowsim_full"] for m in members),
            }
        )
    return sorted(rows, key=lambda r: (r["feature"] != "all", -r["cases"], r["feature"]))


def matrix_markdown(rows: list[dict[str, Any]]) -> str:
    lines = ["| feature | cases | FlowSim outline | FlowSim full |", "|---|---:|---:|---:|"]
    lines += [
        f"| {r['feature']} | {r['cases']} | {r['flowsim_outline']:.3f} | {r['flowsim_full']:.3f} |"
        for r in rows
    ]
    return "\n".join(lines) + "\n"


def matrix_csv(rows: list[dict[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(
        buffer, ["feature", "cases", "flowsim_outline", "flowsim_full"], lineterminator="\n"
    )
    writer.writeheader()
    for row in rows:
        writer.writerow(
            {**row, **{k: f"{row[k]:.4f}" for k in ("flowsim_outline", "flowsim_full")}}
        )
    return buffer.getvalue()
