"""Run traces in Postgres: what the generator did, step by step, for people debugging it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from flowgen.db.models import RunEventRow, RunRow


class UnknownRun(LookupError):
    def __init__(self, run_id: str):
        super().__init__(f"no run {run_id!r} in the trace store")
        self.run_id = run_id


@dataclass
class RunTrace:
    run: RunRow
    events: list[RunEventRow]


class RunStore:
    """Writes each event in its own short transaction, so a run can be read while it
    runs and what happened before a crash stays recorded."""

    def __init__(self, engine: Engine):
        self.engine = engine

    def start(self, run_id: str, installation: str, requirement: str, **fields: Any) -> None:
        with Session(self.engine) as s, s.begin():
            existing = s.get(RunRow, run_id)
            if existing is None:
                s.add(
                    RunRow(
                        id=run_id,
                        installation_id=installation,
                        requirement=requirement,
                        status="running",
                        model_calls=0,
                        tokens_in=0,
                        tokens_out=0,
                        validator_rounds=0,
                        **fields,
                    )
                )
            else:  # resumed
                existing.status = "running"
                existing.finished_at = None

    def next_seq(self, run_id: str) -> int:
        with Session(self.engine) as s:
            last = s.scalar(select(func.max(RunEventRow.seq)).where(RunEventRow.run_id == run_id))
            return 0 if last is None else last + 1

    def add_event(
        self,
        run_id: str,
        seq: int,
        *,
        node: str | None,
        kind: str,
        name: str,
        started_at: datetime,
        duration_ms: float,
        payload: dict[str, Any],
    ) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(
                RunEventRow(
                    run_id=run_id,
                    seq=seq,
                    node=node,
                    kind=kind,
                    name=name,
                    started_at=started_at,
                    duration_ms=duration_ms,
                    payload=payload,
                )
            )

    def count_usage(self, run_id: str, tokens_in: int, tokens_out: int) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(
                update(RunRow)
                .where(RunRow.id == run_id)
                .values(
                    model_calls=RunRow.model_calls + 1,
                    tokens_in=RunRow.tokens_in + tokens_in,
                    tokens_out=RunRow.tokens_out + tokens_out,
                )
            )

    def finish(
        self,
        run_id: str,
        status: str,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        validator_rounds: int = 0,
    ) -> None:
        with Session(self.engine) as s, s.begin():
            s.execute(
                update(RunRow)
                .where(RunRow.id == run_id)
                .values(
                    status=status,
                    result=result,
                    error=error,
                    validator_rounds=validator_rounds,
                    finished_at=datetime.now(UTC),
                )
            )

    def get(self, run_id: str, installation: str | None = None) -> RunTrace:
        with Session(self.engine) as s:
            run = s.get(RunRow, run_id)
            if run is None or (installation is not None and run.installation_id != installation):
                raise UnknownRun(run_id)
            events = s.scalars(
                select(RunEventRow).where(RunEventRow.run_id == run_id).order_by(RunEventRow.seq)
            ).all()
            s.expunge_all()
            return RunTrace(run, list(events))

    def list(
        self,
        installation: str | None = None,
        limit: int = 20,
        *,
        status: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> list[RunRow]:
        """The newest runs first: of one installation, with one status, started in
        [since, until) when given."""
        with Session(self.engine) as s:
            query = select(RunRow).order_by(RunRow.started_at.desc()).limit(limit)
            if installation is not None:
                query = query.where(RunRow.installation_id == installation)
            if status is not None:
                query = query.where(RunRow.status == status)
            if since is not None:
                query = query.where(RunRow.started_at >= since)
            if until is not None:
                query = query.where(RunRow.started_at < until)
            runs = s.scalars(query).all()
            s.expunge_all()
            return list(runs)
