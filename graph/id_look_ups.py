"""The look-up a step's id can only come from, where the outline has none.

CrowdStrike's Contain Host and Lift Containment take a `device_id`, which only the same
spoke's Get Device Details gives (its output `device_id`, from a host name): in every
hand-written train and dev flow with one of them, Get Device Details comes first (16 of
16). The small model writes "contain the host" and leaves the look-up out (6 dev
flows), so the containment has no id to act on: the inputs call fills `device_id` with a
host name or an IP. Where a step of an installation's spoke requires an input named
`*_id` that exactly one other step of the same spoke gives as an output, that step is a
look-up (its name opens with get, look_up, lookup, find or search), and no step before
it in the outline is that look-up, the look-up goes right before it, in its block, on the
words of its span that name the host ("its host", as gold annotates it), else on its
span. It runs after the other outline repairs, which order steps by their spans. Ids
that a step creates (a Slack channel's, a Teams team's) are not looked up: a channel the
words name ("post in #soc-ops") exists already.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flowgen.flow.catalog import CORE_SCOPE, CatalogView, StepDef
from flowgen.flow.model import Component, Flow

LOOK_UP_VERBS = ("get_", "look_up_", "lookup_", "find_", "search_")
# The thing looked up, where the step's words name it ("on its host", "the affected host").
_THING = re.compile(
    r"\b(?:(?:its|their|the)\s+)?(?:affected\s+)?(?:host|device|laptop|machine|endpoint)\b",
    re.IGNORECASE,
)


def id_look_up(step: StepDef, catalog: CatalogView) -> StepDef | None:
    """The one look-up of `step`'s spoke that gives an id `step` requires, or None."""
    if step.scope == CORE_SCOPE:
        return None
    for param in step.inputs:
        if not (param.required and param.name.endswith("_id")):
            continue
        givers = [
            other
            for other in catalog.steps
            if other.scope == step.scope
            and other.name != step.name
            and any(out.name == param.name for out in other.outputs or [])
        ]
        if len(givers) == 1 and givers[0].name.startswith(LOOK_UP_VERBS):
            return givers[0]
    return None


def add_id_look_ups(flow: Flow, catalog: CatalogView) -> tuple[Flow, list[str]]:
    """`flow` with the look-up each spoke step's id needs (see above) before it, and
    `"order: look_up for step"` for each look-up added."""
    added: list[str] = []
    at = 0
    while at < len(flow.components):
        comp = flow.components[at]
        look_up = _missing_source(flow, at, catalog, id_look_up)
        if look_up is not None:
            added.append(f"{comp.order}: {look_up.name} for {comp.definition}")
            comps = list(flow.components)
            comps.insert(at, _step_of(look_up, comp.block, _thing(comp.annotation)))
            flow = flow.with_components(comps)
            at += 1
        at += 1
    return flow, added


def _missing_source(
    flow: Flow,
    at: int,
    catalog: CatalogView,
    source_of: Callable[[StepDef, CatalogView], StepDef | None],
) -> StepDef | None:
    """The step component `at` needs before it (`source_of` its step), where no step
    before it is that one; None otherwise."""
    comp = flow.components[at]
    step = catalog.step(comp.definition) if comp.category != "flowlogic" else None
    source = source_of(step, catalog) if step is not None else None
    if source is None or any(c.definition == source.name for c in flow.components[:at]):
        return None
    return source


def _step_of(step: StepDef, block: int | None, annotation: str | None) -> Component:
    """A new component of `step` in `block` (its negative order marks it added)."""
    return Component(
        order=-1,
        block=block,
        category=step.category or "action",
        definition=step.name,
        scope=step.scope,
        annotation=annotation,
    )


def _thing(span: str | None) -> str | None:
    """The words of `span` that name what is looked up, else the span."""
    found = _THING.search(span or "")
    return found.group(0) if found else span


# The list a record input is taken from: Copy Attachment's `attachment_record` is one of
# the `attachments` Get Attachments on Record lists, and every hand-written gold flow with
# a Copy Attachment lists them first and loops over them (5 of 5); the model wrote the
# copy alone (2 dev flows), with nothing to pass it.
RECORD_SUFFIX = "_record"


def list_source(step: StepDef, catalog: CatalogView) -> StepDef | None:
    """The one step of `step`'s scope whose list output names what a required record
    input of `step` takes (`attachment_record` and an output `attachments` of type
    records), or None."""
    for param in step.inputs:
        if not (param.required and param.type == "record" and param.name.endswith(RECORD_SUFFIX)):
            continue
        listed = param.name.removesuffix(RECORD_SUFFIX) + "s"
        givers = [
            other
            for other in catalog.steps
            if other.scope == step.scope
            and other.name != step.name
            and any(out.name == listed and out.type == "records" for out in other.outputs or [])
        ]
        if len(givers) == 1:
            return givers[0]
    return None


def add_list_sources(flow: Flow, catalog: CatalogView) -> tuple[Flow, list[str]]:
    """`flow` with the step that lists what a step's record input takes (see above) before
    it and a FOREACH over that list around it, where no step before it lists them; and
    `"order: source for step"` for each source added."""
    added: list[str] = []
    at = 0
    while at < len(flow.components):
        comp = flow.components[at]
        source = _missing_source(flow, at, catalog, list_source)
        if source is None:
            at += 1
            continue
        added.append(f"{comp.order}: {source.name} for {comp.definition}")
        loop = Component(
            order=-2,
            block=comp.block,
            category="flowlogic",
            definition="FOREACH",
            scope=CORE_SCOPE,
            annotation=comp.annotation,
        )
        comps = list(flow.components)
        listed = _step_of(source, comp.block, comp.annotation)
        comps[at : at + 1] = [listed, loop, comp.model_copy(update={"block": -2})]
        flow = flow.with_components(comps)
        at += 3
    return flow, added
