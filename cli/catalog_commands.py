"""`flowgen catalog ...` and `flowgen db ...`: the catalog store from the command line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn
from rich.table import Table as RichTable
from sqlalchemy import Engine

from flowgen.cli.console import err, fail, out
from flowgen.db.connection import DatabaseError
from flowgen.db.store import CatalogStore, UnknownInstallation
from flowgen.flow.catalog import CatalogError, load_catalog
from flowgen.shipped import catalog_file

catalog_app = typer.Typer(help="Sync and inspect installation catalogs.", no_args_is_help=True)
db_app = typer.Typer(help="The catalog store's database.", no_args_is_help=True)


def _engine() -> Engine:
    from flowgen.db.connection import get_engine

    try:
        return get_engine()
    except DatabaseError as exc:
        raise fail(str(exc)) from None


@catalog_app.command("sync")
def sync(
    catalog: Annotated[
        Path,
        typer.Argument(
            help="Catalog file (.yaml, .yml or .json), or a shipped catalog's installation id "
            "(acme-itsm, ...; a wrong one lists them)."
        ),
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Make the installation in the store equal to the file: add, update, remove."""
    from flowgen.db.sync import sync_catalog

    try:
        catalog_path = catalog_file(catalog)
        loaded = load_catalog(catalog_path)  # every problem is named before anything is written
    except CatalogError as exc:
        raise fail(str(exc)) from None
    engine = _engine()
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        # Off in a log: rich cannot draw it there and leaves a stray empty line instead.
        disable=not err.is_terminal,
    ) as bar:
        task = bar.add_task("embedding", total=None, visible=False)

        def start(total: int) -> None:
            bar.update(task, total=total, visible=total > 0)

        summary = sync_catalog(
            loaded,
            engine,
            source=str(catalog_path),
            on_embed_start=start,
            on_embedded=lambda n: bar.advance(task, n),
        )
    if as_json:
        typer.echo(json.dumps(summary.as_dict()))
        return
    table = RichTable(title=f"sync of {summary.installation} ({summary.seconds:.1f} s)")
    for col in ("kind", "added", "changed", "removed", "unchanged"):
        table.add_column(col, justify="left" if col == "kind" else "right")
    for kind, c in summary.counts.items():
        table.add_row(kind, str(c.added), str(c.changed), str(c.removed), str(c.unchanged))
    table.add_row(
        "[bold]total",
        *(f"[bold]{summary.total(a)}" for a in ("added", "changed", "removed", "unchanged")),
    )
    out.print(table)


@catalog_app.command("list")
def list_installations() -> None:
    """The installations in the store, with their item counts."""
    infos = CatalogStore(_engine()).installations()
    if not infos:
        out.print("no installations yet: `flowgen catalog sync CATALOG.yaml` (or acme-itsm)")
        return
    table = RichTable()
    for col in ("installation", "synced", "triggers", "steps", "tables", "columns", "choices"):
        table.add_column(col)
    for i in infos:
        synced = i.synced_at.strftime("%Y-%m-%d %H:%M") if i.synced_at else "-"
        table.add_row(
            i.id,
            synced,
            *(
                str(i.counts.get(k, 0))
                for k in ("triggers", "steps", "tables", "columns", "choices")
            ),
        )
    out.print(table)


@catalog_app.command("show")
def show(
    installation: Annotated[str, typer.Argument(help="Installation id.")],
    steps: Annotated[bool, typer.Option("--steps", help="List the steps.")] = False,
    tables: Annotated[bool, typer.Option("--tables", help="List the tables.")] = False,
) -> None:
    """Summary of one installation; --steps and --tables list them."""
    store = CatalogStore(_engine())
    try:
        catalog = store.load_catalog(installation)
    except UnknownInstallation as exc:
        raise fail(str(exc)) from None
    out.print(
        f"[bold]{installation}[/]: {len(catalog.triggers)} triggers, "
        f"{len(catalog.steps)} steps, {len(catalog.tables)} tables, "
        f"{sum(len(t.columns) for t in catalog.tables)} columns"
    )
    if steps:
        table = RichTable("step", "category", "scope", "inputs", "label")
        for s in catalog.steps:
            ins = ", ".join(p.name + ("*" if p.required else "") for p in s.inputs)
            table.add_row(s.name, s.category, s.scope, ins, s.label or "")
        out.print(table)
    if tables:
        table = RichTable("table", "extends", "columns", "label")
        for t in catalog.tables:
            table.add_row(t.name, t.extends or "", str(len(t.columns)), t.label or "")
        out.print(table)


@db_app.command("upgrade")
def upgrade() -> None:
    """Run the database migrations (needed once per release with DATABASE_URL)."""
    from flowgen.db.connection import get_engine

    try:
        get_engine(migrate=True)
    except DatabaseError as exc:
        raise fail(str(exc)) from None
    out.print("[green]database schema is up to date[/]")
