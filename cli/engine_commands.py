"""`flowgen serve-model`: the local engine behind an OpenAI-compatible API."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from flowgen.cli.console import err, fail


def _adapters(specs: list[str]) -> dict[str, Path]:
    adapters: dict[str, Path] = {}
    for spec in specs:
        name, sep, path = spec.partition("=")
        if not sep or not name or not path:
            raise fail(f"--adapter takes NAME=PATH, got {spec!r}")
        if not (Path(path) / "adapter_config.json").exists():
            raise fail(f"--adapter {name}: {path} is not a LoRA adapter folder")
        adapters[name] = Path(path)
    return adapters


def serve_model(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8001,
    adapter: Annotated[
        list[str] | None,
        typer.Option(
            help="LoRA adapter to serve as a model, NAME=PATH (repeatable); added to the "
            "shipped adapters, replacing one of the same name."
        ),
    ] = None,
) -> None:
    """Serve the base model and its adapters at /v1/models, /v1/completions and
    /v1/chat/completions (grammars in `structured_outputs`, as vLLM takes them;
    `stream: true` as server-sent events). The shipped adapters are served by default."""
    import uvicorn

    from flowgen.engine.factory import embedded_engine, shipped_adapters
    from flowgen.engine.server import create_app
    from flowgen.service.memory import tune_malloc

    tune_malloc()
    # The shipped adapters by the names generators ask for (`default`, an installation's
    # own), so a RemoteEngine pointed here finds what the embedded engine would have.
    engine = embedded_engine({**shipped_adapters(), **_adapters(adapter or [])})
    err.print(f"serving {engine.model_name} with adapters {engine.adapters()} on {host}:{port}")
    uvicorn.run(create_app(engine), host=host, port=port, log_level="warning")
