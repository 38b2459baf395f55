"""Pydantic models of the flow JSON (spec §1).

Types are strict where the spec is strict (`value` is always a string, `order` an
integer) so that a model that writes `"order": "1"` or `"value": 3` gets a structure
error instead of a silent coercion. Extra keys are allowed, as the spec says.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

Category = Literal["action", "flowlogic", "subflow"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class FlowInput(_Open):
    name: StrictStr
    value: StrictStr


class Trigger(_Open):
    # `type` is None for a subflow (it has no trigger, only inputs and outputs).
    type: StrictStr | None = None
    annotation: StrictStr | None = None
    inputs: list[FlowInput] = Field(default_factory=list)


class Component(_Open):
    order: StrictInt
    block: StrictInt | None = None
    category: Category
    definition: StrictStr
    scope: StrictStr = "global"
    annotation: StrictStr | None = None
    inputs: list[FlowInput] = Field(default_factory=list)

    @property
    def label(self) -> str:
        """The FlowSim node label `category___definition___scope`."""
        return f"{self.category}___{self.definition}___{self.scope}"

    def input_value(self, name: str) -> str | None:
        return next((i.value for i in self.inputs if i.name == name), None)


# The types a subflow input or output may be declared with in the line format
# (`prompts.line_format`); `reference` and `records` name their table.
SUBFLOW_TYPES = (
    *("string", "integer", "boolean", "datetime", "duration", "choice"),
    *("reference", "records", "array"),
)
SUBFLOW_TABLE_TYPES = ("reference", "records")


class SubflowParam(_Open):
    name: StrictStr
    type: StrictStr | None = None
    reference: StrictStr | None = None
    # The span of the requirement the declaration came from (ours; StarFlow has none).
    annotation: StrictStr | None = None


class SubflowIO(_Open):
    """A subflow's declared inputs or outputs, as StarFlow writes them:
    `{"items": [{"name": ..., "type": ..., "reference": ...}]}` (other keys kept)."""

    items: list[SubflowParam] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _from_list(cls, data: Any) -> Any:
        # The bare list of params that earlier versions of this project wrote.
        return {"items": data} if isinstance(data, list) else data


class Flow(_Open):
    name: StrictStr | None = None
    trigger: Trigger | None = None
    components: list[Component] = Field(default_factory=list)
    # Only subflows (trigger type null) declare these.
    inputs: SubflowIO | None = None
    outputs: SubflowIO | None = None

    @property
    def input_params(self) -> list[SubflowParam]:
        return self.inputs.items if self.inputs else []

    @property
    def output_params(self) -> list[SubflowParam]:
        return self.outputs.items if self.outputs else []

    @property
    def trigger_type(self) -> str | None:
        return self.trigger.type if self.trigger else None

    @property
    def is_subflow(self) -> bool:
        return self.trigger_type is None

    def with_components(self, components: list[Component]) -> Flow:
        """This flow holding `components` in that order, numbered 1.. again: each one's
        block follows its parent's new number (an order no other component has, such as
        a negative one, marks a component added)."""
        number = {c.order: i + 1 for i, c in enumerate(components)}
        return self.model_copy(
            update={
                "components": [
                    c.model_copy(
                        update={
                            "order": number[c.order],
                            "block": number.get(c.block) if c.block is not None else None,
                        }
                    )
                    for c in components
                ]
            }
        )

    def with_changed(self, comp: Component, **update: Any) -> Flow:
        """This flow with `comp` (that very component) copied with `update` ("an IF
        that is the ELSE of the one before": `definition="ELSE", inputs=[]`)."""
        return self.model_copy(
            update={
                "components": [
                    c.model_copy(update=update) if c is comp else c for c in self.components
                ]
            }
        )

    def with_blocks(self, *blocks: tuple[Component, list[int]]) -> Flow:
        """This flow with each (flow logic, orders) of `blocks` put in: the flow logic (an
        IF, a FOREACH, ...) before the components `orders`, consecutive children of one
        block, and them, with what they hold, inside it; numbered 1.. again."""
        comps = list(self.components)
        mark = min([0, *(c.order for c in comps)])
        for logic, orders in blocks:
            mark -= 1  # an order no component has until `with_components` numbers them
            at = [c.order for c in comps].index(orders[0])
            end = subtree_end(comps, orders[-1])
            held = [
                c.model_copy(update={"block": mark}) if c.order in orders else c
                for c in comps[at:end]
            ]
            put = logic.model_copy(update={"order": mark, "block": comps[at].block})
            comps[at:end] = [put, *held]
        return self.with_components(comps)

    def component(self, order: int) -> Component | None:
        return next((c for c in self.components if c.order == order), None)

    def depths(self) -> dict[int, int]:
        """Each component's nesting depth by order (0: top level), in component order; a
        block that is not an earlier component counts as top level."""
        depth: dict[int, int] = {}
        for comp in self.components:
            depth[comp.order] = depth[comp.block] + 1 if comp.block in depth else 0
        return depth

    def children(self, order: int | None) -> list[Component]:
        """Direct children of the block `order` (top-level components for None)."""
        return [c for c in self.components if c.block == order]

    def neighbours(self, comp: Component) -> tuple[Component | None, Component | None]:
        """The siblings right before and right after `comp` in its block."""
        siblings = self.children(comp.block)
        at = siblings.index(comp)
        before = siblings[at - 1] if at else None
        after = siblings[at + 1] if at + 1 < len(siblings) else None
        return before, after

    def annotated_items(self) -> list[tuple[int | None, str, str | None]]:
        """(order, definition, annotation) of the trigger (order None) and each step."""
        items: list[tuple[int | None, str, str | None]] = []
        if self.trigger is not None:
            items.append((None, self.trigger_type or "", self.trigger.annotation))
        items += [(c.order, c.definition, c.annotation) for c in self.components]
        return items


def flow_json(flow: Flow) -> dict[str, Any]:
    """The flow as spec §1 JSON; empty lists (no inputs yet) and subflow inputs/outputs
    with no items left out (FlowSim's reference fails on an empty list there)."""
    data = flow.model_dump(mode="json", exclude_none=True)
    for part in [data, data.get("trigger") or {}, *data["components"]]:
        for key in ("inputs", "outputs"):
            if part.get(key) in ([], {"items": []}):
                del part[key]
    return data


def subtree_end(components: list[Component], order: int) -> int:
    """Index in `components` just past component `order` and the steps inside it."""
    end = next(i for i, c in enumerate(components) if c.order == order) + 1
    inside = {order}
    while end < len(components) and components[end].block in inside:
        inside.add(components[end].order)
        end += 1
    return end


def taken_out(
    flow: Flow, moved: list[Component], block: int | None
) -> tuple[list[Component], list[Component]]:
    """The flow's components without `moved` and what they hold, and those taken out,
    `moved` themselves put in `block` (not numbered again: the caller puts them back)."""
    comps = list(flow.components)
    taken: list[Component] = []
    for comp in moved:
        at = comps.index(comp)
        end = subtree_end(comps, comp.order)
        taken += comps[at:end]
        del comps[at:end]
    tops = {c.order for c in moved}
    return comps, [c.model_copy(update={"block": block}) if c.order in tops else c for c in taken]
