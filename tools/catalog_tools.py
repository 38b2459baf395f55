"""The retrieval tools the graph calls, each bound to one installation.

Results are plain JSON-ready dicts, small enough to put in a prompt: the model is only
ever offered names that exist in the installation's catalog.
"""

from __future__ import annotations

from typing import Any, Protocol

from langchain_core.tools import BaseTool, StructuredTool, ToolException

from flowgen.db.example_flows import FoundExample, mmr
from flowgen.db.models import ChoiceRow, ColumnRow, StepRow, TableRow, TriggerRow
from flowgen.db.search import Mode
from flowgen.db.store import CatalogStore, StoredCatalog, step_def, trigger_def
from flowgen.flow.catalog import CORE_SCOPE, CatalogView, Column, Param, StepDef, TriggerDef

MAX_K = 50
# Examples ranked first by similarity, from this many nearest, then picked for diversity.
EXAMPLE_POOL = 20
# An installation's own flow outranks a shared one this much less similar: it shows how
# this customer builds.
OWN_BONUS = 0.05
# An example whose requirement is much longer than the request (more words than this many
# times the request's, and more than EXAMPLE_WORDS_FLOOR) is shown only when too few
# others are at hand: a documentation-style flow of a hundred words adds about a hundred
# prompt tokens to every call of a one-line request and shows a shape it did not ask for.
EXAMPLE_LENGTH_RATIO = 2.5
EXAMPLE_WORDS_FLOOR = 40


def _param(p: Param) -> dict[str, Any]:
    out: dict[str, Any] = {"name": p.name, "type": p.type}
    if p.required:
        out["required"] = True
    if p.reference:
        out["reference"] = p.reference
    if p.table_input:
        out["table_input"] = p.table_input
    if p.choices:
        out["choices"] = [c.value for c in p.choices]
    return out


def _definition(d: TriggerDef | StepDef) -> dict[str, Any]:
    """A trigger or step as the model is shown it: names, types, what is required."""
    out: dict[str, Any] = {"name": d.name}
    if isinstance(d, StepDef):
        out.update(category=d.category, scope=d.scope)
    out.update(
        label=d.label,
        description=d.description,
        inputs=[_param(p) for p in d.inputs],
        outputs=[_param(p) for p in d.outputs],
    )
    return out


def _k(k: int) -> int:
    return max(1, min(int(k), MAX_K))


