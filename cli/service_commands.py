"""`flowgen serve` (the HTTP service) and `flowgen keys ...` (its API keys)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table as RichTable

from flowgen.cli.console import err, fail, out

if TYPE_CHECKING:
    from flowgen.db.keys import KeyStore

keys_app = typer.Typer(help="API keys of the HTTP service.", no_args_is_help=True)


def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8000,
    max_running: Annotated[int | None, typer.Option(help="Generations running at once.")] = None,
    max_waiting: Annotated[
        int | None, typer.Option(help="Generations queued beyond those; more get 429.")
    ] = None,
    generation_timeout: Annotated[
        float | None, typer.Option(help="Seconds before a generation is stopped (504).")
    ] = None,
) -> None:
    """Serve the generator, catalogs and run traces over HTTP (OpenAPI at /openapi.json).

    The model is the embedded engine with the shipped adapters, or the OpenAI-compatible
    server in FLOWGEN_MODEL_URL; the store is the embedded Postgres or DATABASE_URL.
    Limits also come from FLOWGEN_SERVICE_* variables."""
    import uvicorn

    from flowgen.service.app import create_app
    from flowgen.service.memory import tune_malloc
    from flowgen.service.settings import ServiceSettings

    settings = ServiceSettings.from_env(
        max_running=max_running,
        max_waiting=max_waiting,
        generation_timeout_s=generation_timeout,
    )
    err.print(f"flowgen service on http://{host}:{port} · {settings.model_dump()}")
    tune_malloc()
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def _keys() -> KeyStore:
    from flowgen.db.connection import DatabaseError, get_engine
    from flowgen.db.keys import KeyStore

    try:
        return KeyStore(get_engine())
    except DatabaseError as exc:
        raise fail(str(exc)) from None


@keys_app.command("create")
def create(
    installation: Annotated[
        str | None, typer.Option(help="The installation the key reaches (and only it).")
    ] = None,
    admin: Annotated[bool, typer.Option(help="An admin key: every installation.")] = False,
    label: Annotated[str | None, typer.Option(help="Who or what the key is for.")] = None,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    if admin == (installation is not None):
        raise fail("give either --installation ID or --admin")
    key = _keys().create(installation, label)
    err.print(f"key for {installation or 'admin'} (shown once):")
    out.print(key, highlight=False)


@keys_app.command("list")
def list_keys(installation: Annotated[str | None, typer.Option()] = None) -> None:
    """Keys and what they reach (never their secrets)."""
    table = RichTable("id", "reaches", "label", "created", "revoked")
    for k in _keys().list(installation):
        table.add_row(
            k.id,
            k.installation or "admin",
            k.label or "",
            f"{k.created_at:%Y-%m-%d %H:%M}",
            f"{k.revoked_at:%Y-%m-%d %H:%M}" if k.revoked_at else "",
        )
    out.print(table)


@keys_app.command("revoke")
def revoke(key_id: Annotated[str, typer.Argument(help="The key's id (its second part).")]) -> None:
    """Revoke a key: it stops working at once."""
    if not _keys().revoke(key_id):
        raise fail(f"no active key {key_id!r}")
    out.print(f"revoked {key_id}")
