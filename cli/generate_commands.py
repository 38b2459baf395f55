"""`flowgen generate` and `flowgen runs ...`: generate a flow, and read back how it was made."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table as RichTable
from rich.tree import Tree

from flowgen.cli.adapter_option import folder_engine, local_adapter
from flowgen.cli.console import err, fail, out
from flowgen.db.connection import DatabaseError
from flowgen.db.store import UnknownInstallation
from flowgen.flow.model import Flow
from flowgen.flow.render import flow_tree
from flowgen.graph.coverage import DEFAULT_COVERAGE, Coverage
from flowgen.settings import get_settings

if TYPE_CHECKING:
    from flowgen.db.models import RunEventRow
    from flowgen.db.runs import RunStore

runs_app = typer.Typer(help="Traces of generation runs.", no_args_is_help=True)


def generate(
    requirement: Annotated[str, typer.Argument(help="The requirement, in plain words.")],
    installation: Annotated[
        str, typer.Option("--installation", "-i", help="Installation id (synced catalog).")
    ],
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    out_file: Annotated[
        Path | None, typer.Option("--out", help="Also write the flow JSON to this file.")
    ] = None,
    adapter: Annotated[
        str,
        typer.Option(
            help="A shipped adapter's name, a folder written by `flowgen train`, or `none` "
            "for the base model (a served model's adapter name with FLOWGEN_MODEL_URL)."
        ),
    ] = "default",
    max_rounds: Annotated[
        int, typer.Option(min=0, max=5, help="Validator rounds that may send work back.")
    ] = 2,
    consensus: Annotated[
        int,
        typer.Option(
            min=0, max=16, help="Outlines sampled besides the greedy one; the most agreed kept."
        ),
    ] = 0,
    coverage: Annotated[
        Coverage,
        typer.Option(
            help="The outline may not end while an action clause is uncovered: on every"
            " requirement, on those with many action clauses (long), or never."
        ),
    ] = DEFAULT_COVERAGE,
) -> None:
    """Generate a flow for REQUIREMENT, showing the outline and each step as they come."""
    from flowgen.graph.generator import FlowGenerator, RequirementError

    folder = None
    if not get_settings().model_url:  # else the adapter is a served model's name
        adapter, folder = local_adapter(adapter)
    try:
        with err.status("Loading the model and the catalog…"):
            engine = folder_engine(adapter, folder)
            generator = FlowGenerator(
                installation,
                engine=engine,
                adapter=None if adapter == "none" else adapter,
                max_rounds=max_rounds,
                consensus=consensus,
                coverage=coverage,
            )
        events = generator.stream(requirement)
        result: dict[str, Any] | None = None
        with err.status("Writing the outline…") as status:
            for event in events:
                result = _progress(event, status) or result
    except (UnknownInstallation, RequirementError, DatabaseError, ValueError) as exc:
        raise fail(str(exc)) from None
    assert result is not None
    if out_file is not None and result["flow"] is not None:
        out_file.write_text(json.dumps(result["flow"], indent=2, ensure_ascii=False) + "\n")
    if as_json:
        out.print_json(json.dumps(result, ensure_ascii=False))
    else:
        _print_result(result)
    if result["status"] == "invalid":
        raise typer.Exit(1)


def _progress(event: dict[str, Any], status: Any) -> dict[str, Any] | None:
    kind = event["event"]
    if kind == "outline":
        flow = Flow.model_validate(event["flow"])
        err.print(f"[green]✓[/] outline: trigger {flow.trigger_type}, {len(flow.components)} steps")
        status.update("Filling in the inputs…")
    elif kind == "inputs":
        item = "trigger" if event["order"] == 0 else f"step {event['order']}"
        err.print(f"[green]✓[/] inputs of {item}: {len(event['inputs'])}")
    elif kind == "validation" and event["errors"]:
        err.print(f"[yellow]![/] validator round {event['round']}: {len(event['errors'])} problems")
        status.update("Fixing what the validator found…")
    elif kind == "result":
        return event["outcome"]
    return None


def _print_result(result: dict[str, Any]) -> None:
    if result["status"] == "refused":
        out.print(f"[bold yellow]Refused:[/] {escape(result['refusal'] or '')}")
    elif result["flow"] is not None:
        out.print(flow_tree(Flow.model_validate(result["flow"])))
    for error in result["errors"]:
        where = f"step {error['order']}" if error["order"] is not None else error["path"]
        out.print(f"[red]{error['code']}[/] {where}: {escape(error['message'])}", highlight=False)
    out.print(
        f"[dim]run {result['run_id']} · {result['status']} · {result['model_calls']} model calls · "
        f"{result['tokens_in']}+{result['tokens_out']} tokens · {result['seconds']:.1f} s[/]"
    )


def _run_store() -> RunStore:
    from flowgen.db.connection import get_engine
    from flowgen.db.runs import RunStore

    try:
        return RunStore(get_engine())
    except DatabaseError as exc:
        raise fail(str(exc)) from None


@runs_app.command("list")
def list_runs(
    installation: Annotated[str | None, typer.Option("--installation", "-i")] = None,
    limit: Annotated[int, typer.Option(min=1, max=1000)] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print the runs as JSON.")] = False,
) -> None:
    """The latest runs, newest first."""
    runs = _run_store().list(installation, limit)
    if as_json:
        fields = ("id", "installation_id", "status", "started_at", "finished_at", "model_calls")
        rows = [{f: getattr(r, f) for f in (*fields, "requirement")} for r in runs]
        out.print_json(json.dumps(rows, default=str))
        return
    table = RichTable("installation", "started", "status", "calls", "tokens", "requirement")
    table.add_column("run", no_wrap=True, min_width=36)
    for run in runs:
        took = (run.finished_at - run.started_at).total_seconds() if run.finished_at else None
        table.add_row(
            run.installation_id,
            f"{run.started_at:%Y-%m-%d %H:%M:%S}" + (f" ({took:.1f} s)" if took else ""),
            run.status,
            str(run.model_calls),
            f"{run.tokens_in}+{run.tokens_out}",
            escape(run.requirement[:60] + ("…" if len(run.requirement) > 60 else "")),
            run.id,
        )
    out.print(table)


@runs_app.command("show")
def show_run(
    run_id: Annotated[str, typer.Argument(help="A run id from `flowgen runs list`.")],
    as_json: Annotated[bool, typer.Option("--json", help="Every event in full, as JSON.")] = False,
) -> None:
    """A run as a timeline: each node, with its tool calls, model calls and validation."""
    from flowgen.db.runs import UnknownRun

    try:
        trace = _run_store().get(run_id)
    except UnknownRun as exc:
        raise fail(str(exc)) from None
    run = trace.run
    if as_json:
        rows = [
            {
                "seq": e.seq,
                "node": e.node,
                "kind": e.kind,
                "name": e.name,
                "started_at": e.started_at.isoformat(),
                "duration_ms": e.duration_ms,
                "payload": e.payload,
            }
            for e in trace.events
        ]
        head = {c: getattr(run, c) for c in ("id", "installation_id", "requirement", "status")}
        out.print_json(json.dumps({**head, "result": run.result, "events": rows}, default=str))
        return
    title = (
        f"[bold]run {run.id}[/] · {run.installation_id} · {run.status} · model {run.model}"
        f" · adapter {run.adapter or 'none'} · prompts {run.prompt_version}\n"
        f"{escape(run.requirement)}"
    )
    timeline = Tree(title)
    events = sorted(trace.events, key=lambda e: (e.started_at, e.seq))
    origin = events[0].started_at if events else run.started_at
    nodes: dict[str, Tree] = {}
    for e in events:
        at = (e.started_at - origin).total_seconds()
        line = f"[dim]{at:7.2f}s[/] {_event_line(e)} [dim]({e.duration_ms:.0f} ms)[/]"
        if e.kind in ("node", "run"):
            nodes[e.node or e.name] = timeline.add(line)
        else:
            nodes.get(e.node or "", timeline).add(line)
    out.print(timeline)
    out.print(
        f"{run.model_calls} model calls · {run.tokens_in}+{run.tokens_out} tokens · "
        f"{run.validator_rounds} validator rounds"
        + (f" · [red]{escape(run.error)}[/]" if run.error else "")
    )


def _event_line(e: RunEventRow) -> str:
    p = e.payload
    if e.kind == "run":
        return "[bold]run[/]"
    if e.kind == "node":
        extra = f" round {p['round']}" if p.get("round") else ""
        return f"[bold cyan]{escape(e.node or e.name)}[/]{extra}" + (
            f" [red]{escape(p['error'])}[/]" if p.get("error") else ""
        )
    if e.kind == "tool":
        args = ", ".join(f"{k}={v!r}" for k, v in p.get("arguments", {}).items())
        result = p.get("result")
        shown = (
            ", ".join(str(r.get("name", r.get("value"))) for r in result[:6] if isinstance(r, dict))
            if isinstance(result, list)
            else str(result)[:80]
        )
        return f"tool {e.name}({escape(args[:120])}) → {escape(shown)}"
    if e.kind == "model":
        usage = p.get("usage", {})
        text = " ⏎ ".join((p.get("text") or "").splitlines())
        return (
            f"model {escape(e.name)} [{p.get('adapter') or 'base'}] "
            f"{usage.get('prompt_tokens', '?')}→{usage.get('completion_tokens', '?')} tokens, "
            f"{p.get('finish_reason')}: {escape(text[:200])}"
        )
    if e.kind == "validation":
        errors = p.get("errors", [])
        return (
            "validator: ok"
            if not errors
            else f"validator: {len(errors)} problems: "
            + escape("; ".join(f"{x['code']}@{x['order']}" for x in errors[:6]))
        )
    return f"{e.kind} {escape(e.name)}"
