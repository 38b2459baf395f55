"""Which adapter a command runs in-process: a shipped one by name, or a folder written
by `flowgen train` (a tenant adapter need not be copied into the package to be tried)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from flowgen.cli.console import fail

if TYPE_CHECKING:
    from flowgen.engine.base import Engine


def local_adapter(spec: str) -> tuple[str, Path | None]:
    """The adapter's name and, for a folder, where it lies: a shipped name or `none`
    (served by the default engine), or a folder written by `flowgen train` (the caller
    loads it alone, under the folder's name)."""
    from flowgen.engine.factory import shipped_adapters

    shipped = shipped_adapters()
    # `default` without a shipped default adapter means the base model (the generator's rule).
    if spec in ("none", "default") or spec in shipped:
        return spec, None
    folder = Path(spec)
    if not (folder / "adapter_config.json").is_file():
        known = ", ".join(shipped) or "none shipped"
        raise fail(
            f"adapter {spec!r} is neither a shipped adapter ({known}) nor a folder with an "
            "adapter_config.json written by `flowgen train`"
        )
    name = folder.resolve().name
    if name in shipped and shipped[name].resolve() == folder.resolve():
        return name, None
    if name in shipped:
        # The name selects the adapter in the engine and labels the run: it must not
        # pass for the shipped one.
        raise fail(f"adapter folder {spec} has the name of a shipped adapter; copy or rename it")
    return name, folder


def folder_engine(name: str, folder: Path | None) -> Engine | None:
    """The engine for `local_adapter`'s answer: the folder's adapter loaded alone, or None
    for a shipped name (the generator then takes the default engine, loaded once)."""
    if folder is None:
        return None
    from flowgen.engine.factory import embedded_engine

    return embedded_engine({name: folder})
