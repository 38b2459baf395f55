"""The built-in flow-logic components (spec §1, "Flow logic"), as data."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cached_property
from typing import get_args

from flowgen.flow.catalog import Param, ParamType
from flowgen.flow.model import Component, Flow


@dataclass(frozen=True)
class FlowLogic:
    name: str
    is_block: bool
    inputs: tuple[str, ...] = ()
    # False: any input name is allowed (SETFLOWVARIABLES, ASSIGNSUBFLOWOUTPUTS).
    fixed_inputs: bool = True
    required: tuple[str, ...] = ()
    outputs: tuple[str, ...] = field(default=())

    @cached_property
    def params(self) -> list[Param] | None:
        """The inputs as catalog params (None: any input name is allowed)."""
        if not self.fixed_inputs:
            return None
        return [
            Param(
                name=n,
                type="condition" if n == "condition" else "string",
                required=n in self.required,
            )
            for n in self.inputs
        ]


FLOW_LOGIC: dict[str, FlowLogic] = {
    fl.name: fl
    for fl in (
        FlowLogic("IF", True, ("condition",), required=("condition",)),
        FlowLogic("ELSEIF", True, ("condition",), required=("condition",)),
        FlowLogic("ELSE", True),
        FlowLogic("FOREACH", True, ("items",), required=("items",), outputs=("item", "index")),
        FlowLogic("DOUNTIL", True, ("condition",), required=("condition",)),
        FlowLogic("PARALLEL", True),
        FlowLogic("PATH", True),
        FlowLogic("TRY", True),
        FlowLogic("CATCH", True, outputs=("error",)),
        FlowLogic("WAITFORDURATION", False, ("duration",), required=("duration",)),
        FlowLogic("SETFLOWVARIABLES", False, fixed_inputs=False),
        FlowLogic("ASSIGNSUBFLOWOUTPUTS", False, fixed_inputs=False),
        FlowLogic("GOBACKTO", False, ("step",), required=("step",)),
        FlowLogic("EXITLOOP", False),
        FlowLogic("SKIPITERATION", False),
        FlowLogic("ENDFLOW", False),
    )
}

# Blocks that may only directly follow a sibling of one of these kinds.
FOLLOWS: dict[str, tuple[str, ...]] = {
    "ELSEIF": ("IF", "ELSEIF"),
    "ELSE": ("IF", "ELSEIF"),
    "CATCH": ("TRY",),
}
# The flow logic that holds steps (IF, FOREACH, TRY, ...).
BLOCKS = frozenset(name for name, logic in FLOW_LOGIC.items() if logic.is_block)
# What goes on an IF's chain: ELSEIF and ELSE.
CONTINUES_IF = frozenset(name for name, after in FOLLOWS.items() if "IF" in after)

LOOPS = ("FOREACH", "DOUNTIL")
LOOP_CONTROL = ("EXITLOOP", "SKIPITERATION")


def opens_block(comp: Component | None) -> bool:
    """Whether `comp` is flow logic that holds steps."""
    return comp is not None and comp.category == "flowlogic" and comp.definition in BLOCKS


def without_blocks(components: list[Component], orders: Collection[int]) -> list[Component]:
    """`components` without the flow logic `orders`, what each held put in its place (in
    the block that held it, past any other of `orders`); not numbered again."""
    held_by = {c.order: c.block for c in components if c.order in orders}

    def kept_block(block: int | None) -> int | None:
        while block in held_by:
            block = held_by[block]
        return block

    return [
        c.model_copy(update={"block": kept_block(c.block)})
        for c in components
        if c.order not in held_by
    ]


def without_empty_blocks(components: list[Component]) -> list[Component] | None:
    """`components` without the blocks that hold nothing, and those left holding nothing
    by their going; None where that would empty an IF its ELSE or ELSEIF follows, or a
    TRY its CATCH (the chain would lose its head)."""
    kept = list(components)
    while True:
        parents = {c.block for c in kept}
        empty = next((c for c in kept if opens_block(c) and c.order not in parents), None)
        if empty is None:
            return kept
        siblings = [c for c in kept if c.block == empty.block]
        after = siblings[siblings.index(empty) + 1 :]
        follows = after[0].definition if after else ""
        # an IF or TRY (not itself a continuation) that an ELSE, ELSEIF or CATCH follows
        if empty.definition not in FOLLOWS and empty.definition in FOLLOWS.get(follows, ()):
            return None
        kept.remove(empty)


def subflow_output_params(flow: Flow) -> list[Param] | None:
    """ASSIGNSUBFLOWOUTPUTS's inputs in `flow`: one per output the subflow declares, of the
    declared type; None (any name) when it declares none or is not a subflow."""
    if not flow.is_subflow or not flow.output_params:
        return None
    types = get_args(ParamType)
    return [
        Param(
            name=p.name,
            type=p.type if p.type in types else "string",
            reference=p.reference,
        )
        for p in flow.output_params
    ]
