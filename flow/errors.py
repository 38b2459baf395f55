"""The validator's error codes (spec §2), each with its kind and what it means.

*structure* errors make an outline unusable (the paper's "% structure errors");
*catalog* errors name something the installation does not have, or misuse it.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

ErrorKind = Literal["structure", "catalog"]

CODES: dict[str, tuple[ErrorKind, str]] = {
    # structure
    "unparseable": ("structure", "the output is not JSON"),
    "invalid_type": ("structure", "a field has the wrong type or a required key is missing"),
    "too_large": ("structure", "the flow is over the size limits"),
    "order_sequence": ("structure", "orders do not run 1..N in list order"),
    "order_not_depth_first": ("structure", "a child is not listed inside its block's span"),
    "block_unknown": ("structure", "`block` names no earlier component"),
    "block_not_container": ("structure", "`block` names a component that cannot hold children"),
    "unknown_flowlogic": ("structure", "not one of the built-in flow-logic definitions"),
    "misplaced_branch": ("structure", "ELSEIF/ELSE/CATCH does not follow IF/ELSEIF/TRY"),
    "path_outside_parallel": ("structure", "PATH is not directly inside PARALLEL"),
    "parallel_paths": ("structure", "PARALLEL needs at least two children, all PATH"),
    "loop_control_outside_loop": ("structure", "EXITLOOP/SKIPITERATION outside FOREACH/DOUNTIL"),
    "subflow_outputs_outside_subflow": (
        "structure",
        "ASSIGNSUBFLOWOUTPUTS in a flow with a trigger",
    ),
    "goback_target": ("structure", "GOBACKTO does not name an earlier step"),
    "empty_block": ("structure", "a block has no children"),
    # catalog
    "unknown_trigger": ("catalog", "trigger type not in the installation"),
    "unknown_step": ("catalog", "action or subflow not in the installation"),
    "wrong_category": ("catalog", "category differs from the catalog's"),
    "wrong_scope": ("catalog", "scope differs from the catalog's"),
    "unknown_input": ("catalog", "input name the step does not declare"),
    "duplicate_input": ("catalog", "the same input given twice"),
    "missing_input": ("catalog", "a required input is missing"),
    "empty_input": ("catalog", "an input with an empty value (omit it instead)"),
    "unknown_table": ("catalog", "table not in the installation"),
    "unknown_column": ("catalog", "column not on the table (or the tables it extends)"),
    "unknown_choice": ("catalog", "value not among the column's stored choice values"),
    "bad_query": ("catalog", "a condition part is not `field<OP>value`"),
    "pill_syntax": ("catalog", "a malformed data pill"),
    "pill_unknown_step": ("catalog", "pill names a step that does not exist"),
    "pill_later_step": ("catalog", "pill names the current or a later step"),
    "pill_out_of_scope": (
        "catalog",
        "pill names a step in a branch or loop not enclosing this one",
    ),
    "pill_unknown_output": ("catalog", "pill names an output the source does not have"),
    "pill_unknown_field": ("catalog", "pill dot-walks through a field that does not exist"),
    "pill_type_mismatch": ("catalog", "pill of the wrong type for the input"),
}


class FlowError(BaseModel):
    """One problem, located by component `order` (None for the trigger or the whole flow)."""

    model_config = ConfigDict(frozen=True)

    code: str
    order: int | None
    path: str
    message: str

    @property
    def kind(self) -> ErrorKind:
        return CODES[self.code][0]

    def __str__(self) -> str:
        where = f"step {self.order}" if self.order is not None else self.path
        return f"[{self.code}] {where}: {self.message}"
