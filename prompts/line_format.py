"""The model's output format: compact lines, converted deterministically to flow JSON.

Outline (createFlow), one line per item, nesting by two-space indentation:

    T record_update | Every time a user becomes inactive
    - look_up_records | find all incidents assigned to them
    - FOREACH | find all incidents
      - update_record | assign them to their manager

or a refusal: `REFUSE | reason`. Inputs (populateInputs), one line per input:

    table_name = incident
    record = {{2.item}}

`order` is the line order, `block` the enclosing line, category and scope come from the
catalog; the model writes none of them. `engine.grammar` builds the matching grammars.
"""

from __future__ import annotations

from dataclasses import dataclass

from flowgen.flow.catalog import CatalogView
from flowgen.flow.flowlogic import FLOW_LOGIC
from flowgen.flow.model import Component, Flow, FlowInput, Trigger

INDENT = "  "
REFUSE = "REFUSE"


class LineFormatError(ValueError):
    """Text that does not follow the line format (or names what the catalog lacks)."""


@dataclass(frozen=True)
class Outline:
    flow: Flow | None  # None for a refusal
    refusal: str | None = None


def _line(head: str, annotation: str | None) -> str:
    return f"{head} | {' '.join((annotation or '').split())}"


def outline_lines(flow: Flow | None, refusal: str = "") -> str:
    if flow is None:
        return _line(REFUSE, refusal) + "\n"
    lines = [
        _line(f"T {flow.trigger_type or 'none'}", flow.trigger.annotation if flow.trigger else None)
    ]
    depth: dict[int, int] = {}
    for comp in flow.components:
        depth[comp.order] = depth[comp.block] + 1 if comp.block in depth else 0
        lines.append(_line(f"{INDENT * depth[comp.order]}- {comp.definition}", comp.annotation))
    return "\n".join(lines) + "\n"


def inputs_lines(inputs: list[FlowInput]) -> str:
    return "".join(f"{i.name} = {' '.join(i.value.splitlines())}\n" for i in inputs)


def parse_outline(text: str, catalog: CatalogView, name: str | None = None) -> Outline:
    lines = [line for line in text.splitlines() if line.strip()]
    if not lines:
        raise LineFormatError("empty outline")
    head, _, annotation = lines[0].partition(" | ")
    if head.strip() == REFUSE:
        return Outline(None, annotation.strip())
    if not head.startswith("T "):
        raise LineFormatError(f"line 1 must be `T <trigger> | span`, got {lines[0]!r}")
    trigger_type = head[2:].strip()
    trigger = Trigger(
        type=None if trigger_type == "none" else trigger_type, annotation=annotation.strip() or None
    )
    components: list[Component] = []
    open_blocks: list[int] = []  # order of the enclosing item at each depth
    for number, line in enumerate(lines[1:], start=2):
        body, _, annotation = line.partition(" | ")
        stripped = body.lstrip(" ")
        indent = len(body) - len(stripped)
        if not stripped.startswith("- ") or indent % len(INDENT):
            raise LineFormatError(f"line {number}: expected `{INDENT * 0}- <step> | span`")
        depth = indent // len(INDENT)
        if depth > len(open_blocks):
            raise LineFormatError(f"line {number}: indented deeper than the line above allows")
        del open_blocks[depth:]
        definition = stripped[2:].strip()
        order = len(components) + 1
        if definition in FLOW_LOGIC:
            category, scope = "flowlogic", "global"
        else:
            step = catalog.step(definition)
            if step is None:
                raise LineFormatError(f"line {number}: no step {definition!r} in the catalog")
            category, scope = step.category, step.scope
        components.append(
            Component(
                order=order,
                block=open_blocks[-1] if open_blocks else None,
                category=category,
                definition=definition,
                scope=scope,
                annotation=annotation.strip() or None,
            )
        )
        open_blocks.append(order)
    return Outline(Flow(name=name, trigger=trigger, components=components))


def parse_inputs(text: str) -> list[FlowInput]:
    inputs = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        name, sep, value = line.partition(" = ")
        if not sep or not name.strip():
            raise LineFormatError(f"line {number}: expected `name = value`, got {line!r}")
        inputs.append(FlowInput(name=name.strip(), value=value.strip()))
    return inputs
