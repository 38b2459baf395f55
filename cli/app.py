"""`flowgen`: the command-line entry point. Each command group lives in its own module."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from flowgen.cli import (
    catalog_commands,
    data_commands,
    engine_commands,
    eval_commands,
    flow_commands,
    flow_library_commands,
    generate_commands,
    score_command,
    service_commands,
    train_commands,
)
from flowgen.settings import quiet_hf_libraries

app = typer.Typer(
    name="flowgen",
    help="Turn requirements into low-code flows; validate and score flows.",
    no_args_is_help=True,
    # Docstrings are wrapped for the source: markdown mode reflows them to the terminal
    # (the rich mode keeps every line break, so help read ragged at 80 columns).
    rich_markup_mode="markdown",
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.command("validate")(flow_commands.validate)
app.command("show")(flow_commands.show)
app.command("score")(score_command.score)
app.add_typer(catalog_commands.catalog_app, name="catalog")
app.add_typer(catalog_commands.db_app, name="db")
app.add_typer(flow_library_commands.flows_app, name="flows")
app.command("serve-model")(engine_commands.serve_model)
app.command("generate")(generate_commands.generate)
app.add_typer(generate_commands.runs_app, name="runs")
app.add_typer(data_commands.data_app, name="data")
app.command("train")(train_commands.train_command)
app.command("train-retriever")(train_commands.train_retriever_command)
app.command("tune-refusal")(train_commands.tune_refusal_command)
app.command("train-guard")(train_commands.train_guard_command)
app.command("soup")(train_commands.soup_command)
app.add_typer(eval_commands.eval_app, name="eval")
app.command("serve")(service_commands.serve)
app.add_typer(service_commands.keys_app, name="keys")


def _exit_on_sigterm() -> None:
    """SIGTERM ends the process as an exit does (SIGINT already raises
    KeyboardInterrupt), so exit handlers run: the embedded PostgreSQL this process
    started is stopped (db/connection.py). A second SIGTERM kills at once."""

    def handler(signum: int, frame: FrameType | None) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise SystemExit(128 + signum)

    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        signal.signal(signal.SIGTERM, handler)


def main() -> None:
    # Before any command imports transformers, sentence-transformers or tqdm: they read
    # their settings on import, and only our own lines belong in the output.
    quiet_hf_libraries()
    # uvicorn (`flowgen serve`) restores this handler after its graceful shutdown and
    # raises the signal again, which now exits instead of killing the process.
    _exit_on_sigterm()
    app()
