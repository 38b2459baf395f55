"""Where the catalog store lives: `DATABASE_URL`, or an embedded PostgreSQL with pgvector.

With no `DATABASE_URL`, a real PostgreSQL 16 (from the `pgserver` package) runs from a
data directory under the user's data dir (`FLOWGEN_DATA_DIR` overrides it), migrations
run automatically, and the next process reuses it. With `DATABASE_URL`, migrations are
the operator's job (`flowgen db upgrade`); a database behind the code's schema is
reported with that command rather than half-used.

The embedded server is stopped by the last flowgen process using it, when it exits
(normally, or on SIGTERM/SIGINT: the CLI turns them into an exit) or calls
`stop_embedded()`; `FLOWGEN_PG_KEEP_RUNNING=1` leaves it running. Processes that used it
and died without saying so (killed) do not keep it alive.
"""

from __future__ import annotations

import atexit
import os
import threading
import warnings
from functools import cache
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import Engine, create_engine, text

from flowgen.settings import get_settings

EMBEDDED_DATABASE = "flowgen"
_lock = threading.Lock()
_server_lock = threading.Lock()
_server: Any = None  # the pgserver handle this process holds, until stop_embedded()


class DatabaseError(RuntimeError):
    """The store cannot be reached or is not at the expected schema version."""


def data_dir() -> Path:
    return get_settings().data_dir or Path(platformdirs.user_data_dir("flowgen"))


def _sqlalchemy_url(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


@cache
def _embedded_url() -> str:
    with warnings.catch_warnings():
        # pgserver reads XDG_RUNTIME_DIR at import; the fallback it warns about is fine.
        warnings.simplefilter("ignore")
        import pgserver

    pgdata = data_dir() / "pgdata"
    pgdata.mkdir(parents=True, exist_ok=True)
    # 'stop': the last flowgen process using the server stops it; the data stays.
    keep = get_settings().pg_keep_running
    server = pgserver.get_server(pgdata, cleanup_mode=None if keep else "stop")
    global _server
    with _server_lock:
        if _server is None:
            _server = server
            # Registered after pgserver's own exit handler, so it runs first.
            atexit.register(stop_embedded)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{EMBEDDED_DATABASE}';").count(
        "(1 row)"
    )
    if not exists:
        server.psql(f"CREATE DATABASE {EMBEDDED_DATABASE};")
    return server.get_uri(EMBEDDED_DATABASE)


def database_url() -> str:
    """The SQLAlchemy URL of the store (starting the embedded server if needed)."""
    url = get_settings().database_url
    return _sqlalchemy_url(url if url else _embedded_url())


@cache
def _engine(url: str) -> Engine:
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)


def get_engine(*, migrate: bool | None = None) -> Engine:
    """The engine of the store, at the current schema.

    `migrate` defaults to True for the embedded server and False for `DATABASE_URL`,
    where a schema behind the code raises DatabaseError naming `flowgen db upgrade`.
    """
    from flowgen.db.migrate import SCHEMA_REVISION, current_revision, upgrade

    with _lock:
        url = database_url()
        engine = _engine(url)
        if migrate is None:
            migrate = not get_settings().database_url
        try:
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:  # the driver's errors vary; the message is what matters
            raise DatabaseError(f"cannot connect to the catalog store: {exc}") from exc
        if current_revision(engine) != SCHEMA_REVISION:
            if not migrate:
                raise DatabaseError(
                    "the database schema is not up to date; run `flowgen db upgrade`"
                )
            upgrade(engine)
        return engine


def _alive(pid: int) -> bool:
    import psutil  # a dependency of pgserver

    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def stop_embedded() -> None:
    """Let go of the embedded server this process started or joined: the last live
    process using it stops it (unless it runs with FLOWGEN_PG_KEEP_RUNNING=1). Called at
    exit; a test session or an embedder may call it sooner. Engines of the embedded
    server are disposed of; a later `get_engine()` starts it again."""
    global _server
    with _server_lock:
        server, _server = _server, None
    if server is None:
        return
    with _lock:
        url = _embedded_url() if _embedded_url.cache_info().currsize else None
        _embedded_url.cache_clear()
        if url is not None:
            _engine(_sqlalchemy_url(url)).dispose()
    # pgserver counts the processes using the server in a file and the last one out
    # stops it; a process killed with SIGKILL (or by a signal Python did not handle)
    # never took itself off, so drop the ones no longer running first.
    with server._lock:
        handles = server.global_process_id_list
        handles.put([pid for pid in handles.get() if pid == os.getpid() or _alive(pid)])
    server._cleanup()
