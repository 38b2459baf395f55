from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(REPO / "catalogs" / "acme-itsm.yaml")


@pytest.fixture(scope="session")
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
