"""Reading the catalog store: installations, lookups by name, and hybrid search.

`CatalogStore.catalog(installation)` is a `CatalogView`, so the validator runs against
the database exactly as against a catalog file. Its lookups are cached for as long as
the installation's catalog stays the one synced (its revision: the catalog's content
hash and sync time), across the nodes and flows of a process: a flow looked up the same
tables, columns and names in every node, about 40 round trips (docs/catalog_store.md).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property, lru_cache
from typing import Any

from sqlalchemy import CTE, ColumnElement, Engine, ScalarSelect, Select, func, literal, select
from sqlalchemy.orm import Session, aliased, defer

from flowgen.db.embedder import Embedder, default_embedder
from flowgen.db.example_flows import (
    ExampleFlow,
    FlowLibraryError,
    FlowSyncSummary,
    FoundExample,
    check_flows,
    library_counts,
    nearest_examples,
    reembed_example_flows,
    sync_example_flows,
)
from flowgen.db.lexicon import expansion
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
from flowgen.db.search import Mode, ranked_rows
from flowgen.flow.catalog import (
    Catalog,
    CatalogView,
    Choice,
    Column,
    Param,
    StepDef,
    Table,
    TriggerDef,
)

MAX_LINEAGE = 64  # `extends` hops followed; a cycle stops here and is cut like a repeat


def lineage_cte(installation: str, table: str) -> CTE:
    """`table` and the tables it extends with their distance from it (0 for itself), as a
    recursive query, so that a search scoped to a lineage needs no round trip of its own."""
    chain = (
        select(TableRow.name, TableRow.extends, literal(0).label("depth"))
        .where(TableRow.installation_id == installation, TableRow.name == table)
        .cte("lineage", recursive=True)
    )
    parent = aliased(TableRow)
    return chain.union_all(
        select(parent.name, parent.extends, chain.c.depth + 1)
        .join(chain, parent.name == chain.c.extends)
        .where(parent.installation_id == installation, chain.c.depth < MAX_LINEAGE)
    )


def owner_select(installation: str, table: str, column: str) -> Select[Any]:
    """The nearest table in `table`'s lineage that defines `column`."""
    chain = lineage_cte(installation, table)
    return (
        select(ColumnRow.table_name)
        .join(chain, ColumnRow.table_name == chain.c.name)
        .where(ColumnRow.installation_id == installation, ColumnRow.name == column)
        .order_by(chain.c.depth)
        .limit(1)
    )


class UnknownInstallation(LookupError):
    def __init__(self, installation: str):
        super().__init__(
            f"installation {installation!r} is not in the catalog store; "
            "sync its catalog first (`flowgen catalog sync CATALOG.yaml`)"
        )
        self.installation = installation


@dataclass(frozen=True)
class InstallationInfo:
    id: str
    synced_at: datetime | None
    source: str | None
    counts: dict[str, int]


def trigger_def(row: TriggerRow) -> TriggerDef:
    return TriggerDef(
        name=row.name,
        label=row.label,
        description=row.description,
        inputs=[Param(**p) for p in row.inputs],
        outputs=[Param(**p) for p in row.outputs],
    )


def step_def(row: StepRow) -> StepDef:
    return StepDef(
        name=row.name,
        label=row.label,
        description=row.description,
        category=row.category,
        scope=row.scope,
        inputs=[Param(**p) for p in row.inputs],
        outputs=[Param(**p) for p in row.outputs],
    )


def _column(row: ColumnRow, choices: list[ChoiceRow]) -> Column:
    return Column(
        name=row.name,
        label=row.label,
        description=row.description,
        type=row.type,
        reference=row.reference,
        choices=[Choice(value=c.name, label=c.label) for c in choices] or None,
    )


