"""Request and response bodies of the HTTP API (they make its OpenAPI document)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from flowgen.settings import get_settings

INSTALLATION_ID = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$"
RECORD_ID = r"^[A-Za-z0-9-]{1,64}$"  # run and job ids


class FlowRequest(BaseModel):
    requirement: str = Field(
        min_length=1,
        # The environment's limit (read once); the service also checks its own setting.
        max_length=get_settings().service.max_requirement_chars,
        description="What the flow should do, in the user's words.",
        examples=["When a P1 incident is created, email the manager of its assignment group"],
    )


class CatalogSummary(BaseModel):
    installation: str
    synced_at: datetime | None
    source: str | None
    catalog_hash: str | None
    counts: dict[str, int]


class SyncReport(BaseModel):
    installation: str
    added: int
    changed: int
    removed: int
    unchanged: int
    by_kind: dict[str, dict[str, int]]
    embedded: int
    seconds: float
    embed_seconds: float


class SyncJobAccepted(BaseModel):
    job_id: str
    status: str
    status_url: str


class SyncJobStatus(BaseModel):
    """Read off a `SyncJobRow`."""

    model_config = ConfigDict(from_attributes=True)

    job_id: str = Field(validation_alias="id")
    installation: str = Field(validation_alias="installation_id")
    status: str  # queued | running | done | failed
    created_at: datetime
    finished_at: datetime | None
    summary: SyncReport | None
    error: str | None


class KeyRequest(BaseModel):
    label: str | None = Field(None, max_length=200, pattern=r"^[^\x00]*$")


class KeyCreated(BaseModel):
    id: str
    key: str = Field(description="Shown once; only its hash is stored.")
    installation: str


class RunEvent(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    seq: int
    node: str | None
    kind: str
    name: str
    started_at: datetime
    duration_ms: float
    payload: dict[str, Any]


class RunTraceOut(BaseModel):
    """Read off a `RunRow`; its events are added from the trace."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    installation: str = Field(validation_alias="installation_id")
    requirement: str
    status: str
    model: str | None
    adapter: str | None
    prompt_version: str | None
    started_at: datetime
    finished_at: datetime | None
    model_calls: int
    tokens_in: int
    tokens_out: int
    validator_rounds: int
    result: dict[str, Any] | None
    error: str | None
    events: list[RunEvent] = []


class Health(BaseModel):
    status: str
    checks: dict[str, str] = {}


class InstallationList(BaseModel):
    """What a key reaches: its own installation, or every one for an admin key."""

    admin: bool
    installations: list[CatalogSummary]


class RunSummary(BaseModel):
    """A run without its events (`GET /v1/runs/{id}` has them)."""

    model_config = ConfigDict(from_attributes=True)

    id: str
    installation: str = Field(validation_alias="installation_id")
    requirement: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    model_calls: int
    tokens_in: int
    tokens_out: int
    validator_rounds: int


class CatalogParam(BaseModel):
    name: str
    type: str
    required: bool = False


class CatalogItem(BaseModel):
    """A trigger, step or table of an installation's catalog, as the page lists it."""

    name: str
    label: str | None = None
    description: str | None = None
    category: str | None = None  # steps: action | subflow
    scope: str | None = None  # steps
    extends: str | None = None  # tables
    columns: int | None = None  # tables: how many (their own)
    inputs: list[CatalogParam] = []
    outputs: list[CatalogParam] = []
    score: float | None = None  # a search's relevance
