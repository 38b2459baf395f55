"""Catalog syncs in the background, for catalogs too large to sync within a request.

A job row records the state; the sync itself is one transaction (`sync_catalog`), so a
job that dies half-way leaves the stored catalog exactly as it was. Jobs a stopped
service left running are marked failed when the next one starts.
"""

from __future__ import annotations

import logging
import threading
import uuid
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import CursorResult, Engine, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from flowgen.db.models import Installation, SyncJobRow
from flowgen.db.sync import sync_catalog
from flowgen.flow.catalog import Catalog

log = logging.getLogger("flowgen.service")


class SyncJobs:
    def __init__(self, engine: Engine):
        self.engine = engine

    def fail_interrupted(self) -> int:
        with Session(self.engine) as s, s.begin():
            # An UPDATE's result is a CursorResult (with rowcount); Session.execute is
            # typed for every statement, so it says only Result.
            done = cast(
                CursorResult[Any],
                s.execute(
                    update(SyncJobRow)
                    .where(SyncJobRow.status.in_(("queued", "running")))
                    .values(
                        status="failed",
                        error="the service stopped during the sync; the catalog is unchanged",
                        finished_at=datetime.now(UTC),
                    )
                ),
            )
            return done.rowcount

    def submit(self, catalog: Catalog, source: str) -> str:
        job_id = str(uuid.uuid4())
        with Session(self.engine) as s, s.begin():
            s.execute(
                pg_insert(Installation)
                .values(id=catalog.installation)
                .on_conflict_do_nothing(index_elements=["id"])
            )
            s.add(SyncJobRow(id=job_id, installation_id=catalog.installation, status="queued"))
        threading.Thread(
            target=self._run, args=(job_id, catalog, source), name="flowgen-sync", daemon=True
        ).start()
        return job_id

    def get(self, job_id: str, installation: str) -> SyncJobRow | None:
        with Session(self.engine) as s:
            job = s.get(SyncJobRow, job_id)
            if job is None or job.installation_id != installation:
                return None
            s.expunge(job)
            return job

    def _set(self, job_id: str, **values: Any) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(update(SyncJobRow).where(SyncJobRow.id == job_id).values(**values))

    def _run(self, job_id: str, catalog: Catalog, source: str) -> None:
        self._set(job_id, status="running")
        try:
            summary = sync_catalog(catalog, self.engine, source=source)
        except Exception as exc:
            log.exception("sync job %s failed", job_id)
            self._set(
                job_id,
                status="failed",
                error=f"{type(exc).__name__}: the catalog is unchanged",
                finished_at=datetime.now(UTC),
            )
            return
        self._set(job_id, status="done", summary=summary.as_dict(), finished_at=datetime.now(UTC))
