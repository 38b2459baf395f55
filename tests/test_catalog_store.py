"""The catalog store against a real embedded Postgres: sync semantics and isolation."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from conftest import REPO
from flows import flow, step
from sqlalchemy import select, text

from flowgen.db.models import ITEM_MODELS, ColumnRow, StepRow, TableRow, TriggerRow
from flowgen.db.search import CANDIDATES, fetch_in_order, rank_ids, ranked_rows
from flowgen.db.store import CatalogStore, UnknownInstallation
from flowgen.db.sync import sync_catalog
from flowgen.flow.catalog import Catalog, StepDef, parse_catalog
from flowgen.flow.validator import validate_flow
from flowgen.graph.tracing import RunTracer, TracedTools
from flowgen.tools.catalog_tools import CatalogTools

SMALL = {
    "triggers": [
        {
            "name": "record_create",
            "inputs": [{"name": "table", "type": "table"}],
            "outputs": [{"name": "current", "type": "record", "table_input": "table"}],
        }
    ],
    "steps": [
        {
            "name": "log",
            "label": "Log",
            "description": "Write to the flow log",
            "inputs": [{"name": "log_message", "type": "string", "required": True}],
        },
        {
            "name": "notify_plant_manager",
            "scope": "x_globex_ops",
            "label": "Notify Plant Manager",
            "description": "Page the manager of a manufacturing plant",
        },
    ],
    "tables": [
        {
            "name": "task",
            "label": "Task",
            "columns": [
                {"name": "state", "type": "choice", "choices": [{"value": "1", "label": "Open"}]}
            ],
        },
        {
            "name": "x_globex_plant",
            "label": "Plant",
            "extends": "task",
            "columns": [{"name": "output_tons", "label": "Output (tons)", "type": "integer"}],
        },
    ],
}


def small(installation: str, **changes) -> Catalog:
    return parse_catalog({"installation": installation, **SMALL, **changes})


def _plain(value: object) -> object:
    if isinstance(value, np.ndarray):
        return value.tobytes()
    if isinstance(value, list | dict):
        return json.dumps(value, sort_keys=True)
    return value


def snapshot(engine, installation: str) -> dict[str, list[tuple]]:
    """Every stored row of the installation, for row-by-row comparison."""
    with engine.connect() as conn:
        result = {}
        for model in ITEM_MODELS:
            cols = [c for c in model.__table__.columns if c.name not in ("search",)]
            rows = conn.execute(select(*cols).where(model.installation_id == installation)).all()
            result[model.__tablename__] = sorted(
                (tuple(_plain(v) for v in r) for r in rows), key=repr
            )
        return result


def test_store_round_trips_the_catalog_file(synced_store, catalog) -> None:
    assert synced_store.load_catalog("acme-itsm") == catalog
    # Every table's label, as the file's catalog and the stored view give it.
    assert synced_store.catalog("acme-itsm").table_labels() == catalog.table_labels()
    assert catalog.table_labels()["incident_task"] == "Incident Task"


def test_sync_is_idempotent(engine, embedder, catalog, synced_store) -> None:
    before = snapshot(engine, "acme-itsm")
    summary = sync_catalog(catalog, engine, embedder=embedder)
    assert summary.embedded == 0
    assert summary.total("unchanged") == sum(len(v) for v in before.values())
    assert summary.total("added") == summary.total("changed") == summary.total("removed") == 0
    assert snapshot(engine, "acme-itsm") == before


def test_incremental_update_and_removal(engine, embedder) -> None:
    sync_catalog(small("inc"), engine, embedder=embedder)
    steps = [
        *SMALL["steps"],
        {"name": "send_fax", "label": "Send Fax", "description": "Fax a document to a number"},
    ]
    steps[0] = {**steps[0], "description": "Write a line to the execution log"}
    tables = [SMALL["tables"][0]]  # the plant table (and its column) is gone
    summary = sync_catalog(small("inc", steps=steps, tables=tables), engine, embedder=embedder)
    c = summary.counts
    assert (c["steps"].added, c["steps"].changed, c["steps"].unchanged) == (1, 1, 1)
    assert (c["tables"].removed, c["columns"].removed) == (1, 1)
    assert summary.embedded == 2  # only the new and the changed step
    store = CatalogStore(engine, embedder)
    assert store.step("inc", "log").description == "Write a line to the execution log"
    assert store.table("inc", "x_globex_plant") is None
    tools = CatalogTools(store, "inc")
    assert tools.search_steps("fax the signed contract", k=1)[0]["name"] == "send_fax"


def test_catalog_lookups_last_until_the_next_sync(engine, embedder) -> None:
    """A process keeps one view of an installation's catalog across flows; a sync of it
    (from this process or another) is seen at the next `catalog()`."""
    sync_catalog(small("cached"), engine, embedder=embedder)
    store = CatalogStore(engine, embedder)
    view = store.catalog("cached")
    assert store.catalog("cached") is view
    assert [c.name for c in view.columns("x_globex_plant")] == ["output_tons", "state"]
    assert CatalogTools(store, "cached").list_names("steps") == ["log", "notify_plant_manager"]
    steps = [*SMALL["steps"], {"name": "send_fax", "description": "Fax a document"}]
    tables = [SMALL["tables"][0]]  # the plant table is gone
    sync_catalog(small("cached", steps=steps, tables=tables), engine, embedder=embedder)
    fresh = store.catalog("cached")
    assert fresh is not view
    assert fresh.table("x_globex_plant") is None and fresh.columns("x_globex_plant") == []
    assert "send_fax" in CatalogTools(store, "cached").list_names("steps")
    with pytest.raises(UnknownInstallation):
        store.catalog("never-synced")


def test_a_run_keeps_what_it_read_of_the_catalog(engine, embedder) -> None:
    """The tools a run's nodes get share the view the run started with: no revision
    query per node, and what the run already read (the outline's tables, a step's
    columns) does not change under a later node when a sync lands meanwhile."""
    sync_catalog(small("pinned"), engine, embedder=embedder)
    store = CatalogStore(engine, embedder)
    tools = CatalogTools(store, "pinned")
    run_catalog = tools.catalog()
    outline = TracedTools(tools, RunTracer(None, "run-1"), "outline", run_catalog)
    assert [c.name for c in outline.columns("x_globex_plant")] == ["output_tons", "state"]
    sync_catalog(small("pinned", tables=[SMALL["tables"][0]]), engine, embedder=embedder)
    assert tools.catalog().table("x_globex_plant") is None  # the store moved on
    inputs = TracedTools(tools, RunTracer(None, "run-1"), "inputs:1", run_catalog)
    assert inputs.catalog() is run_catalog
    assert [c.name for c in inputs.columns("x_globex_plant")] == ["output_tons", "state"]


def test_installations_are_isolated(engine, embedder, synced_store) -> None:
    sync_catalog(small("globex"), engine, embedder=embedder)
    acme, globex = CatalogTools(synced_store, "acme-itsm"), CatalogTools(synced_store, "globex")
    assert "notify_plant_manager" not in {s["name"] for s in acme.search_steps("plant manager", 50)}
    assert {s["name"] for s in globex.search_steps("create incident", 50)} == {
        "log",
        "notify_plant_manager",
    }
    assert globex.get_table("incident") is None and acme.get_table("incident") is not None
    with pytest.raises(UnknownInstallation, match="not in the catalog store"):
        CatalogTools(synced_store, "initech")


def test_failing_sync_leaves_the_installation_as_it_was(engine, embedder, catalog) -> None:
    sync_catalog(small("fail"), engine, embedder=embedder)
    before = snapshot(engine, "fail")

    class Exploding:
        model_id = embedder.model_id

        def encode(self, texts, progress=None):
            raise RuntimeError("embedding service died")

    changed = small("fail", steps=[{"name": "brand_new", "label": "Brand new"}], tables=[])
    with pytest.raises(RuntimeError, match="died"):
        sync_catalog(changed, engine, embedder=Exploding())
    assert snapshot(engine, "fail") == before


KILLED_SYNC = """
import sys, time
import flowgen.db.sync as sync_module
from flowgen.db.connection import get_engine
from flowgen.flow.catalog import load_catalog

