"""Shared rich consoles: results go to stdout, diagnostics to stderr."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

out = Console()
# soft_wrap: diagnostics stay on one line, so they can be grepped and copied.
err = Console(stderr=True, soft_wrap=True)


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a clear error (no traceback) and return the Exit to raise."""
    err.print(f"[bold red]error:[/] {escape(message)}", highlight=False)
    return typer.Exit(code)
