"""What the routes share (`Services`): the stores, the model engine, the generation gate
and one generator per installation."""

from __future__ import annotations

import logging
import threading

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from flowgen.db.keys import KeyStore
from flowgen.db.models import Installation
from flowgen.db.runs import RunStore
from flowgen.db.store import CatalogStore
from flowgen.engine.base import Engine as ModelEngine
from flowgen.graph.generator import FlowGenerator
from flowgen.service.errors import ApiError, not_found
from flowgen.service.gate import GenerationGate
from flowgen.service.jobs import SyncJobs
from flowgen.service.settings import ServiceSettings

log = logging.getLogger("flowgen.service")


class Services:
    """What the routes share: stores, the model engine (loaded in the background so the
    process answers /healthz at once), the generation gate and one generator per
    installation."""

    def __init__(self, settings: ServiceSettings, engine: ModelEngine | None):
        self.settings = settings
        self.store = CatalogStore()
        self.db: Engine = self.store.engine
        self.keys = KeyStore(self.db)
        self.runs = RunStore(self.db)
        self.jobs = SyncJobs(self.db)
        self.gate = GenerationGate(settings.max_running, settings.max_waiting)
        self.model: ModelEngine | None = engine
        self.model_error: str | None = None
        self._generators: dict[str, FlowGenerator] = {}
        self._lock = threading.Lock()

    def load_model(self) -> None:
        if self.model is not None:
            return
        try:
            from flowgen.graph.generator import default_engine

            self.model = default_engine()
        except Exception as exc:  # reported by /readyz; the process stays up
            log.exception("the model engine failed to load")
            # The detail (paths, versions) stays in the log; clients see that it failed.
            self.model_error = f"the model failed to load ({type(exc).__name__}); see the log"

    def installation(self, installation: str) -> Installation:
        with Session(self.db) as s:
            row = s.get(Installation, installation)
            if row is None:
                raise not_found(f"installation {installation!r}")
            s.expunge(row)
            return row

    def forget(self, installation: str) -> None:
        with self._lock:
            self._generators.pop(installation, None)

    def generator(self, installation: str) -> FlowGenerator:
        if self.installation(installation).synced_at is None:
            raise ApiError(
                409,
                "catalog_not_synced",
                f"installation {installation!r} has no catalog yet; "
                f"PUT /v1/installations/{installation}/catalog first",
            )
        if self.model is None:
            raise ApiError(
                503,
                "not_ready",
                self.model_error or "the model is still loading",
                headers={"Retry-After": "5"},
            )
        with self._lock:
            if installation not in self._generators:
                self._generators[installation] = FlowGenerator(
                    installation,
                    store=self.store,
                    engine=self.model,
                    adapter=self.settings.adapter,
                    max_requirement_chars=self.settings.max_requirement_chars,
                )
            return self._generators[installation]
