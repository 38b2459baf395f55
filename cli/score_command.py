"""`flowgen score PRED.jsonl GOLD.jsonl`: FlowSim and error rates of predictions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

from flowgen.cli.console import err, fail
from flowgen.flow.catalog import CatalogError, CatalogView, load_catalog
from flowgen.metrics.scoring import (
    ScoringInputError,
    join_cases,
    read_cases,
    score_pairs,
    summarize,
    write_per_case,
)
from flowgen.shipped import catalog_file


def score(
    pred: Annotated[
        Path,
        typer.Argument(
            help="Predictions: case lines whose `flow` is the "
            "generated flow (or the raw output string)."
        ),
    ],
    gold: Annotated[Path, typer.Argument(help="Gold cases (JSON Lines, spec §6).")],
    per_case: Annotated[
        Path | None, typer.Option("--per-case", help="Write one line of figures per case.")
    ] = None,
    catalog: Annotated[
        list[Path] | None,
        typer.Option(
            help="Catalog file(s) or shipped catalogs' installation ids; catalog errors then "
            "zero the validated variants."
        ),
    ] = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default: one per core).")] = None,
) -> None:
    """Print one JSON object: n, FlowSim outline/full (plain and validated), LCSS, rates."""
    catalogs: dict[str, CatalogView] = {}
    try:
        for path in catalog or []:
            view = load_catalog(catalog_file(path))
            catalogs[view.installation] = view
        preds, golds = read_cases(pred), read_cases(gold)
        pairs, warnings = join_cases(preds, golds)
        for w in warnings:
            err.print(f"[yellow]warning[/] {w}")
        with Progress(
            "[progress.description]{task.description}",
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            disable=len(pairs) < 200,
        ) as bar:
            task = bar.add_task("scoring", total=len(pairs))
            scores = score_pairs(
                pairs, catalogs or None, workers, progress=lambda k: bar.advance(task, k)
            )
    except (CatalogError, ScoringInputError) as exc:
        raise fail(str(exc)) from None
    if per_case is not None:
        write_per_case(scores, per_case)
    typer.echo(json.dumps(summarize(scores)))
