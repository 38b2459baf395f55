"""Sync one installation's catalog file into the store: incremental, atomic, serialised.

Every item gets a content hash (its values, its embedding text and the embedding model);
a sync diffs the file's keys and hashes against the stored ones, embeds only what is new
or changed, and applies deletes and inserts in one transaction. The transaction first
takes an advisory lock on the installation, so two syncs of the same installation run
one after the other, and a sync that fails or is killed leaves the installation as it was.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, delete, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from flowgen.db.embedder import Embedder, default_embedder
from flowgen.db.example_flows import ExampleFlow, FlowSyncSummary, sync_example_flows
from flowgen.db.models import (
    ITEM_MODELS,
    CatalogItem,
    ChoiceRow,
    ColumnRow,
    Installation,
    StepRow,
    TableRow,
    TriggerRow,
)
from flowgen.flow.catalog import Catalog, Param, load_catalog

Key = tuple[str, ...]
CHUNK = 1000


@dataclass
class Item:
    """One row to be: its natural key, column values and the text that is embedded."""

    key: Key
    values: dict[str, Any]
    embed_text: str
    content_hash: str = ""


@dataclass
class KindCounts:
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0


@dataclass
class SyncSummary:
    installation: str
    counts: dict[str, KindCounts] = field(default_factory=dict)
    embedded: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    flows: FlowSyncSummary | None = None  # when the file lists the installation's flows

    def total(self, attr: str) -> int:
        return sum(getattr(c, attr) for c in self.counts.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "installation": self.installation,
            **{a: self.total(a) for a in ("added", "changed", "removed", "unchanged")},
            "by_kind": {k: vars(c) for k, c in self.counts.items()},
            "embedded": self.embedded,
            "seconds": round(self.seconds, 3),
            "embed_seconds": round(self.embed_seconds, 3),
            **({"flows": self.flows.as_dict()} if self.flows else {}),
        }


def _params(params: list[Param]) -> list[dict[str, Any]]:
    return [p.model_dump(exclude_none=True) for p in params]


def _described(label: str | None, name: str, description: str | None) -> str:
    head = label or name.replace("_", " ")
    return f"{head}: {description}" if description else head


def catalog_items(catalog: Catalog) -> dict[type[CatalogItem], dict[Key, Item]]:
    """The rows a catalog file describes, by model and natural key."""
    items: dict[type[CatalogItem], dict[Key, Item]] = {m: {} for m in ITEM_MODELS}
    for t in catalog.triggers:
        items[TriggerRow][(t.name,)] = Item(
            (t.name,),
            {
                "name": t.name,
                "label": t.label,
                "description": t.description,
                "inputs": _params(t.inputs),
                "outputs": _params(t.outputs),
            },
            _described(t.label, t.name, t.description),
        )
    for s in catalog.steps:
        spoke = f" ({s.scope})" if s.scope != "global" else ""
        items[StepRow][(s.name,)] = Item(
            (s.name,),
            {
                "name": s.name,
                "label": s.label,
                "description": s.description,
                "category": s.category,
                "scope": s.scope,
                "inputs": _params(s.inputs),
                "outputs": _params(s.outputs),
            },
            _described(s.label, s.name, s.description) + spoke,
        )
    for table in catalog.tables:
        table_label = table.label or table.name
        items[TableRow][(table.name,)] = Item(
            (table.name,),
            {
                "name": table.name,
                "label": table.label,
                "description": table.description,
                "extends": table.extends,
            },
            f"{table_label} ({table.name}) table: {table.description or ''}".rstrip(": "),
        )
        for col in table.columns:
            ref = f", a reference to {col.reference}" if col.reference else ""
            items[ColumnRow][(table.name, col.name)] = Item(
                (table.name, col.name),
                {
                    "table_name": table.name,
                    "name": col.name,
                    "label": col.label,
                    "description": col.description,
                    "type": col.type,
                    "reference": col.reference,
                },
                f"{col.label or col.name} ({col.name}), {col.type} field of {table_label}{ref}",
            )
            for position, choice in enumerate(col.choices or []):
                about = f"{col.label or col.name} of {table_label}"
                items[ChoiceRow][(table.name, col.name, choice.value)] = Item(
                    (table.name, col.name, choice.value),
                    {
                        "table_name": table.name,
                        "column_name": col.name,
                        "name": choice.value,
                        "label": choice.label,
                        "description": about,
                        "position": position,
                    },
                    f"{choice.label or choice.value} ({choice.value}): {about}",
                )
    return items


def _hash(model_id: str, item: Item) -> str:
    payload = json.dumps([model_id, item.values, item.embed_text], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _key_columns(model: type[CatalogItem]) -> list[Any]:
    if model is ColumnRow:
        return [ColumnRow.table_name, ColumnRow.name]
    if model is ChoiceRow:
        return [ChoiceRow.table_name, ChoiceRow.column_name, ChoiceRow.name]
    return [model.name]


def _chunks(values: list[Any]) -> Iterator[list[Any]]:
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def sync_catalog(
    catalog: Catalog,
    engine: Engine,
    *,
    embedder: Embedder | None = None,
    source: str | None = None,
    on_embed_start: Callable[[int], None] | None = None,
    on_embedded: Callable[[int], None] | None = None,
) -> SyncSummary:
    """Make the stored installation equal to `catalog`, or leave it untouched on failure."""
    embedder = embedder or default_embedder()
    started = time.perf_counter()
    summary = SyncSummary(catalog.installation)
    wanted = catalog_items(catalog)
    for by_key in wanted.values():
        for item in by_key.values():
            item.content_hash = _hash(embedder.model_id, item)
    with engine.begin() as conn:
        _lock_installation(conn, catalog.installation)
        conn.execute(
            pg_insert(Installation)
            .values(id=catalog.installation)
            .on_conflict_do_nothing(index_elements=["id"])
        )
        plans = {m: _plan(conn, m, catalog.installation, wanted[m]) for m in ITEM_MODELS}
        to_embed = [item for plan in plans.values() for item in plan.to_insert]
        if on_embed_start:
            on_embed_start(len(to_embed))
        t0 = time.perf_counter()
        vectors = embedder.encode([i.embed_text for i in to_embed], progress=on_embedded)
        summary.embed_seconds = time.perf_counter() - t0
        summary.embedded = len(to_embed)
        vector_of = {id(item): vectors[n] for n, item in enumerate(to_embed)}
        for model, plan in plans.items():
            for ids in _chunks(plan.to_delete):
                conn.execute(delete(model).where(model.id.in_(ids)))
            rows = [
                {
                    **item.values,
                    "installation_id": catalog.installation,
                    "content_hash": item.content_hash,
                    "embedding": vector_of[id(item)],
                }
                for item in plan.to_insert
            ]
            for chunk in _chunks(rows):
                conn.execute(insert(model), chunk)
            summary.counts[model.__tablename__] = plan.counts
        if catalog.flows is not None:  # checked against this catalog by parse_catalog
            flows = [
                ExampleFlow(f.name or f"flows[{i}]", catalog.installation, f.requirement, f.flow)
                for i, f in enumerate(catalog.flows)
            ]
            summary.flows = sync_example_flows(conn, catalog.installation, flows, embedder)
        conn.execute(
            update(Installation)
            .where(Installation.id == catalog.installation)
            .values(synced_at=func.now(), source=source, catalog_hash=_catalog_hash(wanted))
        )
    summary.seconds = time.perf_counter() - started
    return summary


def sync_file(path: str | Path, engine: Engine, **kwargs: Any) -> SyncSummary:
    """Validate the whole file first (every problem is reported), then sync it."""
    catalog = load_catalog(path)
    return sync_catalog(catalog, engine, source=str(path), **kwargs)


def _lock_installation(conn: Connection, installation: str) -> None:
    # Transaction-scoped: released at commit or rollback, even if the process dies.
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:id, 0))"), {"id": installation}
    )


@dataclass
class _Plan:
    to_delete: list[int]
    to_insert: list[Item]
    counts: KindCounts


def _plan(
    conn: Connection, model: type[CatalogItem], installation: str, wanted: dict[Key, Item]
) -> _Plan:
    keys = _key_columns(model)
    stored = conn.execute(
        select(model.id, model.content_hash, *keys).where(model.installation_id == installation)
    ).all()
    counts = KindCounts()
    to_delete: list[int] = []
    seen: set[Key] = set()
    for row in stored:
        key = tuple(row[2:])
        item = wanted.get(key)
        if item is None:
            counts.removed += 1
            to_delete.append(row.id)
        elif item.content_hash != row.content_hash:
            counts.changed += 1
            to_delete.append(row.id)  # replaced below by the new version
        else:
            counts.unchanged += 1
            seen.add(key)
    counts.added = len(wanted) - counts.unchanged - counts.changed
    to_insert = [item for key, item in wanted.items() if key not in seen]
    return _Plan(to_delete, to_insert, counts)


def _catalog_hash(wanted: dict[type[CatalogItem], dict[Key, Item]]) -> str:
    digest = hashlib.sha256()
    for model in ITEM_MODELS:
        for key in sorted(wanted[model]):
            digest.update(wanted[model][key].content_hash.encode())
    return digest.hexdigest()
