"""What the web playground needs beyond the API's other routes, behind the same keys:

    GET /                                          the page (static files, no build)
    GET /v1/installations                          the installations a key reaches
    GET /v1/installations/{id}/runs                its runs, newest first (status, time)
    GET /v1/installations/{id}/catalog/items       its triggers, steps or tables (search)

A key made for one installation sees only it; an admin key sees every one. Anything else
answers 404, as the other routes do.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, FastAPI, Query
from fastapi.responses import FileResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy import select
from sqlalchemy.orm import Session

from flowgen.db.models import Installation
from flowgen.flow.catalog import Param
from flowgen.service.deps import Owner, Reachable, Svc
from flowgen.service.errors import ErrorResponse
from flowgen.service.schemas import (
    CatalogItem,
    CatalogParam,
    CatalogSummary,
    InstallationList,
    RunSummary,
)
from flowgen.service.services import Services
from flowgen.shipped import playground_dir
from flowgen.tools.catalog_tools import CatalogTools

ItemKind = Literal["triggers", "steps", "tables"]
# The page runs only its own files: no inline script, nothing from another origin.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
)
PAGE_HEADERS = {
    "Content-Security-Policy": PAGE_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

router = APIRouter()
_errors: dict[int | str, dict[str, Any]] = {s: {"model": ErrorResponse} for s in (401, 404, 422)}


def summaries(svc: Services, only: str | None) -> list[CatalogSummary]:
    counts = {i.id: i.counts for i in svc.store.installations(only=only)}
    with Session(svc.db) as s:
        query = select(Installation).order_by(Installation.id)
        if only is not None:
            query = query.where(Installation.id == only)
        return [
            CatalogSummary(
                installation=row.id,
                synced_at=row.synced_at,
                source=row.source,
                catalog_hash=row.catalog_hash,
                counts=counts.get(row.id, {}),
            )
            for row in s.scalars(query)
        ]


@router.get(
    "/v1/installations", response_model=InstallationList, responses=_errors, tags=["catalogs"]
)
def list_installations(owner: Owner, svc: Svc) -> InstallationList:
    """The installations this key reaches, with their catalogs' counts and sync times."""
    return InstallationList(admin=owner.admin, installations=summaries(svc, owner.installation))


@router.get(
    "/v1/installations/{installation_id}/runs",
    response_model=list[RunSummary],
    responses=_errors,
    tags=["runs"],
)
def list_runs(
    installation_id: Reachable,
    svc: Svc,
    status: Annotated[str | None, Query(pattern=r"^[a-z_]{1,20}$")] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[RunSummary]:
    """The installation's runs, newest first: with one `status` (ok, invalid, refused,
    error, cancelled, running), started at or after `since` and before `until`."""
    svc.installation(installation_id)  # 404 for an unknown one
    runs = svc.runs.list(installation_id, limit, status=status, since=since, until=until)
    return [RunSummary.model_validate(r) for r in runs]


def _params(params: list[Param]) -> list[CatalogParam]:
    return [CatalogParam(name=p.name, type=p.type, required=p.required) for p in params]


def _all_items(svc: Services, installation: str, kind: ItemKind) -> list[CatalogItem]:
    catalog = svc.store.load_catalog(installation)
    if kind == "tables":
        return [
            CatalogItem(
                name=t.name,
                label=t.label,
                description=t.description,
                extends=t.extends,
                columns=len(t.columns),
            )
            for t in catalog.tables
        ]
    defs = catalog.steps if kind == "steps" else catalog.triggers
    return [
        CatalogItem(
            name=d.name,
            label=d.label,
            description=d.description,
            category=getattr(d, "category", None),
            scope=getattr(d, "scope", None),
            inputs=_params(d.inputs),
            outputs=_params(d.outputs),
        )
        for d in defs
    ]


def _found_items(svc: Services, installation: str, kind: ItemKind, q: str, k: int) -> Any:
    tools = CatalogTools(svc.store, installation)
    search = {
        "triggers": tools.search_triggers,
        "steps": tools.search_steps,
        "tables": tools.search_tables,
    }[kind]
    return [CatalogItem.model_validate(hit) for hit in search(q, k)]


@router.get(
    "/v1/installations/{installation_id}/catalog/items",
    response_model=list[CatalogItem],
    responses=_errors,
    tags=["catalogs"],
)
def catalog_items(
    installation_id: Reachable,
    svc: Svc,
    kind: ItemKind = "steps",
    q: Annotated[str | None, Query(max_length=200, pattern=r"^[^\x00]*$")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 500,
) -> list[CatalogItem]:
    """The installation's triggers, steps or tables by name; with `q`, the best matches of
    the catalog search the generator uses (at most 50)."""
    if svc.installation(installation_id).synced_at is None:
        return []
    query = (q or "").strip()
    if query:
        return list(_found_items(svc, installation_id, kind, query, limit))
    items = sorted(_all_items(svc, installation_id, kind), key=lambda i: i.name)
    return items[:limit]


# -- the page ---------------------------------------------------------------------------
class PageFiles(StaticFiles):
    """The page's files, with headers that keep it to its own origin."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(PAGE_HEADERS)
        return response


def mount_playground(app: FastAPI) -> None:
    """The page at `/` and its files under `/ui/`, then the routes above."""
    static = playground_dir()

    @app.get("/", include_in_schema=False)
    def page() -> FileResponse:
        return FileResponse(static / "index.html", headers=PAGE_HEADERS)

    app.mount("/ui", PageFiles(directory=static), name="ui")
    app.include_router(router)
