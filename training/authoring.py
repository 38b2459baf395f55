"""The authoring format of hand-written cases: the model's line format with each item's
inputs written under it, so an expert writes a flow the way they would read it.

    T record_update | Every time a user becomes inactive
      table = sys_user
      condition = activeCHANGESTOfalse
    - look_up_records | find all incidents assigned to them
      table = incident
      conditions = assigned_to={{trigger.current}}^active=true
    - FOREACH | find all incidents
      items = {{1.records}}
      - update_record | assign them to their manager
        table_name = incident
        record = {{2.item}}
        values = assigned_to={{trigger.current.manager}}

or `REFUSE | reason`. A subflow (`T none`) declares its inputs and outputs under its first
line, as in the line format, and sets its outputs with ASSIGNSUBFLOWOUTPUTS, one input per
declared output:

    T none | Create a subflow that takes an incident and a message
      input incident (reference of incident) | takes an incident
      input message (string) | and a message
      output email_sent (boolean) | returns whether the email was sent
    - add_work_note | posts the message as a work note
      record = {{subflow_inputs.incident}}
      work_note = {{subflow_inputs.message}}
    ...
    - ASSIGNSUBFLOWOUTPUTS | returns whether the email was sent
      email_sent = true

Category and scope come from the catalog, orders and blocks from
the nesting, exactly as for the model's own output (`prompts.line_format`).
"""

from __future__ import annotations

from flowgen.flow.catalog import CatalogView
from flowgen.flow.model import Flow, FlowInput
from flowgen.prompts.line_format import (
    INDENT,
    LineFormatError,
    parse_declaration,
    parse_inputs,
    parse_outline,
)


def parse_authored(text: str, catalog: CatalogView, name: str | None = None) -> Flow | None:
    """The flow (None for a refusal); raises LineFormatError naming the bad line."""
    item_lines: list[str] = []
    inputs: list[list[FlowInput]] = []
    item_indent = 0
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if stripped.startswith(("- ", "T ", "REFUSE")):
            item_lines.append(line)
            inputs.append([])
            item_indent = indent
            continue
        if len(inputs) == 1 and parse_declaration(line) is not None:
            item_lines.append(line)  # a subflow's input or output, under its `T none`
            continue
        if not item_lines:
            raise LineFormatError(f"line {number}: an input before any trigger or step")
        if indent != item_indent + len(INDENT):
            raise LineFormatError(
                f"line {number}: inputs go {len(INDENT)} spaces deeper than their item"
            )
        try:
            inputs[-1] += parse_inputs(stripped)
        except LineFormatError as exc:
            raise LineFormatError(f"line {number}: {exc}") from None
    outline = parse_outline("\n".join(item_lines), catalog, name=name)
    if outline.flow is None:
        return None
    flow = outline.flow
    if flow.trigger is not None:
        flow.trigger.inputs = inputs[0]
    for comp, comp_inputs in zip(flow.components, inputs[1:], strict=True):
        comp.inputs = comp_inputs
    return flow


def refusal_reason(text: str) -> str | None:
    head, _, reason = text.strip().partition(" | ")
    return reason.strip() if head.strip() == "REFUSE" else None
