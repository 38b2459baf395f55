"""LangGraph checkpoints in the same Postgres as the catalog, keyed by run id, so a run
can be inspected (`graph.get_state`) and resumed after a crash."""

from __future__ import annotations

import threading

from langgraph.checkpoint.postgres import PostgresSaver
from psycopg.rows import dict_row
from psycopg_pool import ConnectionPool

from flowgen.db.connection import database_url

_lock = threading.Lock()
_savers: dict[str, PostgresSaver] = {}


def postgres_checkpointer() -> PostgresSaver:
    """One saver (and connection pool) per database per process; its tables are created
    on first use (`setup` is idempotent)."""
    url = database_url().replace("postgresql+psycopg://", "postgresql://", 1)
    with _lock:
        if url not in _savers:
            pool = ConnectionPool(
                url,
                min_size=1,
                max_size=8,
                kwargs={"autocommit": True, "prepare_threshold": 0, "row_factory": dict_row},
                open=True,
            )
            saver = PostgresSaver(pool)  # type: ignore[arg-type]
            saver.setup()
            _savers[url] = saver
        return _savers[url]
