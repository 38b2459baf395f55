"""The populateInputs prompt: one item (the trigger or a step) of an outline → its inputs.

The inputs calls of a flow are one conversation of their own: one user turn per item,
each answered with that item's `name = value` lines. Each call's prompt is the previous
call's prompt plus its answer and one new turn, so an engine that keeps its KV cache
processes only the new turn. The first turn opens with the requirement and the numbered
outline (pills and heads name items by number); the createFlow prompt (its catalog and
solved outlines) is not repeated, so every turn attends to a short context: on a CPU,
attention over a long one slowed the turns' prompts by a third (docs/engine.md).
A turn shows what is new for its item: its head (its number and name: its span is in the
numbered outline above) and declared inputs (by name; `*` marks the required), the
candidate tables (those whose columns follow are named once, on their columns line), the
columns (with stored values) that no earlier turn showed, the data pills that came into
scope since, and the inputs a solved flow gave the same step. Versions 5 → 6 cut the
inputs turns of a dev flow by a fifth this way (docs/results.md).
Training renders its examples with these same functions.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict

from flowgen.engine.base import ChatMessage
from flowgen.flow.catalog import Choice, Column, Param
from flowgen.flow.model import Flow, FlowInput
from flowgen.flow.validator import PillRoot
from flowgen.prompts.create_flow import SYSTEM, words
from flowgen.prompts.line_format import INDENT, declaration_lines, inputs_lines

VERSION = "populate_inputs/6"
MAX_CHOICES = 12
# The head `item_turn` writes (`## Trigger name`, `## Step N. name`): which item a turn is
# for, the step's number in group 1 (None for the trigger).
ITEM_HEAD = re.compile(r"^## (?:Trigger |Step (\d+)\.)", re.MULTILINE)

GUIDELINES = """\
- Conditions and values are encoded queries: field=value joined by ^ or ^OR; choices take the \
stored value.
- Data pills: {{trigger.current}}, {{1.records}}, {{2.item.caller_id.email}}. Omit what the \
requirement does not say."""


class ItemTurn(BaseModel):
    """One item's user turn, and what it showed (later turns show only what is new)."""

    model_config = ConfigDict(frozen=True)

    order: int  # 0: the trigger
    text: str  # without the validator's feedback, which only its own call sees
    columns: tuple[str, ...] = ()  # `table.column`
    pills: tuple[str, ...] = ()


def flow_lines(flow: Flow) -> list[str]:
    """The outline numbered: the trigger (a subflow: `T none` and its declared inputs and
    outputs), then each step numbered and indented by its block."""
    trigger = flow.trigger
    lines = [f"T {flow.trigger_type or 'none'} | {(trigger.annotation if trigger else '') or ''}"]
    if flow.is_subflow:
        lines += declaration_lines(flow)
    depth = flow.depths()
    for comp in flow.components:
        pad = INDENT * depth[comp.order]
        lines.append(f"{pad}{comp.order}. {comp.definition} | {comp.annotation or ''}")
    return lines


def _param(p: Param, instructions: bool) -> str:
    # A fine-tuned model learned each input's kind of value (the grammar enforces it);
    # a prompted one is told: `name (type of table_input)`, strings by the bare name.
    about = "" if p.type == "string" else p.type + (f" of {p.table_input}" if p.table_input else "")
    shown = f" ({about})" if about and instructions else ""
    return f"{p.name}{'*' if p.required else ''}{shown}"


def _column(c: Column) -> str:
    """`name` for a string, `name → table` for a reference, `name [choices]` for a choice,
    `name (type)` otherwise: columns are the largest part of a turn."""
    if c.choices:
        return f"{c.name} [" + ", ".join(_choice(ch) for ch in c.choices[:MAX_CHOICES]) + "]"
    if c.reference:
        return f"{c.name} → {c.reference}"
    return c.name if c.type == "string" else f"{c.name} ({c.type})"


def _table(t: dict[str, str | None]) -> str:
    name, label = t["name"] or "", t["label"] or ""
    return name if words(label) == words(name) else f"{name} ({label})"