real_insert = sync_module.insert

def stalled_insert(model):
    # Reached after this kind's stale rows were deleted, before anything is committed.
    print("writing", flush=True)
    time.sleep(60)
    return real_insert(model)

sync_module.insert = stalled_insert
catalog = load_catalog(sys.argv[1]).model_copy(update={"installation": "killed"})
sync_module.sync_catalog(catalog, get_engine())
"""


def test_killed_sync_leaves_the_installation_as_it_was(engine, embedder, tmp_path) -> None:
    sync_catalog(small("killed"), engine, embedder=embedder)
    before = snapshot(engine, "killed")
    proc = subprocess.Popen(
        [sys.executable, "-c", KILLED_SYNC, str(REPO / "catalogs" / "acme-itsm.yaml")],
        stdout=subprocess.PIPE,
        text=True,
        env=os.environ.copy(),
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "writing"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait(timeout=30)
    time.sleep(0.5)  # the server notices the dropped connection and rolls back
    assert snapshot(engine, "killed") == before


def test_concurrent_syncs_serialize(engine, embedder) -> None:
    a = small("race", steps=[{"name": f"a_step_{i}", "label": f"A {i}"} for i in range(30)])
    b = small("race", steps=[{"name": f"b_step_{i}", "label": f"B {i}"} for i in range(30)])
    errors: list[BaseException] = []

    def run(cat: Catalog) -> None:
        try:
            sync_catalog(cat, engine, embedder=embedder)
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(c,)) for c in (a, b, a, b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    stored = CatalogStore(engine, embedder).load_catalog("race")
    assert stored in (a, b)  # one whole version, never a mix


def test_malformed_file_is_rejected_before_any_write(engine, synced_store, tmp_path) -> None:
    before = snapshot(engine, "acme-itsm")
    text = (REPO / "catalogs" / "acme-itsm.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace(
            "{name: table, type: table, required: true}",
            "{name: table, type: tabel, required: true}",
            2,
        ).replace("extends: task", "extends: tsk", 1)
    )
    result = subprocess.run(
        [sys.executable, "-m", "flowgen", "catalog", "sync", str(bad)],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ.copy(),
    )
    assert result.returncode == 2
    assert "triggers[0].inputs[0].type: unknown type 'tabel'" in result.stderr
    assert "triggers[1].inputs[0].type: unknown type 'tabel'" in result.stderr
    assert snapshot(engine, "acme-itsm") == before


def test_validator_runs_against_the_store(synced_store) -> None:
    view = synced_store.catalog("acme-itsm")
    text = (REPO / "examples" / "reassign_inactive_user_incidents.json").read_text()
    assert validate_flow(text, view).ok
    bad = flow(step(1, "look_up_record", table="incidnet"), step(2, "teleport"))
    assert {e.code for e in validate_flow(bad, view).errors} == {"unknown_table", "unknown_step"}


def test_exact_names_and_labels_come_first(synced_store) -> None:
    tools = CatalogTools(synced_store, "acme-itsm")
    assert tools.search_tables("#incident", 1)[0]["name"] == "incident"
    assert tools.search_tables("Incident table", 1)[0]["name"] == "incident"
    assert tools.search_tables("Requested Item", 1)[0]["name"] == "sc_req_item"
    assert tools.search_steps("Look Up Records", 1)[0]["name"] == "look_up_records"


def test_columns_follow_extends_and_values_are_stored_choices(synced_store) -> None:
    tools = CatalogTools(synced_store, "acme-itsm")
    names = {c["name"] for c in tools.search_columns("incident", "assignment group", 10)}
    assert "assignment_group" in names  # defined on task, inherited by incident
    assert tools.search_values("incident", "state", "resolved", 1)[0]["value"] == "6"
    assert tools.search_values("incident", "priority", "critical", 1)[0]["value"] == "1"
    with pytest.raises(Exception, match="no column 'colour'"):
        tools.search_values("incident", "colour", "red")


def test_langchain_tools(synced_store) -> None:
    tools = {t.name: t for t in CatalogTools(synced_store, "acme-itsm").as_langchain_tools()}
    assert set(tools) == {
        "search_steps",
        "search_triggers",
        "search_tables",
        "search_columns",
        "search_values",
        "get_step",
        "get_table",
        "list_names",
        "search_examples",
    }
    assert "incident" in tools["list_names"].invoke({"kind": "tables"})
    assert "must be one of" in tools["list_names"].invoke({"kind": "robots"})
    hits = tools["search_steps"].invoke({"query": "create a Jira bug", "k": 3})
    assert hits[0]["name"] == "create_issue" and hits[0]["scope"] == "sn_jira_spoke"
    # A bad argument is an answer the model can read, not an exception in the graph.
    assert "does not exist" in tools["search_columns"].invoke({"table": "nope", "query": "x"})
    step = tools["get_step"].invoke({"name": "update_record"})
    assert StepDef.model_validate({**step, "inputs": [], "outputs": []}).name == "update_record"


RANKED_QUERIES = [
    "find all incidents assigned to them",
    "set the incident to resolved",
    "#incident",
    "Look Up Records",
    "email the caller's manager",
    "when a P1 incident is created",
    "!!!",
]


def test_an_installation_beside_a_larger_one_keeps_its_nearest_items(
    engine, embedder, synced_store
) -> None:
    """The vector ranker is exact over the installation's own items whatever plan the
    database picks. Walking the HNSW index (what the planner chose on stale statistics),
    the old query took the index's nearest rows of all installations and filtered them
    afterwards: beside 300 approval steps of another installation, acme-itsm's search for
    an approval got none of its own. `enable_sort = off` makes the planner walk the index
    wherever it can."""
    crowd = [
        {
            "name": f"ask_approval_{i}",
            "label": f"Ask For Approval {i}",
            "description": f"Ask the system owner to approve request {i}",
        }
        for i in range(300)
    ]
    sync_catalog(small("crowded", steps=crowd), engine, embedder=embedder)
    query = "get approval from the system owner"
    embedded, _ = synced_store.query_text(StepRow, query)
    vector = embedder.encode([embedded])[0]
    with synced_store.session() as s, s.begin():
        own = s.execute(
            select(StepRow.id, StepRow.embedding).where(StepRow.installation_id == "acme-itsm")
        ).all()
        distance = {
            i: 1 - float(np.dot(e, vector) / np.linalg.norm(e) / np.linalg.norm(vector))
            for i, e in own
        }
        exact = sorted(distance, key=lambda i: (round(distance[i], 6), i))[:CANDIDATES]
        s.execute(text("SET LOCAL enable_sort = off"))
        found = [
            i for i, _ in rank_ids(s, StepRow, "acme-itsm", query, vector, CANDIDATES, [], "vector")
        ]
    assert len(found) == min(CANDIDATES, len(own))
    assert set(found) == set(exact)


@pytest.mark.parametrize("mode", ["hybrid", "vector", "fts"])
def test_one_statement_ranks_as_the_per_ranker_queries(synced_store, mode) -> None:
    """`ranked_rows` (one SQL statement) gives exactly the rows and scores of `rank_ids`
    (one query per ranker, fused in Python), including ties and empty full-text queries."""
    store = synced_store
    for model, where in (
        (StepRow, []),
        (TriggerRow, []),
        (TableRow, []),
        (ColumnRow, [ColumnRow.table_name.in_(store.lineage_names("acme-itsm", "incident"))]),
    ):
        for query in RANKED_QUERIES:
            embedded, implied = store.query_text(model, query)
            vector = store.embedder.encode([embedded])[0]
            with store.session() as s, s.begin():
                ids = rank_ids(s, model, "acme-itsm", query, vector, 20, where, mode, implied)
                expected = [(r.name, round(x, 9)) for r, x in fetch_in_order(s, model, ids)]
                rows = ranked_rows(s, model, "acme-itsm", query, vector, 20, where, mode, implied)
                got = [(r.name, round(x, 9)) for r, x in rows]
            assert got == expected, (model, query)


def test_query_embeddings_are_cached_and_embedded_up_front(engine, embedder, synced_store) -> None:
    store = CatalogStore(engine, embedder)
    tools = CatalogTools(store, "acme-itsm")
    embedder.clear_query_cache()
    queries = ["reassign the incident to the manager", "email the caller"]
    fresh = embedder.encode_queries(queries)
    alone = np.vstack([embedder.encode([q]) for q in queries])
    assert np.allclose(fresh, alone, atol=1e-6)  # each query's vector as if alone
    misses = embedder.query_misses
    again = embedder.encode_queries([queries[1], queries[0], queries[1]])
    assert embedder.query_misses == misses and np.array_equal(again[1], fresh[0])
    # A flow embeds its queries up front; its searches then embed nothing.
    embedder.clear_query_cache()
    # "reassign ..." gets the lexicon's "update record" as a step query; "email" gets none.
    assert tools.embed_queries(steps=queries, others=queries) == 3
    misses = embedder.query_misses
    first = tools.search_steps(queries[0], 5)
    tools.search_tables(queries[0], 3)
    tools.search_columns("incident", queries[1], 3)
    assert embedder.query_misses == misses
    embedder.clear_query_cache()
    assert tools.search_steps(queries[0], 5) == first  # the cache changes no result


def test_query_cache_forgets_the_least_recently_used(embedder, monkeypatch) -> None:
    from flowgen.db import embedder as embedder_module

    monkeypatch.setattr(embedder_module, "QUERY_CACHE", 2)
    embedder.clear_query_cache()
    embedder.encode_queries(["a", "b"])
    embedder.encode_queries(["a", "c"])  # "a" was used last, so "b" goes
    misses = embedder.query_misses
    embedder.encode_queries(["a", "c"])
    assert embedder.query_misses == misses
    embedder.encode_queries(["b"])
    assert embedder.query_misses == misses + 1


def test_scoped_searches_name_what_is_missing(engine, embedder) -> None:
    """Column and value searches find their lineage inside the search statement; an empty
    answer is explained by the table or column that does not exist."""
    sync_catalog(small("scoped"), engine, embedder=embedder)
    tools = CatalogTools(CatalogStore(engine, embedder), "scoped")
    assert tools.search_columns("x_globex_plant", "state", 5)[0] == {
        "name": "state",
        "label": None,
        "type": "choice",
        "reference": None,
        "table": "task",  # inherited
        "score": pytest.approx(1.0, abs=0.1),
    }
    assert tools.search_values("x_globex_plant", "state", "open", 1)[0]["value"] == "1"
    assert tools.search_values("x_globex_plant", "output_tons", "ten") == []  # no values
    assert tools.store.lineage("scoped", "x_globex_plant") == ["x_globex_plant", "task"]
    assert tools.store.column_owner("scoped", "x_globex_plant", "state") == "task"
    with pytest.raises(Exception, match="does not exist"):
        tools.search_columns("x_plant", "state")
    with pytest.raises(Exception, match="does not exist"):
        tools.search_values("x_plant", "state", "open")
    with pytest.raises(Exception, match="no column 'colour'"):
        tools.search_values("x_globex_plant", "colour", "red")


def test_a_current_store_is_checked_without_alembic(engine) -> None:
    """get_engine compares the store's revision with SCHEMA_REVISION, which must be
    Alembic's head; a process whose store is current never imports Alembic."""
    from flowgen.db.migrate import SCHEMA_REVISION, current_revision, head_revision

    assert head_revision() == SCHEMA_REVISION
    assert current_revision(engine) == SCHEMA_REVISION
    check = (
        "import sys; from flowgen.db.connection import get_engine; get_engine(); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'alembic'))"
    )
    out = subprocess.run(
        [sys.executable, "-c", check], capture_output=True, text=True, env=os.environ, timeout=120
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"
