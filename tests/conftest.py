from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import pytest

from flowgen.flow.catalog import Catalog, load_catalog

REPO = Path(__file__).resolve().parent.parent


def flowgen(*args: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """The `flowgen` command in a child process (the environment is inherited)."""
    return subprocess.run(
        [sys.executable, "-m", "flowgen", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
    )


F = TypeVar("F", bound=Callable[..., Any])
# The marks pyproject registers for what a test needs; `unit` is every other test.
NEEDS = ("db", "model")


def needs(*marks: str) -> Callable[[F], F]:
    """Put under `@pytest.fixture`: every test that uses the fixture, directly or through
    other fixtures, gets these marks (pytest has no marks on fixtures)."""
    assert set(marks) <= set(NEEDS), marks

    def mark(fixture: F) -> F:
        fixture.needs = marks  # type: ignore[attr-defined]
        return fixture

    return mark


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test by what its fixtures need; a test with neither need is `unit`, so
    `pytest -m unit` runs without the embedded PostgreSQL and the model."""
    for item in items:
        info = getattr(item, "_fixtureinfo", None)
        for name in getattr(item, "fixturenames", ()):
            defs = info.name2fixturedefs.get(name) if info else None
            for mark in getattr(defs[-1].func, "needs", ()) if defs else ():
                item.add_marker(mark)
        if not any(item.get_closest_marker(mark) for mark in NEEDS):
            item.add_marker("unit")


class NotInUnitTests(RuntimeError):
    pass


# Where the model is reached: the GGUF every runtime starts from and the converted folders
# (flowgen modules bind these by name, so each module's binding is replaced).
MODEL_LOADERS = ("gguf_path", "ensure_base_model", "ensure_tokenizer")


@pytest.fixture(autouse=True)
def _unit_tests_stay_unit(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `unit` test that reaches the store or the model fails, naming the mark it needs,
    so that no test joins the fast subset by mistake (children of `flowgen` commands that
    a test starts are not watched)."""
    if request.node.get_closest_marker("unit") is None:
        return
    from flowgen.db import connection
    from flowgen.engine import base_model, decoding

    def refuse(need: str, what: str) -> Callable[..., Any]:
        def refused(*args: Any, **kwargs: Any) -> Any:
            raise NotInUnitTests(f"a unit test {what}: mark it {need} (tests/conftest.py)")

        return refused

    store = refuse("db", "reached the catalog store")
    monkeypatch.setattr(connection, "_embedded_url", store)
    monkeypatch.setattr(connection, "_engine", store)
    model = refuse("model", "loaded the model")
    loaders = {id(getattr(base_model, name)) for name in MODEL_LOADERS}
    for module in [m for n, m in sys.modules.items() if n.startswith("flowgen.")]:
        for name in MODEL_LOADERS:
            if id(getattr(module, name, None)) in loaders:
                monkeypatch.setattr(module, name, model)
    # Both runtimes end here, even from a converted model already on disk.
    monkeypatch.setattr(decoding.ConstrainedDecoder, "__init__", model)


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(REPO / "catalogs" / "acme-itsm.yaml")


@pytest.fixture(scope="session")
@needs("db")
def engine(tmp_path_factory):
    """A real embedded PostgreSQL with pgvector, in a data dir of this test session."""
    import os

    os.environ.pop("DATABASE_URL", None)
    os.environ["FLOWGEN_DATA_DIR"] = str(tmp_path_factory.mktemp("flowgen-data"))
    from flowgen.db.connection import get_engine, stop_embedded
    from flowgen.settings import reset_settings

    reset_settings()
    yield get_engine()
    # The server this session started ends with it, whatever the `flowgen` children
    # that shared it left behind (tests/test_service.py checks no postgres is left).
    stop_embedded()


@pytest.fixture(scope="session")
def embedder():
    from flowgen.db.embedder import default_embedder

    return default_embedder()


@pytest.fixture(scope="session")
def synced_store(engine, embedder, catalog):
    """The store with acme-itsm synced once for the whole session (read-only tests)."""
    from flowgen.db.store import CatalogStore
    from flowgen.db.sync import sync_catalog

    sync_catalog(catalog, engine, embedder=embedder)
    return CatalogStore(engine, embedder)