class CatalogStore:
    def __init__(
        self, engine: Engine | None = None, embedder: Embedder | None = None, lexicon: bool = True
    ):
        self._engine = engine
        self._embedder = embedder
        self.lexicon = lexicon  # expand step queries with implied record operations
        self._catalogs: dict[str, StoredCatalog] = {}
        self._catalogs_lock = threading.Lock()

    @cached_property
    def engine(self) -> Engine:
        if self._engine is None:
            from flowgen.db.connection import get_engine

            self._engine = get_engine()
        return self._engine

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    def session(self) -> Session:
        return Session(self.engine)

    @cached_property
    def _autocommit(self) -> Engine:
        return self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def reader(self) -> Session:
        """A session for lookups and searches: each statement on its own, without the
        BEGIN and ROLLBACK round trips of a transaction (on a busy 2-core machine every
        round trip waits for the scheduler)."""
        return Session(self._autocommit)

    # -- installations -------------------------------------------------------------------
    def installations(self, only: str | None = None) -> list[InstallationInfo]:
        """Every installation with its item counts (or just `only`)."""
        with self.session() as s:
            counts: dict[str, dict[str, int]] = {}
            for model in ITEM_MODELS:
                query = select(model.installation_id, func.count()).group_by(model.installation_id)
                if only is not None:
                    query = query.where(model.installation_id == only)
                for inst, n in s.execute(query):
                    counts.setdefault(inst, {})[model.__tablename__] = n
            installations = select(Installation).order_by(Installation.id)
            if only is not None:
                installations = installations.where(Installation.id == only)
            rows = s.scalars(installations).all()
            return [
                InstallationInfo(r.id, r.synced_at, r.source, counts.get(r.id, {})) for r in rows
            ]

    def exists(self, installation: str) -> bool:
        with self.reader() as s:
            return s.get(Installation, installation) is not None

    def require(self, installation: str) -> None:
        if not self.exists(installation):
            raise UnknownInstallation(installation)

    def revision(self, installation: str) -> tuple[str | None, datetime | None]:
        """What changes whenever the installation's catalog is synced: its content hash
        and sync time. Raises `UnknownInstallation`."""
        with self.reader() as s:
            row = s.execute(
                select(Installation.catalog_hash, Installation.synced_at).where(
                    Installation.id == installation
                )
            ).first()
        if row is None:
            raise UnknownInstallation(installation)
        return row.catalog_hash, row.synced_at

    def catalog(self, installation: str) -> StoredCatalog:
        """The installation's catalog, its lookups cached until the next sync of it (one
        query checks which revision is stored)."""
        revision = self.revision(installation)
        with self._catalogs_lock:
            cached = self._catalogs.get(installation)
            if cached is None or cached.revision != revision:
                cached = StoredCatalog(self, installation, revision)
                self._catalogs[installation] = cached
            return cached

    # -- lookups -------------------------------------------------------------------------
    def trigger(self, installation: str, name: str) -> TriggerDef | None:
        row = self._by_name(TriggerRow, installation, name)
        return trigger_def(row) if row else None

    def step(self, installation: str, name: str) -> StepDef | None:
        row = self._by_name(StepRow, installation, name)
        return step_def(row) if row else None

    def table(self, installation: str, name: str, columns: bool = True) -> Table | None:
        """The table with its own columns (`columns=False`: without them)."""
        row = self._by_name(TableRow, installation, name)
        if row is None:
            return None
        return Table(
            name=row.name,
            label=row.label,
            description=row.description,
            extends=row.extends,
            columns=[col for _, col in self._columns_of([row.name], installation)]
            if columns
            else [],
        )

    def lineage(self, installation: str, table: str) -> list[str]:
        """`table` and the tables it extends, nearest first."""
        chain = lineage_cte(installation, table)
        with self.reader() as s:
            names = s.scalars(select(chain.c.name).order_by(chain.c.depth)).all()
        return list(dict.fromkeys(names))  # a cycle repeats its tables: keep the first

    def lineage_names(self, installation: str, table: str) -> Select[Any]:
        """The names of `lineage(installation, table)` as a subquery, for a search's scope."""
        return select(lineage_cte(installation, table).c.name)

    def owner_of(self, installation: str, table: str, column: str) -> ScalarSelect[Any]:
        """`column_owner` as a scalar subquery, for a search's scope."""
        return owner_select(installation, table, column).scalar_subquery()

    def columns(self, installation: str, table: str) -> list[Column]:
        """Columns of `table` and the tables it extends (its own first)."""
        seen: dict[str, Column] = {}
        for _, col in self._columns_of(self.lineage(installation, table), installation):
            seen.setdefault(col.name, col)
        return list(seen.values())

    def column_owner(self, installation: str, table: str, column: str) -> str | None:
        """The table in `table`'s lineage that defines `column`."""
        with self.reader() as s:
            return s.scalars(owner_select(installation, table, column)).first()

    def names(
        self, model: type[CatalogItem], installation: str, scope: str | None = None
    ) -> list[str]:
        """Every name of one kind of item (steps, tables, ...) of the installation; with
        `scope`, only the steps of that scope."""
        query = select(model.name).where(model.installation_id == installation)
        if scope is not None:
            if model is not StepRow:
                raise ValueError(f"only steps have a scope, not {model.__tablename__}")
            query = query.where(StepRow.scope == scope)
        with self.reader() as s:
            return list(s.scalars(query.order_by(model.name)).all())

    def table_labels(self, installation: str) -> dict[str, str | None]:
        """Every table's label by its name, in one query."""
        query = select(TableRow.name, TableRow.label).where(
            TableRow.installation_id == installation
        )
        with self.reader() as s:
            return {name: label for name, label in s.execute(query.order_by(TableRow.name))}

    def steps(self, installation: str) -> list[StepDef]:
        """Every step of the installation, in name order."""
        with self.reader() as s:
            rows = s.scalars(
                select(StepRow)
                .where(StepRow.installation_id == installation)
                .options(defer(StepRow.embedding), defer(StepRow.search))
                .order_by(StepRow.name)
            ).all()
            return [step_def(r) for r in rows]

    def load_catalog(self, installation: str) -> Catalog:
        """The whole installation as a catalog model (as the file that was synced)."""
        self.require(installation)
        with self.session() as s:
            triggers = [trigger_def(r) for r in self._all(s, TriggerRow, installation)]
            steps = [step_def(r) for r in self._all(s, StepRow, installation)]
            tables = list(self._all(s, TableRow, installation))
        by_table: dict[str, list[Column]] = {}
        for table_name, col in self._columns_of([t.name for t in tables], installation):
            by_table.setdefault(table_name, []).append(col)
        return Catalog(
            installation=installation,
            triggers=triggers,
            steps=steps,
            tables=[
                Table(
                    name=t.name,
                    label=t.label,
                    description=t.description,
                    extends=t.extends,
                    columns=by_table.get(t.name, []),
                )
                for t in tables
            ],
        )

    def _all(self, s: Session, model: type[CatalogItem], installation: str) -> Sequence[Any]:
        query = (
            select(model)
            .where(model.installation_id == installation)
            .options(defer(model.embedding), defer(model.search))
            .order_by(model.id)
        )
        return s.scalars(query).all()

    def _by_name(self, model: type[CatalogItem], installation: str, name: str) -> Any:
        with self.reader() as s:
            return s.scalars(
                select(model)
                .where(model.installation_id == installation, model.name == name)
                .options(defer(model.embedding), defer(model.search))
            ).first()

    def _columns_of(self, tables: list[str], installation: str) -> list[tuple[str, Column]]:
        """(table, column) for every column of these tables, tables in the order given."""
        with self.reader() as s:
            cols = s.scalars(
                select(ColumnRow)
                .where(ColumnRow.installation_id == installation, ColumnRow.table_name.in_(tables))
                .options(defer(ColumnRow.embedding), defer(ColumnRow.search))
                .order_by(ColumnRow.id)
            ).all()
            choices: dict[tuple[str, str], list[ChoiceRow]] = {}
            for c in s.scalars(
                select(ChoiceRow)
                .where(ChoiceRow.installation_id == installation, ChoiceRow.table_name.in_(tables))
                .options(defer(ChoiceRow.embedding), defer(ChoiceRow.search))
                .order_by(ChoiceRow.position, ChoiceRow.id)
            ):
                choices.setdefault((c.table_name, c.column_name), []).append(c)
        order = {t: i for i, t in enumerate(tables)}
        cols = sorted(cols, key=lambda c: order[c.table_name])
        return [(c.table_name, _column(c, choices.get((c.table_name, c.name), []))) for c in cols]

    # -- example flows -------------------------------------------------------------------
    def sync_flows(
        self, library: str | None, flows: list[ExampleFlow], source: str = "flows"
    ) -> FlowSyncSummary:
        """Make one library (an installation's own flows, or the shared one for None) hold
        exactly `flows`; every flow is checked first against the catalog it is written for,
        and any problem raises FlowLibraryError with nothing changed."""
        if library is not None:
            self.require(library)
            foreign = sorted({f.written_for for f in flows} - {library})
            if foreign:
                raise FlowLibraryError(
                    source, [f"flows written for {foreign} cannot join {library!r}'s library"]
                )
        catalogs: dict[str, CatalogView] = {
            i: self.catalog(i) for i in {f.written_for for f in flows} if self.exists(i)
        }
        problems = check_flows(flows, catalogs, source)
        if problems:
            raise FlowLibraryError(source, problems)
        with self.engine.begin() as conn:
            return sync_example_flows(conn, library, flows, self.embedder)

    def reembed_flows(self) -> list[FlowSyncSummary]:
        """Every stored example flow embedded again with this store's encoder (after the
        retriever changed: query and stored vectors must come from one encoder)."""
        with self.engine.begin() as conn:
            return reembed_example_flows(conn, self.embedder)

    def flow_counts(self) -> dict[str, int]:
        with self.engine.connect() as conn:
            return library_counts(conn)

    def nearest_examples(self, installation: str, query: str, n: int) -> list[FoundExample]:
        """The `n` stored examples nearest to `query` that may be shown in `installation`."""
        vector = self.embedder.encode_queries([query])[0]
        with self.reader() as s:
            names = set(self.names(TriggerRow, installation)) | set(
                self.names(StepRow, installation)
            )
            tables = set(self.names(TableRow, installation))
            return nearest_examples(s, installation, vector, n, names, tables)

    # -- search --------------------------------------------------------------------------
    def query_text(self, model: type[CatalogItem], query: str) -> tuple[str, str]:
        """What is embedded for `query` and the record operations it implies."""
        # Steps only: requirements leave the record operation implicit (db/lexicon.py).
        implied = expansion(query) if model is StepRow and self.lexicon else ""
        return (f"{query} ({implied})" if implied else query), implied

    def embed_queries(self, queries: Sequence[tuple[type[CatalogItem], str]]) -> int:
        """Embed up front the queries searches are about to make (model, query), so
        that each search finds its vector cached; returns how many were new."""
        texts = list(dict.fromkeys(self.query_text(model, q)[0] for model, q in queries))
        before = self.embedder.query_misses
        self.embedder.encode_queries(texts)
        return self.embedder.query_misses - before

    def search(
        self,
        model: type[CatalogItem],
        installation: str,
        query: str,
        k: int,
        where: Sequence[ColumnElement[bool]] = (),
        mode: Mode = "hybrid",
    ) -> list[tuple[Any, float]]:
        embedded, implied = self.query_text(model, query)
        vector = self.embedder.encode_queries([embedded])[0] if mode != "fts" else None
        with self.reader() as s:
            rows = ranked_rows(s, model, installation, query, vector, k, where, mode, implied)
            s.expunge_all()
            return rows


