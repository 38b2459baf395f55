"""Example flows in the store: sync a library (one installation's own flows, or the shared
one) and find the flows nearest to a requirement.

A sync makes the stored library equal to the given flows: every flow is validated first
(each failure named with its path and problem, and then nothing changes), only new or
changed flows are embedded, and deletes and inserts run in one transaction under an
advisory lock on the library, like a catalog sync (db/sync.py).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Connection, delete, func, insert, or_, select, text
from sqlalchemy.orm import Session

from flowgen.db.embedder import Embedder
from flowgen.db.models import ExampleFlowRow
from flowgen.flow.catalog import Catalog, CatalogError, CatalogFlow, CatalogView, flow_problems
from flowgen.flow.flowlogic import FLOW_LOGIC
from flowgen.flow.model import Component, Flow, Trigger
from flowgen.flow.parsing import describe_validation_error

SHARED = None  # the shared library's installation_id


class FlowLibraryError(CatalogError):
    """Flows that cannot be synced; `problems` names each by its path and problem."""


@dataclass(frozen=True)
class ExampleFlow:
    """A solved requirement and the installation whose catalog its flow is written in."""

    name: str
    written_for: str
    requirement: str
    flow: dict[str, Any]


@dataclass
class FlowSyncSummary:
    library: str  # an installation id, or "shared"
    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    embedded: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class FoundExample:
    """One retrieved example: its flow, whether it is the installation's own, and its
    cosine similarity to the query."""

    name: str
    requirement: str
    flow: dict[str, Any]
    own: bool
    score: float
    vector: np.ndarray = field(repr=False)


def uses(flow: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The catalog steps and the tables a flow names (flow logic is everyone's)."""
    parsed = Flow.model_validate(flow)
    steps = sorted(
        {c.definition for c in parsed.components if c.definition not in FLOW_LOGIC}
        | ({parsed.trigger_type} if parsed.trigger_type else set())
    )
    tables: set[str] = set()
    items: list[Trigger | Component] = (
        [parsed.trigger, *parsed.components] if parsed.trigger else [*parsed.components]
    )
    for item in items:
        for i in item.inputs:
            if i.name in ("table", "table_name") and i.value and "{{" not in i.value:
                tables.add(i.value)
    return steps, sorted(tables)


def check_flows(
    flows: list[ExampleFlow], catalogs: dict[str, CatalogView], source: str
) -> list[str]:
    """Every problem of `flows`, each against the catalog of the installation it is written
    for: an unknown installation, a duplicate name, a flow that is not valid there."""
    problems: list[str] = []
    by_installation: dict[str, list[tuple[int, ExampleFlow]]] = {}
    names: set[str] = set()
    for i, f in enumerate(flows):
        if f.name in names:
            problems.append(f"{source}[{i}] ({f.name}).name: duplicate name {f.name!r}")
        names.add(f.name)
        by_installation.setdefault(f.written_for, []).append((i, f))
    for installation, items in by_installation.items():
        catalog = catalogs.get(installation)
        if catalog is None:
            problems += [
                f"{source}[{i}] ({f.name}): installation {installation!r} is not synced"
                for i, f in items
            ]
            continue
        for i, f in items:
            found = flow_problems(
                catalog, [CatalogFlow(name=f.name, requirement=f.requirement, flow=f.flow)], source
            )
            problems += [p.replace(f"{source}[0]", f"{source}[{i}]", 1) for p in found]
    return problems


