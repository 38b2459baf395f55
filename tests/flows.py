"""Small builders for flow dicts, so each test shows only what it is about, and the gold
steps the rules after the model are checked against."""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flowgen.flow.catalog import Catalog, load_catalog
from flowgen.flow.model import Flow
from flowgen.graph.choice_grounding import QueryRule
from flowgen.shipped import catalogs
from flowgen.training.cases import Case, read_cases

if TYPE_CHECKING:
    from flowgen.graph.generator import GenerationOutcome
    from flowgen.training.replay import ReplayEngine

DATA = Path(__file__).resolve().parent.parent / "data"

Trigger = tuple[str | None, dict[str, str]]
INCIDENT_UPDATED: Trigger = ("record_update", {"table": "incident", "condition": "priority=1"})


def _inputs(values: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": k, "value": v} for k, v in values.items()]


def step(
    order: int,
    definition: str,
    block: int | None = None,
    *,
    category: str = "action",
    scope: str = "global",
    annotation: str | None = None,
    **inputs: str,
) -> dict[str, Any]:
    comp: dict[str, Any] = {
        "order": order,
        "category": category,
        "definition": definition,
        "scope": scope,
        "inputs": _inputs(inputs),
    }
    if block is not None:
        comp["block"] = block
    if annotation is not None:
        comp["annotation"] = annotation
    return comp


def logic(order: int, definition: str, block: int | None = None, **inputs: str) -> dict[str, Any]:
    return step(order, definition, block, category="flowlogic", **inputs)


def branch(order: int, definition: str, words: str, block: int | None = None) -> dict[str, Any]:
    """Flow logic on `words` (an IF, ELSE, TRY ...) under `block`."""
    return step(order, definition, block, category="flowlogic", annotation=words)


def shape(f: Flow) -> list[tuple[str, int]]:
    """(definition, nesting depth) of each component, in order."""
    depths = f.depths()
    return [(c.definition, depths[c.order]) for c in f.components]


def log(order: int, block: int | None = None, message: str = "hello") -> dict[str, Any]:
    return step(order, "log", block, log_message=message)


def flow(
    *components: dict[str, Any],
    trigger: Trigger = INCIDENT_UPDATED,
    annotation: str | None = None,
) -> dict[str, Any]:
    """A flow of `components` under `trigger`; `annotation` is the trigger's span."""
    kind, inputs = trigger
    head: dict[str, Any] = {"type": kind, "inputs": _inputs(inputs)}
    if annotation is not None:
        head["annotation"] = annotation
    return {"name": "test", "trigger": head, "components": list(components)}


INACTIVE_USER = (
    "Every time a user becomes inactive, find all incidents assigned to them and assign them"
    " to their manager"
)


def inactive_user_flow(conditions: str, values: str) -> dict[str, Any]:
    """The demo's flow for INACTIVE_USER (look up the user's incidents, update each one)
    with the look-up's `conditions` and the update's `values` as given."""
    return flow(
        step(
            1,
            "look_up_records",
            annotation="find all incidents assigned to them",
            table="incident",
            conditions=conditions,
        ),
        logic(2, "FOREACH", items="{{1.records}}"),
        step(
            3,
            "update_record",
            2,
            annotation="assign them to their manager",
            table_name="incident",
            record="{{2.item}}",
            values=values,
        ),
        trigger=("record_update", {"table": "sys_user", "condition": "activeCHANGESTOfalse"}),
        annotation="Every time a user becomes inactive",
    )


def updates_its_record(trigger: Trigger, span: str, update: str, values: str) -> dict[str, Any]:
    """A record `trigger` on its words `span`, then one update_record of the trigger's
    record (words `update`, `values` set), on the trigger's table."""
    table = trigger[1]["table"]
    return flow(
        step(
            1,
            "update_record",
            annotation=update,
            table_name=table,
            record="{{trigger.current}}",
            values=values,
        ),
        trigger=trigger,
        annotation=span,
    )


def inputs_of(item: dict[str, Any]) -> dict[str, str]:
    """A trigger's or component's inputs by name."""
    return {i["name"]: i["value"] for i in item.get("inputs", [])}


def replayed(
    store: Any,
    answered: dict[str, Any],
    requirement: str,
    installation: str = "acme-itsm",
    check_grammar: bool = True,
) -> tuple[GenerationOutcome, ReplayEngine]:
    """What the generator returns for `requirement` when the model's answers are those of
    the flow dict `answered` (replayed, without guard or checkpoints), and the replay
    engine that gave them: its requests and the answers its grammars refused."""
    from flowgen.graph.generator import FlowGenerator
    from flowgen.training.replay import ReplayEngine

    engine = ReplayEngine(Flow.model_validate(answered), check_grammar=check_grammar)
    generator = FlowGenerator(
        installation, store=store, engine=engine, checkpoints=False, guard=None
    )
    return generator.generate(requirement), engine


def generated(
    store: Any, answered: dict[str, Any], requirement: str, installation: str = "acme-itsm"
) -> dict[str, Any] | None:
    """The flow the generator returns for `requirement` when the model's answers are those
    of the flow dict `answered` (replayed, without a grammar check, guard or checkpoints)."""
    return replayed(store, answered, requirement, installation, check_grammar=False)[0].flow


def grammar_rejections(
    store: Any, answered: dict[str, Any], requirement: str, installation: str = "acme-itsm"
) -> dict[str, str]:
    """The answers of the flow dict `answered` that the generator's grammars refused for
    `requirement`, by item (`trigger`, `step N`; replayed, without guard or checkpoints)."""
    _, engine = replayed(store, answered, requirement, installation)
    return {r.item: r.answer for r in engine.rejections}


@cache
def shipped_catalogs() -> dict[str, Catalog]:
    """The shipped installations' catalogs by name, loaded once per test session."""
    return {installation: load_catalog(path) for installation, path in catalogs().items()}


def own_step(
    installation: str,
    order: int,
    definition: str,
    block: int | None = None,
    *,
    annotation: str | None = None,
    **inputs: str,
) -> dict[str, Any]:
    """`step` of one of a shipped installation's steps, with the category and scope its
    catalog gives it (a subflow, a spoke's action)."""
    found = shipped_catalogs()[installation].step(definition)
    assert found is not None, (installation, definition)
    return step(
        order,
        definition,
        block,
        category=found.category,
        scope=found.scope,
        annotation=annotation,
        **inputs,
    )


def query_rule(
    rule: QueryRule, installation: str, table: str, span: str, query: str | None
) -> str | None:
    """A grounding rule on one query (graph/choice_grounding.py's `QueryRule`) applied to
    `query` on `table` of a shipped installation, with the words `span`, as the graph
    applies it."""
    catalog = shipped_catalogs()[installation]
    about = catalog.table(table)
    assert about is not None, table
    return rule(query, table, about.label, span, catalog.columns(table))


@cache
def _train_and_dev(name: str) -> tuple[Case, ...]:
    return tuple(
        case
        for case in read_cases([DATA / f"{name}.jsonl"])
        if case.split in ("train", "dev") and case.flow
    )


def gold_cases(*names: str) -> Iterator[Case]:
    """The train and dev cases with a gold flow of data/NAME.jsonl for each name
    ("handwritten", "synthetic"), read once per session."""
    for name in names:
        yield from _train_and_dev(name)


def gold_steps(*names: str) -> Iterator[tuple[Case, dict[str, Any]]]:
    """(case, component) for every component of the gold flows of `gold_cases`."""
    for case in gold_cases(*names):
        for comp in (case.flow or {}).get("components", []):
            yield case, comp
