"""Running the Alembic migrations in `alembic/` from code (and from `flowgen db upgrade`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine, inspect, text

if TYPE_CHECKING:
    from alembic.config import Config

# The migrations ship inside the package as `flowgen.db.migrations` (the repository's
# top-level `alembic/` folder, mapped by pyproject.toml).
MIGRATIONS = Path(__file__).resolve().parent.parent / "alembic"

# The revision of the tables this code reads and writes: Alembic's head, written down so
# that a process whose store is current checks it with one query and never imports
# Alembic, which holds ~9.5 MB in every `flowgen` process, the service's included
# (docs/engine.md). tests/test_catalog_store.py checks it is the head.
SCHEMA_REVISION = "0006"


def _config(engine: Engine | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(_migrations_dir()))
    if engine is not None:
        config.attributes["engine"] = engine
    return config


def _migrations_dir() -> Path:
    if (MIGRATIONS / "env.py").exists():
        return MIGRATIONS
    import flowgen.db.migrations as packaged  # an installed wheel

    return Path(next(iter(packaged.__path__)))


def head_revision() -> str | None:
    """The newest migration in `alembic/`."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The revision the store's schema is at (Alembic's `alembic_version` row); None for
    a store no migration has run on."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    from alembic import command

    command.upgrade(_config(engine), revision)
