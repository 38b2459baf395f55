"""Alembic environment: migrations run on the engine flowgen passes in (or DATABASE_URL)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from flowgen.db.models import Base

config = context.config
target_metadata = Base.metadata


def run_migrations_online() -> None:
    engine = config.attributes.get("engine")
    if engine is None:
        from flowgen.db.connection import database_url

        engine = create_engine(database_url())
    with engine.begin() as connection:
        context.configure(connection=connection, target_metadata=target_metadata)
        context.run_migrations()


run_migrations_online()
