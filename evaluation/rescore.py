"""Re-score finished evaluation runs with the current FlowSim, without running a model.

    python -m flowgen.evaluation.rescore results/*/ [--cases data/handwritten.jsonl ...]

Each run folder's cases.jsonl keeps the predicted flow of every case; FlowSim is computed
again against the gold flow of the case files (by id), the validated variants stay 0
where the stored validation found a structure or catalog error (validation did not
change), and summary.json's FlowSim figures, features.md/.csv and the plots are written
again. Prints one JSON line per run: its FlowSim figures before and after.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from flowgen.evaluation.summary import feature_matrix, matrix_csv, matrix_markdown, summary
from flowgen.metrics.flowsim import flowsim

FIGURES = (
    "flowsim_outline",
    "flowsim_full",
    "flowsim_outline_validated",
    "flowsim_full_validated",
)


def gold_flows(paths: list[Path]) -> dict[str, Any]:
    golds: dict[str, Any] = {}
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                case = json.loads(line)
                golds.setdefault(case["id"], case.get("flow"))
    return golds


def rescore_record(record: dict[str, Any], gold: Any) -> None:
    score = record["score"]
    invalid = score["structure_error"] or score["catalog_error"]
    for variant in ("outline", "full"):
        value = flowsim(record.get("flow"), gold, variant)
        score[f"flowsim_{variant}"] = value
        score[f"flowsim_{variant}_validated"] = 0.0 if invalid else value


def rescore_run(folder: Path, golds: dict[str, Any]) -> dict[str, Any]:
    cases = folder / "cases.jsonl"
    records = [json.loads(line) for line in cases.read_text(encoding="utf-8").splitlines()]
    missing = [r["id"] for r in records if r["id"] not in golds]
    if missing:
        raise SystemExit(f"{folder}: no gold flow for {', '.join(missing[:5])}")
    for record in records:
        rescore_record(record, golds[record["id"]])
    with cases.open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    summary_path = folder / "summary.json"
    figures = json.loads(summary_path.read_text())
    before = {k: figures[k] for k in FIGURES}
    # Only the FlowSim figures are replaced: the other keys were written by the code of
    # their day and are not FlowSim's to change.
    fresh = summary(records)
    figures.update({k: fresh[k] for k in FIGURES})
    summary_path.write_text(json.dumps(figures, indent=2) + "\n")
    name = figures.get("arm", {}).get("name", folder.name)
    rows = feature_matrix(records)
    if (folder / "features.md").exists():
        (folder / "features.md").write_text(f"# Feature matrix: {name}\n\n" + matrix_markdown(rows))
    if (folder / "features.csv").exists():
        (folder / "features.csv").write_text(matrix_csv(rows))
    from flowgen.evaluation.plots import plot_features, plot_summary

    if (folder / "summary.png").exists():
        plot_summary({name: figures}, folder / "summary.png")
    if (folder / "features.png").exists():
        plot_features(rows, name, folder / "features.png")
    return {"run": folder.name, "before": before, "after": {k: figures[k] for k in FIGURES}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="+", type=Path, help="run folders with cases.jsonl")
    parser.add_argument(
        "--cases",
        nargs="+",
        type=Path,
        default=[Path("data/handwritten.jsonl"), Path("data/synthetic.jsonl")],
        help="case files holding the gold flows (default: the repository's, from its root)",
    )
    args = parser.parse_args()
    missing = [str(p) for p in args.cases if not p.is_file()]
    if missing:
        parser.error(f"no case file {', '.join(missing)} in {Path.cwd()}; give --cases FILE ...")
    golds = gold_flows(args.cases)
    for folder in args.runs:
        if (folder / "cases.jsonl").exists() and (folder / "summary.json").exists():
            print(json.dumps(rescore_run(folder, golds)), flush=True)


if __name__ == "__main__":
    main()
