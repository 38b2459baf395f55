"""The catalog of one installation (spec §3): models, file loading and lookups.

The validator and the generator only need lookups (`CatalogView`), so the same rules run
against a catalog read from a file here and against the Postgres store later.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from flowgen.flow.parsing import describe_validation_error

ParamType = Literal[
    "string",
    "integer",
    "boolean",
    "datetime",
    "duration",
    "table",
    "condition",
    "values",
    "record",
    "records",
    "reference",
    "choice",
    "array",
]

MAX_CATALOG_BYTES = 200_000_000


class CatalogError(ValueError):
    """A catalog file that cannot be used; `problems` names every bad field by its path."""

    def __init__(self, source: str, problems: list[str]):
        self.source = source
        self.problems = problems
        shown = "\n".join(f"  {p}" for p in problems[:50])
        more = f"\n  ... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__(f"{source}: {len(problems)} problem(s)\n{shown}{more}")


class _Strict(BaseModel):
    # Catalogs are written by people: a misspelt key (`requried`) must be reported, not ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Strict):
    """A stored value and its label; a plain string or number (`choices: [low, high]`,
    the usual YAML shorthand) is both."""

    value: str
    label: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_scalar(cls, data: Any) -> Any:
        if isinstance(data, str) or (isinstance(data, int) and not isinstance(data, bool)):
            return {"value": str(data), "label": str(data)}
        return data


class Param(_Strict):
    """An input or output of a trigger or step."""

    name: str
    type: ParamType
    label: str | None = None
    description: str | None = None
    required: bool = False
    reference: str | None = None
    choices: list[Choice] | None = None
    table_input: str | None = None


class TriggerDef(_Strict):
    name: str
    label: str | None = None
    description: str | None = None
    inputs: list[Param] = Field(default_factory=list)
    outputs: list[Param] = Field(default_factory=list)

    def input(self, name: str) -> Param | None:
        return next((p for p in self.inputs if p.name == name), None)

    def output(self, name: str) -> Param | None:
        return next((p for p in self.outputs if p.name == name), None)


# The platform's own steps (look up, create, update, email, ...); spokes and custom apps
# have scopes of their own.
CORE_SCOPE = "global"


class StepDef(TriggerDef):
    category: Literal["action", "subflow"] = "action"
    scope: str = CORE_SCOPE


class Column(_Strict):
    name: str
    label: str | None = None
    type: ParamType = "string"
    description: str | None = None
    reference: str | None = None
    choices: list[Choice] | None = None

    def choice_values(self) -> set[str] | None:
        return {c.value for c in self.choices} if self.choices else None


class Table(_Strict):
    name: str
    label: str | None = None
    description: str | None = None
    extends: str | None = None
    columns: list[Column] = Field(default_factory=list)


class CatalogView(Protocol):
    """What the validator and generator need from an installation's catalog."""

    @property
    def installation(self) -> str: ...

    def trigger(self, name: str) -> TriggerDef | None: ...

    def step(self, name: str) -> StepDef | None: ...

    @property
    def steps(self) -> list[StepDef]:
        """Every step of the installation."""
        ...

    def table(self, name: str) -> Table | None: ...

    def table_labels(self) -> dict[str, str | None]:
        """Every table's label by its name (what a span may name a table by)."""
        ...

    def lineage(self, table: str) -> list[str]:
        """`table` and the tables it extends, nearest first."""
        ...

    def column(self, table: str, name: str) -> Column | None:
        """A column of `table` or of a table it extends."""
        ...

    def columns(self, table: str) -> list[Column]:
        """All columns of `table`, its own first, then inherited ones it does not override."""
        ...


def related_tables(catalog: CatalogView, table: str, other: str) -> bool:
    """Whether a record of `table` may be one of `other`: one of them extends the other
    (a task may be an incident at run time). A table the catalog lacks is itself only."""
    return other in {table, *catalog.lineage(table)} or table in {other, *catalog.lineage(other)}


class CatalogFlow(_Strict):
    """A flow the installation already has: the generator's best guide to how this
    customer builds (shown as an example for requirements like its own)."""

    name: str | None = None  # unique within the file; defaults to flows[i]
    requirement: str = Field(min_length=1)  # or `description`, as platforms call it
    flow: dict[str, Any]

    @model_validator(mode="before")
    @classmethod
    def _description_is_requirement(cls, data: Any) -> Any:
        if isinstance(data, dict) and "requirement" not in data and "description" in data:
            data = {**data, "requirement": data["description"]}
            del data["description"]
        return data


class Catalog(_Strict):
    installation: str
    triggers: list[TriggerDef] = Field(default_factory=list)
    steps: list[StepDef] = Field(default_factory=list)
    tables: list[Table] = Field(default_factory=list)
    # None: the file says nothing of flows and a sync leaves the stored ones alone.
    flows: list[CatalogFlow] | None = None

    @cached_property
    def _triggers(self) -> dict[str, TriggerDef]:
        return {t.name: t for t in self.triggers}

    @cached_property
    def _steps(self) -> dict[str, StepDef]:
        return {s.name: s for s in self.steps}

    @cached_property
    def _tables(self) -> dict[str, Table]:
        return {t.name: t for t in self.tables}

    @cached_property
    def _columns(self) -> dict[str, dict[str, Column]]:
        return {t.name: {c.name: c for c in t.columns} for t in self.tables}

    def trigger(self, name: str) -> TriggerDef | None:
        return self._triggers.get(name)

    def step(self, name: str) -> StepDef | None:
        return self._steps.get(name)

    def table(self, name: str) -> Table | None:
        return self._tables.get(name)

    def table_labels(self) -> dict[str, str | None]:
        return {t.name: t.label for t in self.tables}

    def lineage(self, table: str) -> list[str]:
        """`table` and the tables it extends, nearest first (cycles cut)."""
        chain: list[str] = []
        current: str | None = table
        while current and current in self._tables and current not in chain:
            chain.append(current)
            current = self._tables[current].extends
        return chain

    def column(self, table: str, name: str) -> Column | None:
        for t in self.lineage(table):
            col = self._columns[t].get(name)
            if col is not None:
                return col
        return None

    def columns(self, table: str) -> list[Column]:
        """All columns of `table`, its own first, then inherited ones it does not override."""
        seen: dict[str, Column] = {}
        for t in self.lineage(table):
            for col in self._tables[t].columns:
                seen.setdefault(col.name, col)
        return list(seen.values())