class StoredCatalog:
    """A `CatalogView` over one revision of an installation in the store; lookups are
    cached (what they return is shared: read it, do not change it)."""

    def __init__(
        self, store: CatalogStore, installation: str, revision: tuple[str | None, datetime | None]
    ):
        self.store = store
        self._installation = installation
        self.revision = revision
        self.trigger = lru_cache(maxsize=256)(self._trigger)
        self.step = lru_cache(maxsize=1024)(self._step)
        self.table = lru_cache(maxsize=1024)(self._table)
        self.lineage = lru_cache(maxsize=1024)(self._lineage)
        self._columns = lru_cache(maxsize=1024)(self._columns_by_name)
        self._names = lru_cache(maxsize=8)(self._names_of)

    @property
    def installation(self) -> str:
        return self._installation

    def _trigger(self, name: str) -> TriggerDef | None:
        return self.store.trigger(self._installation, name)

    def _step(self, name: str) -> StepDef | None:
        return self.store.step(self._installation, name)

    def _table(self, name: str) -> Table | None:
        return self.store.table(self._installation, name)

    def _lineage(self, table: str) -> list[str]:
        return self.store.lineage(self._installation, table)

    def _columns_by_name(self, table: str) -> dict[str, Column]:
        return {c.name: c for c in self.store.columns(self._installation, table)}

    def _names_of(self, model: type[CatalogItem], scope: str | None) -> tuple[str, ...]:
        return tuple(self.store.names(model, self._installation, scope))

    def column(self, table: str, name: str) -> Column | None:
        return self._columns(table).get(name)

    def columns(self, table: str) -> list[Column]:
        """Columns of `table` and the tables it extends (its own first)."""
        return list(self._columns(table).values())

    def names(self, model: type[CatalogItem], scope: str | None = None) -> list[str]:
        """Every name of one kind of item, sorted; with `scope`, the steps of that scope."""
        return list(self._names(model, scope))

    @cached_property
    def steps(self) -> list[StepDef]:
        """Every step of the installation, in name order."""
        return self.store.steps(self._installation)

    @cached_property
    def _table_labels(self) -> dict[str, str | None]:
        return self.store.table_labels(self._installation)

    def table_labels(self) -> dict[str, str | None]:
        return self._table_labels