def _choice(choice: Choice) -> str:
    """`value=label`, or the one of them that says both: `new` for new=New, `1 - High`
    for 1=1 - High (choice lists are most of a turn's tokens)."""
    label = choice.label or choice.value
    if label.lower() == choice.value.lower():
        return choice.value
    if label.startswith(f"{choice.value} "):
        return label
    return f"{choice.value}={label}"


def _pill(p: PillRoot) -> str:
    what = f"{p.table} {p.type}" if p.table else p.type
    return f"{{{{{p.text}}}}}: {what}"


def item_turn(
    flow: Flow,
    order: int,
    params: list[Param],
    tables: list[dict[str, str | None]],
    columns: dict[str, list[Column]],
    pills: list[PillRoot],
    earlier: list[ItemTurn],
    examples: list[str] | None = None,
    instructions: bool = False,
) -> ItemTurn:
    """The user turn of item `order`, after the turns `earlier` (in conversation order).
    `examples`: the inputs solved flows gave the same step. `instructions`: the task
    and guidelines in the first turn (for a model not fine-tuned on this prompt)."""
    if order == 0:
        head = f"Trigger {flow.trigger_type}"
    else:
        comp = flow.component(order)
        assert comp is not None
        head = f"Step {order}. {comp.definition}"
    seen_columns = {c for turn in earlier for c in turn.columns}
    seen_pills = {p for turn in earlier for p in turn.pills}
    parts = []
    if not earlier:
        if instructions:
            parts += ["## Task", "Fill in the inputs of each item of the flow, one at a time."]
            parts += ["## Guidelines", GUIDELINES]
        parts += ["## Flow", *flow_lines(flow)]
    parts += [f"## {head}"]
    if params:
        parts.append(", ".join(_param(p, instructions) for p in params))
    labels = {t["name"]: _table(t) for t in tables}
    new_columns: list[str] = []
    column_lines = []
    with_columns = set()  # tables named on a columns line, not again under Tables
    for table, cols in columns.items():
        fresh = [c for c in cols if f"{table}.{c.name}" not in seen_columns]
        if fresh:
            line = "; ".join(_column(c) for c in fresh)
            column_lines.append(f"{labels.get(table, table)}: {line}")
            new_columns += [f"{table}.{c.name}" for c in fresh]
            with_columns.add(table)
    listed = [label for name, label in labels.items() if name not in with_columns]
    if listed:
        parts += ["## Tables", ", ".join(listed)]
    if column_lines:
        parts += ["## Columns", *column_lines]
    fresh_pills = [p for p in pills if p.text not in seen_pills]
    if fresh_pills:
        parts += ["## Data pills", "; ".join(_pill(p) for p in fresh_pills)]
    for example in examples or []:
        parts += ["## Example", example.rstrip()]
    if instructions:
        parts.append("## Output: one `name = value` line per input")
    return ItemTurn(
        order=order,
        text="\n".join(parts),
        columns=tuple(new_columns),
        pills=tuple(p.text for p in fresh_pills),
    )


def inputs_conversation(
    requirement: str,
    flow: Flow,
    earlier: list[ItemTurn],
    turn: ItemTurn,
    feedback: list[str] | None = None,
) -> list[ChatMessage]:
    """The messages of one inputs call: the requirement, each earlier turn with the
    inputs `flow` holds for its item, then `turn` (with the validator's `feedback` when
    retrying). The system text is the createFlow prompt's, so its tokens stay cached."""
    head = "## Requirement\n" + " ".join(requirement.split()) + "\n"
    messages = [ChatMessage(role="system", content=SYSTEM)]
    for done in earlier:
        messages.append(ChatMessage(role="user", content=done.text))
        messages.append(
            ChatMessage(role="assistant", content=inputs_lines(item_inputs(flow, done.order)))
        )
    text = turn.text
    if feedback:
        text += "\n" + "\n".join(["## Your last answer had these problems; fix them", *feedback])
    messages.append(ChatMessage(role="user", content=text))
    messages[1] = ChatMessage(role="user", content=head + messages[1].content)
    return messages


def item_inputs(flow: Flow, order: int) -> list[FlowInput]:
    if order == 0:
        return list(flow.trigger.inputs) if flow.trigger else []
    comp = flow.component(order)
    return list(comp.inputs) if comp else []