def catalog_problems(catalog: Catalog) -> list[str]:
    """Cross-reference problems pydantic cannot see: duplicates and dangling names."""
    problems: list[str] = []
    tables = {t.name for t in catalog.tables}

    def check_unique(items: list[Any], path: str) -> None:
        seen: set[str] = set()
        for i, item in enumerate(items):
            if item.name in seen:
                problems.append(f"{path}[{i}].name: duplicate name {item.name!r}")
            seen.add(item.name)

    def check_params(params: list[Param], path: str) -> None:
        check_unique(params, path)
        names = {p.name: p for p in params}
        for i, p in enumerate(params):
            if p.reference and p.reference not in tables:
                problems.append(f"{path}[{i}].reference: unknown table {p.reference!r}")
            if p.table_input and p.table_input not in names:
                problems.append(f"{path}[{i}].table_input: no input named {p.table_input!r}")

    check_unique(catalog.triggers, "triggers")
    check_unique(catalog.steps, "steps")
    check_unique(catalog.tables, "tables")
    for kind, defs in (("triggers", catalog.triggers), ("steps", catalog.steps)):
        for i, d in enumerate(defs):
            check_params(d.inputs, f"{kind}[{i}].inputs")
            # An output's table_input names one of the step's *inputs*.
            input_names = {p.name for p in d.inputs}
            for j, out in enumerate(d.outputs):
                if out.table_input and out.table_input not in input_names:
                    problems.append(
                        f"{kind}[{i}].outputs[{j}].table_input: no input named {out.table_input!r}"
                    )
                if out.reference and out.reference not in tables:
                    problems.append(
                        f"{kind}[{i}].outputs[{j}].reference: unknown table {out.reference!r}"
                    )
    for i, t in enumerate(catalog.tables):
        check_unique(t.columns, f"tables[{i}].columns")
        if t.extends and t.extends not in tables:
            problems.append(f"tables[{i}].extends: unknown table {t.extends!r}")
        elif t.extends and t.name in catalog.lineage(t.extends):
            problems.append(f"tables[{i}].extends: {t.name!r} extends itself through {t.extends!r}")
        for j, col in enumerate(t.columns):
            if col.type == "reference" and not col.reference:
                problems.append(
                    f"tables[{i}].columns[{j}].reference: a reference column names its table"
                )
            if col.reference and col.reference not in tables:
                problems.append(
                    f"tables[{i}].columns[{j}].reference: unknown table {col.reference!r}"
                )
            if col.type == "choice" and not col.choices:
                problems.append(
                    f"tables[{i}].columns[{j}].choices: a choice column lists its choices"
                )
    if not problems:  # a flow is checked against a catalog without dangling names
        problems += flow_problems(catalog, catalog.flows or [], "flows")
    return problems


def flow_problems(catalog: CatalogView, flows: list[CatalogFlow], path: str) -> list[str]:
    """Each flow that is not valid in `catalog`, named by its path, id and problem."""
    from flowgen.flow.validator import validate_flow

    problems: list[str] = []
    seen: set[str] = set()
    for i, item in enumerate(flows):
        name = item.name or f"{path}[{i}]"
        where = f"{path}[{i}] ({name})"
        if name in seen:
            problems.append(f"{where}.name: duplicate name {name!r}")
        seen.add(name)
        report = validate_flow(item.flow, catalog, stage="full")
        problems += [f"{where}.flow: {e}" for e in report.errors]
    return problems


def parse_catalog(data: Any, source: str = "catalog") -> Catalog:
    """Validate decoded catalog data; raise CatalogError naming *every* problem."""
    if not isinstance(data, dict):
        raise CatalogError(source, [f"(root): a catalog is a mapping, got {type(data).__name__}"])
    try:
        catalog = Catalog.model_validate(data)
    except ValidationError as err:
        raise CatalogError(source, describe_validation_error(err)) from None
    problems = catalog_problems(catalog)
    if problems:
        raise CatalogError(source, problems)
    return catalog


def load_catalog(path: str | Path) -> Catalog:
    """Read a catalog from a `.yaml`/`.yml` or `.json` file."""
    path = Path(path)
    source = str(path)
    if not path.is_file():
        raise CatalogError(source, ["(root): no such file"])
    if path.stat().st_size > MAX_CATALOG_BYTES:
        raise CatalogError(
            source, [f"(root): file is over the {MAX_CATALOG_BYTES // 10**6} MB limit"]
        )
    text = path.read_text(encoding="utf-8")
    try:
        if path.suffix.lower() == ".json":
            data = json.loads(text)
        else:
            data = yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (ValueError, yaml.YAMLError, RecursionError) as exc:
        detail = str(exc).replace("\n", " ")
        raise CatalogError(
            source, [f"(root): not valid {path.suffix.lstrip('.')}: {detail}"]
        ) from None
    return parse_catalog(data, source)
