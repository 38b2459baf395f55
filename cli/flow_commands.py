"""`flowgen validate` and `flowgen show`: one flow file at a time."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from flowgen.cli.console import err, fail, out
from flowgen.flow.catalog import CatalogError, load_catalog
from flowgen.flow.parsing import MAX_FLOW_BYTES, read_text_limited
from flowgen.flow.render import flow_tree
from flowgen.flow.validator import Stage, validate_flow
from flowgen.shipped import catalog_file

FlowFile = Annotated[Path, typer.Argument(help="Flow JSON file.", show_default=False)]


def _read_flow(path: Path) -> str:
    try:
        return read_text_limited(str(path), MAX_FLOW_BYTES, "flow file")
    except FileNotFoundError:
        raise fail(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise fail(f"{path}: {exc}" if str(path) not in str(exc) else str(exc)) from None


def validate(
    flow_file: FlowFile,
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="Installation catalog for catalog rules: a YAML or JSON file, or a shipped "
            "catalog's installation id (acme-itsm, ...)."
        ),
    ] = None,
    stage: Annotated[
        str, typer.Option(help="'full', or 'outline' to skip required-input checks.")
    ] = "full",
) -> None:
    """Print the flow's structure and catalog errors; exit 1 if there are any."""
    if stage not in ("full", "outline"):
        raise fail(f"--stage must be 'full' or 'outline', not {stage!r}")
    text = _read_flow(flow_file)
    view = None
    if catalog is not None:
        try:
            view = load_catalog(catalog_file(catalog))
        except CatalogError as exc:
            raise fail(str(exc)) from None
    stage_value: Stage = "outline" if stage == "outline" else "full"
    report = validate_flow(text, view, stage=stage_value)
    if report.refusal:
        out.print("[yellow]the file holds no flow (null): a refusal[/]")
        return
    for e in report.errors:
        kind = "red" if e.kind == "structure" else "yellow"
        where = f"step {e.order}" if e.order is not None else e.path
        out.print(
            f"[{kind}]{e.code}[/] [bold]{escape(where)}[/] ({escape(e.path)}): {escape(e.message)}",
            highlight=False,
            soft_wrap=True,
        )
    if report.errors:
        n_struct = sum(e.kind == "structure" for e in report.errors)
        err.print(
            f"{len(report.errors)} error(s): {n_struct} structure, "
            f"{len(report.errors) - n_struct} catalog"
        )
        raise typer.Exit(1)
    checked = "structure and catalog" if view else "structure (no --catalog given)"
    out.print(f"[green]valid[/]: {checked}")


def show(flow_file: FlowFile) -> None:
    """Draw the flow as a tree: trigger, steps with their annotations, inputs."""
    report = validate_flow(_read_flow(flow_file))
    if report.flow is None and not report.refusal:
        raise fail(f"{flow_file}: " + "; ".join(str(e) for e in report.errors))
    out.print(flow_tree(report.flow))
    for e in report.errors:
        err.print(f"[yellow]warning[/] {escape(str(e))}")
