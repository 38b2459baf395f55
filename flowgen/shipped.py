"""Files that ship inside the package: the adapters, the refusal guard and the catalogs of
the demo installations.

They are found with `importlib.resources` from the package that holds them, never from a
module's `__file__` or the working directory, so every command finds them from any
folder, from a wheel as from a checkout (an editable install points at the checkout).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from flowgen.flow.catalog import CatalogError

ADAPTER_CONFIG = "adapter_config.json"


def _package_dir(package: str) -> Path:
    root = files(package)
    # The engines hand these files to llama.cpp, peft and sentence-transformers, which
    # need paths on disk; setuptools installs flowgen unzipped, so `files` gives one.
    if not isinstance(root, Path):
        raise RuntimeError(f"{package} is not installed as files on disk ({root})")
    return root


def adapters_dir() -> Path:
    """`training/adapters/`: one folder per shipped adapter (peft), named as it is chosen
    (`default`, or a tenant adapter named after its installation)."""
    return _package_dir("flowgen.training") / "adapters"


def adapter_folders() -> dict[str, Path]:
    """The shipped adapters by name: the folders of `adapters_dir()` that hold one."""
    folder = adapters_dir()
    if not folder.is_dir():
        return {}
    return {p.name: p for p in sorted(folder.iterdir()) if (p / ADAPTER_CONFIG).is_file()}


def guard_file() -> Path:
    """The refusal guard (`flowgen train-guard` writes it)."""
    return _package_dir("flowgen.training") / "guard" / "guard.json"


def playground_dir() -> Path:
    """`service/static/`: the web playground `flowgen serve` serves at `/` (plain HTML, CSS
    and JavaScript modules; nothing is built or fetched)."""
    return _package_dir("flowgen.service") / "static"


def catalogs_dir() -> Path:
    """`catalogs/`: the catalogs of the demo and training installations."""
    return _package_dir("flowgen.catalogs")


def catalogs() -> dict[str, Path]:
    """The shipped catalog files by installation id (each file is named after its id)."""
    return {p.stem: p for p in sorted(catalogs_dir().glob("*.yaml"))}


def catalog_file(spec: str | Path) -> Path:
    """A catalog given on the command line: a file, or a shipped catalog's installation id
    (`flowgen catalog sync acme-itsm` from any folder). A file of that name wins."""
    path = Path(spec)
    if path.exists():
        return path
    shipped = catalogs()
    if str(spec) in shipped:
        return shipped[str(spec)]
    names = ", ".join(shipped) or "none"
    raise CatalogError(str(spec), [f"(root): no such file, nor a shipped catalog ({names})"])