def _hash(embedder: Embedder, f: ExampleFlow) -> str:
    payload = json.dumps([embedder.model_id, f.written_for, f.requirement, f.flow], sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def sync_example_flows(
    conn: Connection,
    library: str | None,
    flows: Iterable[ExampleFlow],
    embedder: Embedder,
) -> FlowSyncSummary:
    """Make `library` (an installation id, or SHARED) hold exactly `flows`, inside the
    caller's transaction. The flows must already be checked (`check_flows`)."""
    wanted = {f.name: f for f in flows}
    summary = FlowSyncSummary(library or "shared")
    conn.execute(
        text("SELECT pg_advisory_xact_lock(hashtextextended(:id, 1))"),
        {"id": f"example_flows:{library or ''}"},
    )
    owner = (
        ExampleFlowRow.installation_id.is_(None)
        if library is None
        else ExampleFlowRow.installation_id == library
    )
    stored = conn.execute(
        select(ExampleFlowRow.id, ExampleFlowRow.name, ExampleFlowRow.content_hash).where(owner)
    ).all()
    hashes = {name: _hash(embedder, f) for name, f in wanted.items()}
    to_delete, keep = [], set()
    for row in stored:
        if row.name not in wanted:
            summary.removed += 1
            to_delete.append(row.id)
        elif hashes[row.name] != row.content_hash:
            summary.changed += 1
            to_delete.append(row.id)
        else:
            summary.unchanged += 1
            keep.add(row.name)
    new = [f for name, f in wanted.items() if name not in keep]
    summary.added = len(new) - summary.changed
    vectors: list[np.ndarray] = list(embedder.encode([f.requirement for f in new])) if new else []
    summary.embedded = len(new)
    if to_delete:
        conn.execute(delete(ExampleFlowRow).where(ExampleFlowRow.id.in_(to_delete)))
    rows = []
    for f, vector in zip(new, vectors, strict=True):
        steps, tables = uses(f.flow)
        rows.append(
            {
                "installation_id": library,
                "name": f.name,
                "written_for": f.written_for,
                "requirement": f.requirement,
                "flow": f.flow,
                "steps": steps,
                "tables": tables,
                "content_hash": hashes[f.name],
                "embedding": vector,
            }
        )
    for start in range(0, len(rows), 1000):
        conn.execute(insert(ExampleFlowRow), rows[start : start + 1000])
    return summary


def nearest_examples(
    session: Session,
    installation: str,
    vector: np.ndarray,
    n: int,
    steps: set[str],
    tables: set[str],
) -> list[FoundExample]:
    """The `n` examples most similar to `vector` among the installation's own flows and
    the shared flows whose steps and tables all exist in the installation."""
    distance = ExampleFlowRow.embedding.cosine_distance(vector)
    query = (
        select(ExampleFlowRow, distance.label("distance"))
        .where(
            or_(
                ExampleFlowRow.installation_id == installation,
                ExampleFlowRow.installation_id.is_(None)
                & ExampleFlowRow.steps.contained_by(sorted(steps))
                & ExampleFlowRow.tables.contained_by(sorted(tables)),
            )
        )
        .order_by(distance)
        .limit(n)
    )
    return [
        FoundExample(
            name=row.name,
            requirement=row.requirement,
            flow=row.flow,
            own=row.installation_id == installation,
            score=1.0 - float(d),
            vector=np.asarray(row.embedding, dtype=np.float32),
        )
        for row, d in session.execute(query).all()
    ]


def reembed_example_flows(conn: Connection, embedder: Embedder) -> list[FlowSyncSummary]:
    """Every library again, as stored, with `embedder`: vectors of the encoder that now
    embeds the queries (`flowgen train-retriever`), inside the caller's transaction."""
    rows = conn.execute(
        select(
            ExampleFlowRow.installation_id,
            ExampleFlowRow.name,
            ExampleFlowRow.written_for,
            ExampleFlowRow.requirement,
            ExampleFlowRow.flow,
        ).order_by(ExampleFlowRow.id)
    ).all()
    libraries: dict[str | None, list[ExampleFlow]] = {}
    for row in rows:
        libraries.setdefault(row.installation_id, []).append(
            ExampleFlow(row.name, row.written_for, row.requirement, row.flow)
        )
    return [
        sync_example_flows(conn, library, flows, embedder) for library, flows in libraries.items()
    ]


def library_counts(conn: Connection) -> dict[str, int]:
    """Flows per library ("shared" for the shared one)."""
    rows = conn.execute(
        select(ExampleFlowRow.installation_id, func.count()).group_by(
            ExampleFlowRow.installation_id
        )
    ).all()
    return {(inst or "shared"): n for inst, n in rows}


def mmr(found: list[FoundExample], k: int, diversity: float = 0.3) -> list[FoundExample]:
    """Maximal marginal relevance: each pick trades similarity to the query against
    similarity to the picks before it, so three near-copies do not fill the prompt."""
    chosen: list[FoundExample] = []
    rest = list(found)
    while rest and len(chosen) < k:

        def gain(e: FoundExample) -> float:
            redundancy = max((float(e.vector @ c.vector) for c in chosen), default=0.0)
            return (1 - diversity) * e.score - diversity * redundancy

        best = max(rest, key=gain)
        chosen.append(best)
        rest.remove(best)
    return chosen


def read_flow_file(path: Path, catalogs: Callable[[str], Catalog | None]) -> list[ExampleFlow]:
    """The solved flows of one file, in any of the forms we read:
    - a case file (spec §6, `.jsonl`): every case with a flow;
    - a hand-written source file (`installation`, `cases` in the authoring format);
    - a flows file (`.yaml`/`.json`): `installation` and `flows: [{name, requirement or
      description, flow}]`, the `flows:` list of a catalog file.
    `catalogs` looks up an installation's catalog (authoring-format flows need it)."""
    from flowgen.training.cases import CaseSourceError, authored_cases, read_cases

    source = str(path)
    if not path.is_file():
        raise FlowLibraryError(source, ["(root): no such file"])
    try:
        if path.suffix.lower() == ".jsonl":
            return [
                ExampleFlow(c.id, c.installation, c.requirement, c.flow)
                for c in read_cases([path])
                if c.flow
            ]
        text = path.read_text(encoding="utf-8")
        data = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except (ValueError, yaml.YAMLError, CaseSourceError) as exc:
        raise FlowLibraryError(source, [" ".join(str(exc).split())]) from None
    if not isinstance(data, dict) or not isinstance(data.get("installation"), str):
        raise FlowLibraryError(source, ["(root): a mapping with `installation` and `flows`"])
    installation = data["installation"]
    if "cases" in data:
        catalog = catalogs(installation)
        if catalog is None:
            raise FlowLibraryError(source, [f"installation {installation!r} is not synced"])
        try:
            cases = authored_cases(path, {installation: catalog})
        except CaseSourceError as exc:
            raise FlowLibraryError(source, exc.problems) from None
        return [ExampleFlow(c.id, c.installation, c.requirement, c.flow) for c in cases if c.flow]
    try:
        items = TypeAdapter(list[CatalogFlow]).validate_python(data.get("flows") or [])
    except ValidationError as err:
        raise FlowLibraryError(source, describe_validation_error(err, "flows")) from None
    return [
        ExampleFlow(f.name or f"flows[{i}]", installation, f.requirement, f.flow)
        for i, f in enumerate(items)
    ]
