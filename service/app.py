"""The FastAPI app: catalogs in, flows out, runs to inspect; every route behind a key.

    PUT  /v1/installations/{id}/catalog           sync (202 + job for large catalogs)
    GET  /v1/installations/{id}/catalog           what is stored
    GET  /v1/installations/{id}/catalog/jobs/{j}  a background sync
    POST /v1/installations/{id}/flows             generate (JSON, or SSE events)
    POST /v1/installations/{id}/keys              a new key for the installation (admin)
    GET  /v1/runs/{run_id}                        a run's trace
    GET  /healthz, /readyz

and the web playground's page and routes (service/playground.py).

A key reaches only its own installation: anything else answers 404, exactly as if it
did not exist. Admin keys reach every installation.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import yaml
from fastapi import FastAPI, Request
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse, StreamingResponse
from sqlalchemy import text

from flowgen.db.runs import UnknownRun
from flowgen.db.sync import catalog_items, sync_catalog
from flowgen.engine.base import Engine as ModelEngine
from flowgen.flow.catalog import Catalog, CatalogError, parse_catalog
from flowgen.graph.generator import (
    GenerationOutcome,
    RequirementError,
    clean_requirement,
)
from flowgen.service.deps import Owner, Reachable, RecordId, Svc
from flowgen.service.errors import (
    ApiError,
    ErrorResponse,
    error_json,
    install_error_handlers,
    not_found,
)
from flowgen.service.playground import mount_playground
from flowgen.service.schemas import (
    CatalogSummary,
    FlowRequest,
    Health,
    KeyCreated,
    KeyRequest,
    RunEvent,
    RunTraceOut,
    SyncJobAccepted,
    SyncJobStatus,
    SyncReport,
)
from flowgen.service.services import Services
from flowgen.service.settings import ServiceSettings
from flowgen.service.streaming import GenerationTimeout, run_in_worker

log = logging.getLogger("flowgen.service")

JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml")
MAX_SMALL_BODY = 64 * 1024  # every body but a catalog's
MAX_DETAILS = 50


def _errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {s: {"model": ErrorResponse} for s in statuses}


# -- bodies -----------------------------------------------------------------------------
async def read_body(request: Request, limit: int) -> bytes:
    """The body, refused with 413 as soon as it passes `limit` (declared or streamed)."""
    declared = request.headers.get("content-length")
    too_large = ApiError(413, "too_large", f"the body is over the {limit:,}-byte limit")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def decode_catalog(body: bytes, content_type: str, installation: str) -> Catalog:
    media = content_type.split(";")[0].strip().lower()
    if media not in JSON_TYPES + YAML_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the catalog as application/json or application/yaml",
        )
    try:
        raw = body.decode("utf-8")
        data = json.loads(raw) if media in JSON_TYPES else yaml.safe_load(raw)
    except (UnicodeDecodeError, ValueError, yaml.YAMLError, RecursionError) as exc:
        detail = str(exc).replace("\n", " ")[:300]
        raise ApiError(422, "invalid_catalog", f"the body is not valid {media}: {detail}") from None
    if "\\u0000" in json.dumps(data, default=str):  # Postgres text cannot hold NUL
        raise ApiError(422, "invalid_catalog", "the catalog contains NUL characters")
    try:
        catalog = parse_catalog(data, "body")
    except CatalogError as exc:
        problems = exc.problems
        shown = problems[:MAX_DETAILS]
        if len(problems) > MAX_DETAILS:
            shown.append(f"... and {len(problems) - MAX_DETAILS} more")
        raise ApiError(
            422, "invalid_catalog", f"the catalog has {len(problems)} problem(s)", details=shown
        ) from None
    if catalog.installation != installation:
        raise ApiError(
            422,
            "invalid_catalog",
            f"the catalog is for installation {catalog.installation!r}, not {installation!r}",
        )
    return catalog


def sse_frame(event: str, data: Any) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data, default=str)}\n\n".encode()


async def sse_events(events: AsyncIterator[dict[str, Any]], run_id: str) -> AsyncIterator[bytes]:
    yield sse_frame("run", {"run_id": run_id})
    try:
        async for event in events:
            name = event.get("event", "message")
            payload = (
                event["outcome"]
                if name == "result"
                else {k: v for k, v in event.items() if k != "event"}
            )
            yield sse_frame(name, payload)
    except GenerationTimeout as exc:
        yield sse_frame("error", {"code": "timeout", "message": str(exc)})
    except Exception:
        incident = uuid.uuid4().hex[:12]
        log.exception("generation %s failed (%s)", run_id, incident)
        yield sse_frame("error", {"code": "internal", "message": f"internal error {incident}"})


# -- the app ----------------------------------------------------------------------------
def create_app(
    settings: ServiceSettings | None = None, *, engine: ModelEngine | None = None
) -> FastAPI:
    settings = settings or ServiceSettings.from_env()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc = Services(settings, engine)
        app.state.services = svc
        interrupted = svc.jobs.fail_interrupted()
        if interrupted:
            log.warning("%d catalog sync(s) were interrupted by a restart", interrupted)
        loading = asyncio.get_running_loop().run_in_executor(None, svc.load_model)
        yield
        await asyncio.shield(loading)

    app = FastAPI(
        title="flowgen",
        version="1",
        summary="Natural-language requirements to validated low-code flows.",
        lifespan=lifespan,
    )
    install_error_handlers(app)

    @app.middleware("http")
    async def small_bodies(request: Request, call_next: Any) -> Any:
        # Catalog PUTs check their own (larger) limit while reading.
        if not request.url.path.endswith("/catalog"):
            declared = request.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > MAX_SMALL_BODY:
                return error_json(413, "too_large", "the body is over 64 KiB")
        return await call_next(request)

    @app.get("/healthz", response_model=Health, tags=["health"])
    def healthz() -> Health:
        return Health(status="ok")

    @app.get("/readyz", response_model=Health, responses=_errors(503), tags=["health"])
    def readyz(svc: Svc) -> Any:
        checks = {"model": "ok" if svc.model else (svc.model_error or "loading")}
        try:
            with svc.db.connect() as conn:
                conn.execute(text("SELECT 1"))
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = type(exc).__name__
        ready = all(v == "ok" for v in checks.values())
        body = Health(status="ready" if ready else "not_ready", checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    # -- catalogs -----------------------------------------------------------------------
    @app.put(
        "/v1/installations/{installation_id}/catalog",
        response_model=SyncReport,
        responses={202: {"model": SyncJobAccepted}, **_errors(401, 404, 413, 415, 422)},
        openapi_extra={"x-catalog-body": True},
        tags=["catalogs"],
    )
    async def put_catalog(installation_id: Reachable, request: Request, svc: Svc) -> Any:
        """Make the stored catalog equal to the body (spec §3, JSON or YAML). Large
        catalogs answer 202 with a job to poll; either way the stored catalog changes
        all at once or not at all."""
        body = await read_body(request, settings.max_catalog_bytes)
        catalog = decode_catalog(body, request.headers.get("content-type", ""), installation_id)
        items = sum(len(by_key) for by_key in catalog_items(catalog).values())
        svc.forget(installation_id)  # its generator is made anew on the next flow
        if items > settings.sync_job_items:
            job_id = svc.jobs.submit(catalog, source="api")
            url = f"/v1/installations/{installation_id}/catalog/jobs/{job_id}"
            accepted = SyncJobAccepted(job_id=job_id, status="queued", status_url=url)
            return JSONResponse(accepted.model_dump(), status_code=202, headers={"Location": url})
        summary = await asyncio.to_thread(sync_catalog, catalog, svc.db, source="api")
        return SyncReport.model_validate(summary.as_dict())

    @app.get(
        "/v1/installations/{installation_id}/catalog",
        response_model=CatalogSummary,
        responses=_errors(401, 404),
        tags=["catalogs"],
    )
    def get_catalog(installation_id: Reachable, svc: Svc) -> CatalogSummary:
        row = svc.installation(installation_id)  # 404 for an unknown one
        (info,) = svc.store.installations(only=installation_id)
        return CatalogSummary(
            installation=row.id,
            synced_at=row.synced_at,
            source=row.source,
            catalog_hash=row.catalog_hash,
            counts=info.counts,
        )

    @app.get(
        "/v1/installations/{installation_id}/catalog/jobs/{job_id}",
        response_model=SyncJobStatus,
        responses=_errors(401, 404),
        tags=["catalogs"],
    )
    def get_sync_job(installation_id: Reachable, job_id: RecordId, svc: Svc) -> SyncJobStatus:
        job = svc.jobs.get(job_id, installation_id)
        if job is None:
            raise not_found(f"sync job {job_id!r}")
        return SyncJobStatus.model_validate(job)

    # -- keys ---------------------------------------------------------------------------
    @app.post(
        "/v1/installations/{installation_id}/keys",
        response_model=KeyCreated,
        status_code=201,
        responses=_errors(401, 403, 404, 422),
        tags=["keys"],
    )
    def create_key(
        installation_id: Reachable,
        owner: Owner,
        svc: Svc,
        body: KeyRequest | None = None,
    ) -> KeyCreated:
        """A new key for the installation (created if new). Admin keys only."""
        if not owner.admin:
            raise ApiError(403, "forbidden", "only an admin key creates keys")
        key = svc.keys.create(installation_id, body.label if body else None)
        return KeyCreated(id=key.split("_")[1], key=key, installation=installation_id)

    # -- flows --------------------------------------------------------------------------
    @app.post(
        "/v1/installations/{installation_id}/flows",
        response_model=GenerationOutcome,
        responses={
            200: {
                "content": {
                    "text/event-stream": {
                        "schema": {"type": "string"},
                        "description": "With `Accept: text/event-stream`: events `run`, "
                        "`outline` (or `refusal`), one `inputs` per item, `validation`, "
                        "`done`, `result` (the outcome); `error` if it fails.",
                    }
                }
            },
            **_errors(401, 404, 409, 413, 422, 429, 503, 504),
        },
        tags=["flows"],
    )
    async def create_flow(
        installation_id: Reachable, body: FlowRequest, request: Request, svc: Svc
    ) -> Any:
        """Generate a flow: refused requirements are a normal answer (`status: refused`)."""
        try:
            requirement = clean_requirement(body.requirement, settings.max_requirement_chars)
        except RequirementError as exc:
            raise ApiError(422, "invalid_requirement", str(exc)) from None
        generator = svc.generator(installation_id)
        ticket = svc.gate.reserve()
        run_id = str(uuid.uuid4())
        events = run_in_worker(
            lambda: generator.stream(requirement, run_id=run_id),
            ticket,
            settings.generation_timeout_s,
        )
        if "text/event-stream" in request.headers.get("accept", ""):
            return StreamingResponse(
                sse_events(events, run_id),
                media_type="text/event-stream",
                headers={"Cache-Control": "no-cache", "X-Run-Id": run_id},
            )
        outcome = None
        try:
            async for event in events:
                if event.get("event") == "result":
                    outcome = event["outcome"]
        except GenerationTimeout as exc:
            raise ApiError(
                504, "timeout", f"{exc}; run {run_id} was stopped", headers={"X-Run-Id": run_id}
            ) from None
        return outcome

    # -- runs ---------------------------------------------------------------------------
    @app.get(
        "/v1/runs/{run_id}", response_model=RunTraceOut, responses=_errors(401, 404), tags=["runs"]
    )
    def get_run(run_id: RecordId, owner: Owner, svc: Svc) -> RunTraceOut:
        try:
            trace = svc.runs.get(run_id, owner.installation)
        except UnknownRun:
            raise not_found(f"run {run_id!r}") from None
        return RunTraceOut.model_validate(trace.run).model_copy(
            update={"events": [RunEvent.model_validate(e) for e in trace.events]}
        )

    mount_playground(app)
    app.openapi = lambda: _openapi(app)  # type: ignore[method-assign]
    return app


def _openapi(app: FastAPI) -> dict[str, Any]:
    """FastAPI's document, plus the catalog body the PUT route reads by hand (it takes
    YAML too, and checks the size while reading)."""
    if app.openapi_schema:
        return app.openapi_schema
    doc = get_openapi(title=app.title, version=app.version, summary=app.summary, routes=app.routes)
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    catalog = Catalog.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(catalog.pop("$defs", {}))
    schemas["Catalog"] = catalog
    body = {
        "required": True,
        "content": {t: {"schema": {"$ref": "#/components/schemas/Catalog"}} for t in JSON_TYPES}
        | {YAML_TYPES[0]: {"schema": {"$ref": "#/components/schemas/Catalog"}}},
    }
    for path in doc["paths"].values():
        for operation in path.values():
            if operation.pop("x-catalog-body", False):
                operation["requestBody"] = body
    app.openapi_schema = doc
    return doc
