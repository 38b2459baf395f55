from __future__ import annotations

from pathlib import Path

import pytest

from flowgen.flow.catalog import Catalog, load_catalog

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(REPO / "catalogs" / "acme-itsm.yaml")
