"""`flowgen flows ...`: the solved flows the generator shows as examples."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table as RichTable

from flowgen.cli.console import fail, out
from flowgen.db.connection import DatabaseError
from flowgen.db.example_flows import ExampleFlow, FlowLibraryError, read_flow_file
from flowgen.db.store import CatalogStore, UnknownInstallation
from flowgen.flow.catalog import Catalog

flows_app = typer.Typer(
    help="Example flows: each installation's own flows and the shared library.",
    no_args_is_help=True,
)


@flows_app.command("sync")
def sync(
    files: Annotated[
        list[Path],
        typer.Argument(
            help="Case files (.jsonl), hand-written case sources (.yaml) or flows files "
            "(`installation` and `flows: [{name, requirement, flow}]`)."
        ),
    ],
    installation: Annotated[
        str | None, typer.Option(help="The installation whose own flows these are.")
    ] = None,
    shared: Annotated[
        bool, typer.Option("--shared", help="Make these the shared library (any installation).")
    ] = False,
    split: Annotated[
        str | None, typer.Option(help="Only cases of this split (case files).")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Make a library hold exactly the flows of FILES. Every flow is validated against the
    catalog of its installation first; any problem is named and nothing changes."""
    if shared == (installation is not None):
        raise fail("give --installation ID or --shared")
    store = CatalogStore()
    try:
        flows: list[ExampleFlow] = []
        for path in files:
            found = read_flow_file(path, _catalog_lookup(store))
            if split is not None and path.suffix == ".jsonl":
                found = _of_split(path, split, found)
            flows += found
        summary = store.sync_flows(installation, flows, source=", ".join(map(str, files)))
    except (FlowLibraryError, UnknownInstallation, DatabaseError) as exc:
        raise fail(str(exc)) from None
    if as_json:
        typer.echo(json.dumps(summary.as_dict()))
        return
    out.print(
        f"{summary.library}: {summary.added} added, {summary.changed} changed, "
        f"{summary.removed} removed, {summary.unchanged} unchanged"
    )


@flows_app.command("list")
def list_libraries() -> None:
    """How many flows each library holds."""
    try:
        counts = CatalogStore().flow_counts()
    except DatabaseError as exc:
        raise fail(str(exc)) from None
    table = RichTable(title="example flows")
    table.add_column("library")
    table.add_column("flows", justify="right")
    for library, n in sorted(counts.items()):
        table.add_row(library, str(n))
    out.print(table)


def _catalog_lookup(store: CatalogStore) -> Callable[[str], Catalog | None]:
    def lookup(installation: str) -> Catalog | None:
        return store.load_catalog(installation) if store.exists(installation) else None

    return lookup


def _of_split(path: Path, split: str, flows: list[ExampleFlow]) -> list[ExampleFlow]:
    from flowgen.training.cases import read_cases

    keep = {c.id for c in read_cases([path]) if c.split == split}
    return [f for f in flows if f.name in keep]
