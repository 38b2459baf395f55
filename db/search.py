"""Hybrid retrieval over one kind of catalog item: exact names first, then vector
similarity and Postgres full-text search fused by reciprocal rank fusion.

`ranked_rows` does it all in one SQL statement (the rankers as subqueries, the fusion in
SQL, the rows joined): one round trip per search instead of five. `rank_ids` is the same
ranking in Python, one query per ranker, kept as the reference the tests compare with.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np
from sqlalchemy import (
    ColumnElement,
    Float,
    Numeric,
    Select,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session, defer

from flowgen.db.models import CatalogItem

Mode = Literal["hybrid", "vector", "fts"]
RRF_K = 60  # the usual constant of reciprocal rank fusion
CANDIDATES = 50  # per ranker, before fusion
EXACT_BONUS = 1.0  # larger than any fused score, so exact matches come first
# Fused scores are compared at this precision: SQL adds a row's shares in any order, and
# the last bits of 1/61 + 1/62 must not decide a tie that the id breaks.
SCORE_DIGITS = 12
_FILLER = re.compile(r"\s+(table|tables|record|records|step|action|field|column)$")


def name_variants(query: str) -> list[str]:
    """What a user may type for a name: `#incident`, `Incident table`, `look up records`."""
    q = " ".join(query.strip().lower().split())
    q = q.lstrip("#").strip(" '\"`")
    base = _FILLER.sub("", q)
    variants = {q, base, q.replace(" ", "_"), base.replace(" ", "_")}
    return sorted(v for v in variants if v)


def tsquery_text(query: str) -> str | None:
    """Words OR-ed together: an annotation is a sentence, not a list of required terms."""
    words = re.findall(r"[a-z0-9]+", query.lower().replace("_", " "))
    return " | ".join(dict.fromkeys(words)) or None


def nearest(
    model: type[CatalogItem], scope: Sequence[ColumnElement[bool]], query_vector: np.ndarray
) -> Select[Any]:
    """(id, distance) of the `CANDIDATES` items in `scope` nearest to `query_vector`, exactly.

    The installation's rows are taken first (a materialized CTE the planner cannot look
    through), then ordered by distance. Ordered by distance over the whole table, the
    planner may walk the HNSW index instead: it yields the `hnsw.ef_search` nearest rows
    of every installation and filters afterwards, so an installation beside a larger one
    got no vector hits at all (acme-itsm's 84 steps beside a 2,000-step installation: 0
    of 50), depending on the planner's statistics of the moment. An installation's steps,
    tables or triggers number thousands at most, which an exact scan orders in
    milliseconds."""
    scoped = (
        select(model.id, model.embedding).where(*scope).cte("scoped").prefix_with("MATERIALIZED")
    )
    distance = scoped.c.embedding.cosine_distance(query_vector).label("distance")
    return select(scoped.c.id, distance).order_by(distance, scoped.c.id).limit(CANDIDATES)


def rank_ids(
    session: Session,
    model: type[CatalogItem],
    installation: str,
    query: str,
    query_vector: np.ndarray | None,
    k: int,
    where: Sequence[ColumnElement[bool]] = (),
    mode: Mode = "hybrid",
    implied: str = "",
) -> list[tuple[int, float]]:
    """Ids of the `k` best items with their fused scores, best first.

    `implied` (the record operations the query's verbs imply, `db/lexicon.py`) is added to the
    full-text query; it is meant for steps, whose generic core actions name no object.
    """
    scope = [model.installation_id == installation, *where]
    scores: dict[int, float] = {}

    def fuse(ids: list[int]) -> None:
        for rank, item_id in enumerate(ids):
            scores[item_id] = scores.get(item_id, 0.0) + 1.0 / (RRF_K + rank + 1)

    if mode in ("hybrid", "vector") and query_vector is not None:
        fuse([item_id for item_id, _ in session.execute(nearest(model, scope, query_vector))])
    tsq = tsquery_text(f"{query} {implied}")
    if mode in ("hybrid", "fts") and tsq:
        q = func.to_tsquery("english", tsq)
        fts = (
            select(model.id)
            .where(*scope, model.search.op("@@")(q))
            .order_by(func.ts_rank_cd(model.search, q).desc(), model.id)
            .limit(CANDIDATES)
        )
        fuse(list(session.scalars(fts)))
    if mode == "hybrid":
        variants = name_variants(query)
        exact = select(model.id).where(
            *scope, or_(func.lower(model.name).in_(variants), func.lower(model.label).in_(variants))
        )
        for item_id in session.scalars(exact):
            scores[item_id] = scores.get(item_id, 0.0) + EXACT_BONUS
    # Rounded as in `ranked_statement`, so equal sums added in another order still tie.
    return sorted(scores.items(), key=lambda kv: (-round(kv[1], SCORE_DIGITS), kv[0]))[:k]


def fetch_in_order(
    session: Session, model: type[CatalogItem], ranked: list[tuple[int, float]]
) -> list[tuple[Any, float]]:
    """The ranked rows themselves (without their vectors), in rank order."""
    if not ranked:
        return []
    ids = [i for i, _ in ranked]
    query = (
        select(model).where(model.id.in_(ids)).options(defer(model.embedding), defer(model.search))
    )
    rows = {row.id: row for row in session.scalars(query)}
    return [(rows[i], score) for i, score in ranked]


def ranked_rows(
    session: Session,
    model: type[CatalogItem],
    installation: str,
    query: str,
    query_vector: np.ndarray | None,
    k: int,
    where: Sequence[ColumnElement[bool]] = (),
    mode: Mode = "hybrid",
    implied: str = "",
) -> list[tuple[Any, float]]:
    """The `k` best rows (without their vectors) with their fused scores, best first: the
    ranking of `rank_ids` in a single statement."""
    statement = ranked_statement(model, installation, query, query_vector, k, where, mode, implied)
    if statement is None:
        return []
    return [(row, float(score)) for row, score in session.execute(statement)]


def ranked_statement(
    model: type[CatalogItem],
    installation: str,
    query: str,
    query_vector: np.ndarray | None,
    k: int,
    where: Sequence[ColumnElement[bool]] = (),
    mode: Mode = "hybrid",
    implied: str = "",
) -> Select[Any] | None:
    scope = [model.installation_id == installation, *where]
    parts: list[Select[Any]] = []

    def rrf(ordered: Select[Any], *order: str) -> Select[Any]:
        """Each id of a ranker's top list with its reciprocal-rank share (`order`: the
        names of the labelled columns it is ordered by)."""
        ranked = ordered.subquery()
        position = func.row_number().over(order_by=[ranked.c[o] for o in order] + [ranked.c.id])
        return select(ranked.c.id, (1.0 / (RRF_K + position)).label("score"))

    if mode in ("hybrid", "vector") and query_vector is not None:
        parts.append(rrf(nearest(model, scope, query_vector), "distance"))
    tsq = tsquery_text(f"{query} {implied}")
    if mode in ("hybrid", "fts") and tsq:
        q = func.to_tsquery("english", tsq)
        # Negated so that both rankers order ascending in `rrf`.
        rank = (-func.ts_rank_cd(model.search, q)).label("neg_rank")
        matches = (
            select(model.id, rank)
            .where(*scope, model.search.op("@@")(q))
            .order_by(rank, model.id)
            .limit(CANDIDATES)
        )
        parts.append(rrf(matches, "neg_rank"))
    if mode == "hybrid":
        variants = name_variants(query)
        exact = or_(func.lower(model.name).in_(variants), func.lower(model.label).in_(variants))
        parts.append(
            select(model.id, literal(EXACT_BONUS, Float).label("score")).where(*scope, exact)
        )
    if not parts:
        return None
    shares = union_all(*parts).subquery()
    fused = (
        select(
            shares.c.id,
            func.round(func.sum(shares.c.score).cast(Numeric), SCORE_DIGITS).label("score"),
        )
        .group_by(shares.c.id)
        .subquery()
    )
    return (
        select(model, fused.c.score)
        .join(fused, model.id == fused.c.id)
        .options(defer(model.embedding), defer(model.search))
        .order_by(fused.c.score.desc(), model.id)
        .limit(k)
    )
