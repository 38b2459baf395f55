"""Running the Alembic migrations in `alembic/` from code (and from `flowgen db upgrade`)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

# The migrations ship inside the package as `flowgen.db.migrations` (the repository's
# top-level `alembic/` folder, mapped by pyproject.toml).
MIGRATIONS = Path(__file__).resolve().parent.parent / "alembic"


def _config(engine: Engine | None = None) -> Config:
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
    return ScriptDirectory.from_config(_config()).get_current_head()


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    command.upgrade(_config(engine), revision)