class CatalogTools:
    """Search and lookup over one installation; every query is scoped to it."""

    def __init__(self, store: CatalogStore, installation: str, mode: Mode = "hybrid"):
        store.require(installation)
        self.store = store
        self.installation = installation
        self.mode = mode

    def _require_table(self, table: str) -> list[str]:
        lineage = self.store.lineage(self.installation, table)
        if not lineage:
            raise ToolException(f"table {table!r} does not exist in {self.installation!r}")
        return lineage

    def search_steps(self, query: str, k: int = 10) -> list[dict[str, Any]]:
        """Actions and subflows of the installation that best match `query`."""
        hits = self.store.search(StepRow, self.installation, query, _k(k), mode=self.mode)
        return [{**_definition(step_def(r)), "score": round(s, 4)} for r, s in hits]

    def search_triggers(self, query: str, k: int = 5) -> list[dict[str, Any]]:
        """Trigger types that best match `query`."""
        hits = self.store.search(TriggerRow, self.installation, query, _k(k), mode=self.mode)
        return [{**_definition(trigger_def(r)), "score": round(s, 4)} for r, s in hits]

    def search_tables(self, query: str, k: int = 5) -> list[dict[str, Any]]:
        """Tables that best match `query` (`#incident` or "Incident table" mean that table)."""
        hits = self.store.search(TableRow, self.installation, query, _k(k), mode=self.mode)
        return [
            {
                "name": r.name,
                "label": r.label,
                "description": r.description,
                "extends": r.extends,
                "score": round(score, 4),
            }
            for r, score in hits
        ]

    def search_columns(self, table: str, query: str, k: int = 10) -> list[dict[str, Any]]:
        """Columns of `table`, including those it inherits, that best match `query`."""
        # The lineage is a subquery of the search: one round trip, not two.
        scope = [ColumnRow.table_name.in_(self.store.lineage_names(self.installation, table))]
        hits = self.store.search(ColumnRow, self.installation, query, _k(k), scope, self.mode)
        if not hits:
            self._require_table(table)  # no table, or one without matching columns
        return [
            {
                "name": r.name,
                "label": r.label,
                "type": r.type,
                "reference": r.reference,
                "table": r.table_name,
                "score": round(score, 4),
            }
            for r, score in hits
        ]

    def search_values(
        self, table: str, column: str, query: str, k: int = 10
    ) -> list[dict[str, Any]]:
        """Stored choice values of `table.column` that best match `query`."""
        owner = self.store.owner_of(self.installation, table, column)
        where = [ChoiceRow.table_name == owner, ChoiceRow.column_name == column]
        hits = self.store.search(ChoiceRow, self.installation, query, _k(k), where, self.mode)
        if not hits:  # say why: no table, no such column, or a column without values
            self._require_table(table)
            if self.store.column_owner(self.installation, table, column) is None:
                raise ToolException(f"table {table!r} has no column {column!r}")
        return [{"value": r.name, "label": r.label, "score": round(s, 4)} for r, s in hits]

    def embed_queries(self, steps: list[str] | None = None, others: list[str] | None = None) -> int:
        """Embed, up front, the queries of searches about to be made: `steps` for
        `search_steps`, `others` for the other searches. Each later search then finds its
        query's vector cached; returns how many were not cached yet."""
        queries = [(StepRow, q) for q in steps or []] + [(TableRow, q) for q in others or []]
        return self.store.embed_queries(queries) if self.mode != "fts" else 0

    def search_examples(
        self,
        query: str,
        k: int = 3,
        exclude: list[str] | None = None,
        exclude_above: float | None = None,
    ) -> list[dict[str, Any]]:
        """Solved flows like `query`: the installation's own and shared ones whose steps and
        tables exist here, the nearest first and diverse (MMR), none much longer than the
        request while enough others are at hand. `exclude` drops examples
        by name and `exclude_above` those at least this similar (training leaves a case
        and its near-copies out of its own prompt)."""
        return _shown(self._allowed_examples(query, exclude, exclude_above), query, k)

    def search_solved_flows(
        self,
        query: str,
        k: int = 3,
        exclude: list[str] | None = None,
        exclude_above: float | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        """From one search, what the graph shows of the solved flows like `query`:
        `examples`, the k flows `search_examples` gives, and `item_inputs`, the inputs
        every allowed nearby flow gave its trigger and steps, one entry per item with
        inputs ({definition, trigger, annotation, inputs, example}), nearest flow first.
        An inputs turn shows one of them (graph/input_examples.py)."""
        allowed = self._allowed_examples(query, exclude, exclude_above)
        return {"examples": _shown(allowed, query, k), "item_inputs": _item_inputs(allowed)}

    def _allowed_examples(
        self, query: str, exclude: list[str] | None, exclude_above: float | None
    ) -> list[FoundExample]:
        """The stored flows nearest `query` that may be shown here, less the excluded,
        scored with the own-flow bonus."""
        skip = set(exclude or [])
        # Training may leave out hundreds of flows (those of the case's own shape): the
        # pool grows by as many, so k others are still found.
        found = self.store.nearest_examples(self.installation, query, EXAMPLE_POOL + len(skip))
        kept = [
            e
            for e in found
            if e.name not in skip and (exclude_above is None or e.score < exclude_above)
        ]
        for e in kept:
            e.score += OWN_BONUS if e.own else 0.0
        return kept

    def list_names(self, kind: str) -> list[str]:
        """Every name of `kind` (triggers, steps, core_steps: the platform's own, or
        tables) in the installation."""
        models = {
            "triggers": TriggerRow,
            "steps": StepRow,
            "core_steps": StepRow,
            "tables": TableRow,
        }
        if kind not in models:
            raise ToolException(f"kind must be one of {sorted(models)}, not {kind!r}")
        return self.catalog().names(models[kind], CORE_SCOPE if kind == "core_steps" else None)

    def get_step(self, name: str) -> dict[str, Any] | None:
        """A step's full definition, or None."""
        step = self.store.step(self.installation, name)
        return _definition(step) if step else None

    def get_table(self, name: str) -> dict[str, Any] | None:
        """A table with all its columns (inherited ones too) and their choice values."""
        table = self.store.table(self.installation, name, columns=False)
        if table is None:
            return None
        columns = self.store.columns(self.installation, name)
        return {
            "name": table.name,
            "label": table.label,
            "description": table.description,
            "extends": table.extends,
            "columns": [
                {
                    "name": c.name,
                    "label": c.label,
                    "type": c.type,
                    "reference": c.reference,
                    "choices": [ch.value for ch in c.choices] if c.choices else None,
                }
                for c in columns
            ],
        }

    def catalog(self) -> StoredCatalog:
        """The installation's definitions, as the validator and the grammars read them."""
        return self.store.catalog(self.installation)

    def columns(self, table: str) -> list[Column]:
        """Every column of `table`, inherited ones included (its own first), with its
        stored choice values."""
        return self.catalog().columns(table)

    def as_langchain_tools(self) -> list[BaseTool]:
        functions = (
            self.search_steps,
            self.search_triggers,
            self.search_tables,
            self.search_columns,
            self.search_values,
            self.get_step,
            self.get_table,
            self.list_names,
            self.search_examples,
        )
        return [StructuredTool.from_function(f, handle_tool_error=True) for f in functions]


def _shown(allowed: list[FoundExample], query: str, k: int) -> list[dict[str, Any]]:
    """The k examples to show: diverse (MMR), of about the request's length where enough
    such are at hand."""
    k = max(0, min(int(k), MAX_K))
    limit = max(EXAMPLE_WORDS_FLOOR, EXAMPLE_LENGTH_RATIO * len(query.split()))
    fitting = [e for e in allowed if len(e.requirement.split()) <= limit]
    kept = fitting if len(fitting) >= k else allowed
    return [
        {
            "name": e.name,
            "requirement": e.requirement,
            "flow": e.flow,
            "own": e.own,
            "score": round(e.score, 4),
        }
        for e in mmr(kept, k)
    ]


def _item_inputs(allowed: list[FoundExample]) -> list[dict[str, Any]]:
    """Each item with inputs of the flows, nearest flow first."""
    entries: list[dict[str, Any]] = []
    for e in sorted(allowed, key=lambda e: -e.score):
        trigger = e.flow.get("trigger") or {}
        items = [(trigger, True)] if trigger.get("type") else []
        items += [(c, False) for c in e.flow.get("components", [])]
        for item, is_trigger in items:
            if item.get("inputs"):
                entries.append(
                    {
                        "definition": item["type"] if is_trigger else item["definition"],
                        "trigger": is_trigger,
                        "annotation": item.get("annotation") or "",
                        "inputs": item["inputs"],
                        "example": e.name,
                    }
                )
    return entries


class Tools(Protocol):
    """The tools as the graph and the prompt builders call them: `CatalogTools` itself,
    or `graph.tracing.TracedTools`, which records each call of a run."""

    def search_steps(self, query: str, k: int = 10) -> list[dict[str, Any]]: ...

    def search_triggers(self, query: str, k: int = 5) -> list[dict[str, Any]]: ...

    def search_tables(self, query: str, k: int = 5) -> list[dict[str, Any]]: ...

    def search_columns(self, table: str, query: str, k: int = 10) -> list[dict[str, Any]]: ...

    def embed_queries(
        self, steps: list[str] | None = None, others: list[str] | None = None
    ) -> int: ...

    def search_examples(
        self,
        query: str,
        k: int = 3,
        exclude: list[str] | None = None,
        exclude_above: float | None = None,
    ) -> list[dict[str, Any]]: ...

    def search_solved_flows(
        self,
        query: str,
        k: int = 3,
        exclude: list[str] | None = None,
        exclude_above: float | None = None,
    ) -> dict[str, list[dict[str, Any]]]: ...

    def list_names(self, kind: str) -> list[str]: ...

    def get_step(self, name: str) -> dict[str, Any] | None: ...

    def catalog(self) -> CatalogView: ...

    def columns(self, table: str) -> list[Column]: ...
