"""SQLAlchemy models of the catalog store: installations and their catalog items.

Every item row carries its installation, a content hash (so an unchanged item is never
re-embedded), its embedding (pgvector, HNSW) and a generated full-text vector (GIN).
Rows refer to each other by name within an installation (a column's `table_name`), the
same natural keys the catalog file uses, so a sync is a plain diff of keys.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    BigInteger,
    Computed,
    DateTime,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column

EMBEDDING_DIM = 384  # all-MiniLM-L6-v2
SEARCH_TEXT = (
    "to_tsvector('english', replace(name, '_', ' ') || ' ' || coalesce(label, '') || ' ' "
    "|| coalesce(description, ''))"
)


class Base(DeclarativeBase):
    pass


class Installation(Base):
    __tablename__ = "installations"

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    synced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    source: Mapped[str | None] = mapped_column(Text)
    catalog_hash: Mapped[str | None] = mapped_column(String(64))


class CatalogItem(Base):
    """Columns every catalog row shares."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    installation_id: Mapped[str] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), nullable=False
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    label: Mapped[str | None] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    embedding: Mapped[Any] = mapped_column(Vector(EMBEDDING_DIM), nullable=False)

    @declared_attr
    def search(cls) -> Mapped[Any]:
        return mapped_column(TSVECTOR, Computed(SEARCH_TEXT, persisted=True))

    @classmethod
    def search_indexes(cls, table: str) -> tuple[Index, ...]:
        return (
            Index(
                f"ix_{table}_embedding",
                "embedding",
                postgresql_using="hnsw",
                postgresql_ops={"embedding": "vector_cosine_ops"},
            ),
            Index(f"ix_{table}_search", "search", postgresql_using="gin"),
            # The exact-name ranker compares lower-cased names and labels (migration 0005).
            Index(f"ix_{table}_lower_name", "installation_id", text("lower(name)")),
            Index(f"ix_{table}_lower_label", "installation_id", text("lower(label)")),
        )


class TriggerRow(CatalogItem):
    __tablename__ = "triggers"
    __table_args__ = (
        UniqueConstraint("installation_id", "name"),
        *CatalogItem.search_indexes("triggers"),
    )

    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    outputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)


class StepRow(CatalogItem):
    __tablename__ = "steps"
    __table_args__ = (
        UniqueConstraint("installation_id", "name"),
        *CatalogItem.search_indexes("steps"),
    )

    category: Mapped[str] = mapped_column(String(20), nullable=False)
    scope: Mapped[str] = mapped_column(Text, nullable=False)
    inputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    outputs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)


class TableRow(CatalogItem):
    __tablename__ = "tables"
    __table_args__ = (
        UniqueConstraint("installation_id", "name"),
        *CatalogItem.search_indexes("tables"),
    )

    extends: Mapped[str | None] = mapped_column(Text)


class ColumnRow(CatalogItem):
    """A column of a table. Searches are always scoped to one table's lineage, a few dozen
    rows the unique index finds; ranking those exactly beats an approximate HNSW scan that
    filters afterwards, and keeps bulk syncs free of index maintenance (see migration 0002).
    """

    __tablename__ = "columns"
    __table_args__ = (UniqueConstraint("installation_id", "table_name", "name"),)

    table_name: Mapped[str] = mapped_column(Text, nullable=False)
    type: Mapped[str] = mapped_column(String(20), nullable=False)
    reference: Mapped[str | None] = mapped_column(Text)


class ChoiceRow(CatalogItem):
    """A stored choice value of a column; `name` holds the value. Searched within one
    column only, so, like columns, without vector or full-text indexes."""

    __tablename__ = "choices"
    __table_args__ = (UniqueConstraint("installation_id", "table_name", "column_name", "name"),)

    table_name: Mapped[str] = mapped_column(Text, nullable=False)
    column_name: Mapped[str] = mapped_column(Text, nullable=False)
    position: Mapped[int] = mapped_column(BigInteger, nullable=False, default=0)


ITEM_MODELS: tuple[type[CatalogItem], ...] = (TriggerRow, StepRow, TableRow, ColumnRow, ChoiceRow)


class ExampleFlowRow(Base):
    """A solved flow shown to the model as an example: an installation's own flow
    (`installation_id` set) or one of the shared library (NULL), each found by the
    embedding of its requirement. `steps` and `tables` say where a shared flow may be
    offered: only where all of them exist."""

    __tablename__ = "example_flows"
    __table_args__ = (
        # One name per library; the shared library's NULL compared as a value.
        Index(
            "ux_example_flows_library_name",
            text("coalesce(installation_id, '')"),
            "name",
            unique=True,
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    installation_id: Mapped[str | None] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(Text, nullable=False)
    written_for: Mapped[str] = mapped_column(Text, nullable=False)  # the flow's installation
    requirement: Mapped[str] = mapped_column(Text, nullable=False)
    flow: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    steps: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    tables: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    # Searched exactly: a library holds thousands of flows, a scan of which costs about a
    # millisecond, and an approximate index would filter the library after ranking.
    embedding: Mapped[Any] = mapped_column(Vector(EMBEDDING_DIM), nullable=False)


class RunRow(Base):
    """One generation run (the trace header); its events are `RunEventRow`s."""

    __tablename__ = "runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    installation_id: Mapped[str] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    requirement: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # running|ok|invalid|...
    model: Mapped[str | None] = mapped_column(Text)
    adapter: Mapped[str | None] = mapped_column(Text)
    prompt_version: Mapped[str | None] = mapped_column(Text)
    started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), index=True
    )
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    model_calls: Mapped[int] = mapped_column(default=0)
    tokens_in: Mapped[int] = mapped_column(default=0)
    tokens_out: Mapped[int] = mapped_column(default=0)
    validator_rounds: Mapped[int] = mapped_column(default=0)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # flow, refusal, errors
    error: Mapped[str | None] = mapped_column(Text)


class RunEventRow(Base):
    """One thing that happened in a run: a node, a tool call, a model call, a validation."""

    __tablename__ = "run_events"
    __table_args__ = (UniqueConstraint("run_id", "seq"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(
        ForeignKey("runs.id", ondelete="CASCADE"), nullable=False, index=True
    )
    seq: Mapped[int] = mapped_column(nullable=False)
    node: Mapped[str | None] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(20), nullable=False)  # node|tool|model|validation
    name: Mapped[str] = mapped_column(Text, nullable=False)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=False)
    duration_ms: Mapped[float] = mapped_column(nullable=False)
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)


class ApiKeyRow(Base):
    """A key of the HTTP service. Only the SHA-256 of its secret is stored; the key is
    shown once, when created. No installation: an admin key."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)  # the key's public prefix
    secret_sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    installation_id: Mapped[str | None] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE")
    )
    label: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SyncJobRow(Base):
    """A catalog sync run in the background (large catalogs, `PUT .../catalog`)."""

    __tablename__ = "sync_jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    installation_id: Mapped[str] = mapped_column(
        ForeignKey("installations.id", ondelete="CASCADE"), nullable=False, index=True
    )
    status: Mapped[str] = mapped_column(String(20), nullable=False)  # queued|running|done|failed
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    error: Mapped[str | None] = mapped_column(Text)
