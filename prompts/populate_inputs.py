"""The populateInputs prompt: one item (the trigger or a step) of an outline → its inputs.

Sections: the task and guidelines (only for a model not fine-tuned on this prompt), the
requirement, the outline, the inputs filled so far, then the item's own: its declared
inputs, candidate tables, relevant columns with their stored values, the data pills in
scope, the inputs solved flows gave the same step. Everything before the item's own section is the
previous call's prompt up to its item section, plus that item's answer, so an engine
reuses the KV cache of all of it.
Training renders its examples with this same function.
"""

from __future__ import annotations

from flowgen.engine.base import ChatMessage
from flowgen.flow.catalog import Column, Param
from flowgen.flow.model import Flow
from flowgen.flow.validator import PillRoot
from flowgen.prompts.line_format import INDENT, declaration_lines

VERSION = "populate_inputs/2"
MAX_CHOICES = 12

SYSTEM = "You fill in ServiceNow flow step inputs, using only what you are offered."

GUIDELINES = """\
- Conditions and values are encoded queries: field=value joined by ^ or ^OR; choices take the \
stored value.
- Data pills: {{trigger.current}}, {{1.records}}, {{2.item.caller_id.email}}. Omit what the \
requirement does not say."""


def flow_lines(flow: Flow) -> list[str]:
    """The outline: the trigger (a subflow: `T none` and its declared inputs and outputs),
    then each step numbered and indented by its block."""
    trigger = flow.trigger
    lines = [f"T {flow.trigger_type or 'none'} | {(trigger.annotation if trigger else '') or ''}"]
    if flow.is_subflow:
        lines += declaration_lines(flow)
    depth: dict[int, int] = {}
    for comp in flow.components:
        depth[comp.order] = depth[comp.block] + 1 if comp.block in depth else 0
        pad = INDENT * depth[comp.order]
        lines.append(f"{pad}{comp.order}. {comp.definition} | {comp.annotation or ''}")
    return lines


def filled_lines(flow: Flow, upto: int) -> list[str]:
    """The inputs of the items before `upto` (0 = trigger), each item's under its head.
    They follow the outline, so the prompt of the next item starts with this one's
    whole (an engine reuses the KV cache of that prefix)."""
    lines = []
    if flow.trigger and upto > 0 and flow.trigger.inputs:
        lines.append("T")
        lines += [f"{INDENT}{i.name} = {i.value}" for i in flow.trigger.inputs]
    for comp in flow.components:
        if comp.order < upto and comp.inputs:
            lines.append(f"{comp.order}.")
            lines += [f"{INDENT}{i.name} = {i.value}" for i in comp.inputs]
    return lines


def _param(p: Param) -> str:
    about = p.type + (f" of {p.table_input}" if p.table_input else "")
    return f"- {p.name}{'*' if p.required else ''} ({about})"


def _column(c: Column) -> str:
    text = f"{c.name} ({c.type}" + (f" → {c.reference}" if c.reference else "") + ")"
    if c.choices:
        shown = ", ".join(f"{ch.value}={ch.label or ch.value}" for ch in c.choices[:MAX_CHOICES])
        text += f" [{shown}]"
    return text


def _pill(p: PillRoot) -> str:
    what = f"{p.table} {p.type}" if p.table else p.type
    return f"{{{{{p.text}}}}}: {what}"


def populate_inputs_messages(
    requirement: str,
    flow: Flow,
    order: int,
    params: list[Param],
    tables: list[dict[str, str | None]],
    columns: dict[str, list[Column]],
    pills: list[PillRoot],
    feedback: list[str] | None = None,
    examples: list[str] | None = None,
    instructions: bool = False,
) -> list[ChatMessage]:
    """`examples`: answers for the same step in the solved flows shown to the outline.
    `instructions`: add the task and guidelines (for a model not fine-tuned on this)."""
    if order == 0:
        head = f"the trigger {flow.trigger_type}"
        annotation = flow.trigger.annotation if flow.trigger else ""
    else:
        comp = flow.component(order)
        assert comp is not None
        head = f"step {order}. {comp.definition}"
        annotation = comp.annotation
    parts = []
    if instructions:
        task = "Fill in the inputs of one item of the flow below."
        parts += ["## Task", task, "## Guidelines", GUIDELINES]
    parts += ["## Requirement", " ".join(requirement.split()), "## Flow", *flow_lines(flow)]
    filled = filled_lines(flow, order)
    if filled:
        parts += ["## Inputs so far", *filled]
    parts += [
        f"## Inputs of {head} | {annotation or ''}",
        *(_param(p) for p in params),
    ]
    if tables:
        parts += ["## Tables", ", ".join(f"{t['name']} ({t['label']})" for t in tables)]
    if columns:
        parts.append("## Columns")
        parts += [
            f"{table}: " + "; ".join(_column(c) for c in cols) for table, cols in columns.items()
        ]
    if pills:
        parts += ["## Data pills", "; ".join(_pill(p) for p in pills)]
    for example in examples or []:
        parts += ["## Example: the same step in a solved flow", example.rstrip()]
    if feedback:
        parts += ["## Your last answer had these problems; fix them", *feedback]
    parts.append("## Output: one `name = value` line per input")
    return [
        ChatMessage(role="system", content=SYSTEM),
        ChatMessage(role="user", content="\n".join(parts)),
    ]
