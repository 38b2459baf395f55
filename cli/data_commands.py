"""`flowgen data ...`: the corpus's case files: build them from their sources, compose
synthetic cases, check them."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table as RichTable

from flowgen.cli.console import err, fail, out
from flowgen.flow.catalog import Catalog, CatalogError, load_catalog

data_app = typer.Typer(
    help="The corpus: hand-written and synthetic cases (build, synth, check).",
    no_args_is_help=True,
)
# The corpus lives in the repository, not in the package: the commands that read it by
# default are the repository's own and run from its root.
DATA = Path("data")
CatalogsOption = Annotated[
    Path | None,
    typer.Option(help="Folder of catalog files.", show_default="the shipped catalogs"),
]


def corpus_files(pattern: str = "*.jsonl", instead: str | None = "--cases FILE") -> list[Path]:
    """The corpus's case files matching `pattern`; when there are none, an error that
    names where they were looked for and how to name files instead."""
    files = sorted(DATA.glob(pattern))
    if not files:
        other = f" or give {instead}" if instead else ""
        raise fail(
            f"no case files {DATA / pattern} in {Path.cwd()}: run from the repository root{other}"
        )
    return files


def load_catalogs(folder: Path | None = None) -> dict[str, Catalog]:
    """Every catalog of `folder` (default: the shipped ones) by installation id."""
    if folder is None:
        from flowgen.shipped import catalogs_dir

        folder = catalogs_dir()
    if not folder.is_dir():
        raise fail(f"{folder}: no such folder of catalog files")
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
    catalogs: CatalogsOption = None,
) -> None:
    """Convert the hand-written sources (authoring format, YAML) to a case file."""
    from flowgen.training.cases import CaseSourceError, authored_cases, write_cases

    if not sources.is_dir():
        raise fail(f"{sources}: no such folder of hand-written sources (in {Path.cwd()})")
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
    catalogs: CatalogsOption = None,
    no_embed: Annotated[
        bool, typer.Option("--no-embed", help="Near-duplicates by word trigrams only.")
    ] = False,
) -> None:
    """Validate every gold flow, check annotations are spans, count, and list
    near-duplicates between the training split and the held-out ones."""
    from flowgen.training.cases import CaseSourceError, read_cases
    from flowgen.training.checks import check_cases

    files = paths or corpus_files(instead="case files as arguments")
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


@data_app.command("synth")
def synth(
    n: Annotated[int, typer.Option(help="Cases per installation.")] = 1000,
    installations: Annotated[
        list[str] | None,
        typer.Option("--installation", help="Training installations.", show_default="acme-itsm"),
    ] = None,
    out_file: Annotated[Path, typer.Option("--out")] = DATA / "synthetic.jsonl",
    seed: Annotated[int, typer.Option()] = 0,
    catalogs: CatalogsOption = None,
    subflows: Annotated[
        bool,
        typer.Option(
            help="Also draw the subflow recipes (a share of the draws; changes the cases "
            "made for a seed, which are otherwise those of data/synthetic.jsonl)."
        ),
    ] = False,
    embed: Annotated[
        bool, typer.Option(help="Near-duplicates by embedding too, not only by trigrams.")
    ] = True,
) -> None:
    """Compose synthetic training cases from the catalogs (split `train` only), none a
    copy or a near-duplicate (as `flowgen data check` finds them) of a held-out
    hand-written requirement."""
    from flowgen.training.cases import read_cases, write_cases
    from flowgen.training.checks import without_near_duplicates
    from flowgen.training.synthetic import synthesize

    by_installation = load_catalogs(catalogs)
    chosen = installations or ["acme-itsm"]
    held_cases = [
        c
        for c in read_cases(corpus_files("handwritten*.jsonl", instead=None))
        if c.split != "train"
    ]
    held_out = {" ".join(c.requirement.lower().split()) for c in held_cases}
    cases = []
    for i, installation in enumerate(chosen):
        if installation not in by_installation:
            where = catalogs or "the shipped catalogs"
            raise fail(f"no catalog for installation {installation!r} in {where}")
        made, report = synthesize(
            by_installation[installation], n, seed + i, held_out, subflows=subflows
        )
        out.print(
            f"{installation}: {report.made} cases, per recipe {report.per_recipe}, "
            f"dropped {report.dropped or 0}"
        )
        cases += made
    # Dropped after the draws, not skipped during them: every other case stays the one
    # its seed made (a gap in the ids marks each dropped one).
    cases, leaks = without_near_duplicates(cases, held_cases, embed)
    for leak in leaks:
        out.print(
            f"dropped {leak.train}: a near-duplicate of held-out {leak.held_out} "
            f"(cosine {leak.cosine:.3f}, trigram Jaccard {leak.jaccard:.2f})"
        )
    out.print(f"wrote {write_cases(out_file, cases)} cases to {out_file}")
