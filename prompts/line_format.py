"""The model's output format: compact lines, converted deterministically to flow JSON.

Outline (createFlow), one line per item, nesting by two-space indentation:

    T record_update | Every time a user becomes inactive
    - look_up_records | find all incidents assigned to them
    - FOREACH | find all incidents
      - update_record | assign them to their manager

or a refusal: `REFUSE | reason`. A subflow has no trigger: its first line is `T none`,
followed (before any step, indented one level) by the inputs it takes and the outputs it
returns, inputs first, each `input|output <name> (<type>[ of <table>]) | span`; only a
subflow may set its outputs with ASSIGNSUBFLOWOUTPUTS:

    T none | Create a subflow that takes an incident and a message
      input incident (reference of incident) | takes an incident
      input message (string) | and a message
      output email_sent (boolean) | returns whether the email was sent
    - add_work_note | posts the message as a work note
    - send_email | notifies the assignee
    - ASSIGNSUBFLOWOUTPUTS | returns whether the email was sent

The type is one of `flow.model.SUBFLOW_TYPES`; `of <table>` is written for `reference`
and `records` only (omitted when the table is unknown). The declarations become the
flow's top-level `inputs`/`outputs` (StarFlow's `{"items": [{name, type, reference}]}`,
each item with its `annotation`); the `T none` span is the trigger's annotation, whose
`type` is null. Inputs (populateInputs), one line per input:

    table_name = incident
    record = {{2.item}}

`order` is the line order, `block` the enclosing line, category and scope come from the
catalog; the model writes none of them. `engine.grammar` builds the matching grammars.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from flowgen.flow.catalog import CatalogView
from flowgen.flow.flowlogic import FLOW_LOGIC
from flowgen.flow.model import (
    SUBFLOW_TABLE_TYPES,
    Component,
    Flow,
    FlowInput,
    SubflowIO,
    SubflowParam,
    Trigger,
)

INDENT = "  "
REFUSE = "REFUSE"
SUBFLOW_TRIGGER = "none"  # `T none`: a subflow
# `input incident (reference of incident)`, after the indentation and before ` | span`
DECLARATION = re.compile(
    r"(?P<kind>input|output) (?P<name>[A-Za-z_][A-Za-z0-9_]*)"
    r" \((?P<type>[a-z_]+)(?: of (?P<table>[A-Za-z0-9_]+))?\)"
)


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
    if flow.is_subflow:
        lines += declaration_lines(flow)
    depth = flow.depths()
    for comp in flow.components:
        lines.append(_line(f"{INDENT * depth[comp.order]}- {comp.definition}", comp.annotation))
    return "\n".join(lines) + "\n"


def declaration(kind: str, param: SubflowParam) -> str:
    """`input incident (reference of incident)`: one declared input or output."""
    type_ = param.type or "string"
    table = f" of {param.reference}" if param.reference and type_ in SUBFLOW_TABLE_TYPES else ""
    return f"{kind} {param.name} ({type_}{table})"


def declaration_lines(flow: Flow) -> list[str]:
    """A subflow's declared inputs, then outputs, each on its own indented line."""
    return [
        _line(INDENT + declaration(kind, p), p.annotation)
        for kind, params in (("input", flow.input_params), ("output", flow.output_params))
        for p in params
    ]


def parse_declaration(line: str) -> tuple[str, SubflowParam] | None:
    """(`input` or `output`, the param) of a declaration line (indented, with its span);
    None when the line is not one."""
    body, _, annotation = line.partition(" | ")
    match = DECLARATION.fullmatch(body.removeprefix(INDENT)) if body.startswith(INDENT) else None
    if match is None or body.startswith(INDENT * 2):
        return None
    param = SubflowParam(
        name=match["name"],
        type=match["type"],
        reference=match["table"],
        annotation=annotation.strip() or None,
    )
    return match["kind"], param


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
    subflow = trigger_type == SUBFLOW_TRIGGER
    trigger = Trigger(type=None if subflow else trigger_type, annotation=annotation.strip() or None)
    declared: dict[str, list[SubflowParam]] = {"input": [], "output": []}
    first_step = 1
    for number, line in enumerate(lines[1:], start=2):
        found = parse_declaration(line)
        if found is None:
            break
        kind, param = found
        if not subflow:
            raise LineFormatError(f"line {number}: only a subflow (`T none`) declares {kind}s")
        if kind == "input" and declared["output"]:
            raise LineFormatError(f"line {number}: declare the inputs before the outputs")
        if any(p.name == param.name for p in declared[kind]):
            raise LineFormatError(f"line {number}: {kind} {param.name!r} is declared twice")
        declared[kind].append(param)
        first_step = number
    components: list[Component] = []
    open_blocks: list[int] = []  # order of the enclosing item at each depth
    for number, line in enumerate(lines[first_step:], start=first_step + 1):
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
    flow = Flow(name=name, trigger=trigger, components=components)
    if declared["input"]:
        flow.inputs = SubflowIO(items=declared["input"])
    if declared["output"]:
        flow.outputs = SubflowIO(items=declared["output"])
    return Outline(flow)


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
