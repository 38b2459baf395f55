"""`flowgen data ...`: build the case files from their sources and check them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from flowgen.cli.console import err, fail, out
from flowgen.flow.catalog import Catalog, CatalogError, load_catalog

data_app = typer.Typer(help="The corpus: hand-written and synthetic cases.", no_args_is_help=True)
DATA = Path("data")
CATALOGS = Path("catalogs")


def load_catalogs(folder: Path) -> dict[str, Catalog]:
    catalogs = {}
    for path in sorted(folder.glob("*.yaml")):
        try:
            catalog = load_catalog(path)
        except CatalogError as exc:
            raise fail(str(exc)) from None
        catalogs[catalog.installation] = catalog
    return catalogs


@data_app.command("build")
def build(
    sources: Annotated[Path, typer.Option(help="Folder of hand-written sources.")] = DATA
    / "handwritten",
    out_file: Annotated[Path, typer.Option("--out")] = DATA / "handwritten.jsonl",
    catalogs: Annotated[Path, typer.Option(help="Folder of catalog files.")] = CATALOGS,
) -> None:
    """Convert the hand-written sources (authoring format, YAML) to a case file."""
    from flowgen.training.cases import CaseSourceError, authored_cases, write_cases

    by_installation = load_catalogs(catalogs)
    cases, problems = [], []
    for path in sorted(sources.glob("*.yaml")):
        try:
            cases += authored_cases(path, by_installation)
        except CaseSourceError as exc:
            problems += [f"{path}: {p}" for p in exc.problems]
    if problems:
        for problem in problems:
            err.print(f"[red]✗[/] {escape(problem)}", highlight=False)
        raise fail(f"{len(problems)} problems; {out_file} left as it was")
    n = write_cases(out_file, cases)
    out.print(f"wrote {n} cases to {out_file}")


@data_app.command("check")
def check(
    paths: Annotated[
        list[Path] | None, typer.Argument(help="Case files (default: data/*.jsonl).")
    ] = None,
    catalogs: Annotated[Path, typer.Option(help="Folder of catalog files.")] = CATALOGS,
    no_embed: Annotated[
        bool, typer.Option("--no-embed", help="Near-duplicates by word trigrams only.")
    ] = False,
) -> None:
    """Validate every gold flow, check annotations are spans, count, and list
    near-duplicates between the training split and the held-out ones."""
    from flowgen.training.cases import CaseSourceError, read_cases
    from flowgen.training.checks import check_cases

    files = paths or sorted(DATA.glob("*.jsonl"))
    if not files:
        raise fail("no case files given and none in data/")
    try:
        cases = read_cases(files)
    except (CaseSourceError, OSError) as exc:
        raise fail(str(exc)) from None
    report = check_cases(cases, load_catalogs(catalogs), embed=not no_embed)
    for name, counter in report.counts.items():
        table = RichTable(name, "cases", title=f"by {name}")
        for key, n in sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])):
            table.add_row(key, str(n))
        out.print(table)
    for case_id, problems in report.invalid.items():
        for problem in problems:
            out.print(f"[red]invalid[/] {case_id}: {escape(problem)}", highlight=False)
    for dup in report.near_duplicates:
        out.print(
            f"[yellow]near-duplicate[/] {dup.held_out} ~ {dup.train} "
            f"(cosine {dup.cosine:.3f}, trigram Jaccard {dup.jaccard:.2f})"
        )
    out.print(
        f"{report.cases} cases · {len(report.invalid)} invalid · "
        f"{len(report.near_duplicates)} cross-split near-duplicates"
    )
    if not report.ok:
        raise typer.Exit(1)
