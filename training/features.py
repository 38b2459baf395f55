"""The error-analysis features of a case (spec §6), read off its gold flow, plus the
tags an author adds for what the flow cannot show (terse, implicit_action, misleading…)."""

from __future__ import annotations

from flowgen.flow.encoded_query import parse_query
from flowgen.flow.model import Flow
from flowgen.flow.pills import Pill, find_pills

QUERY_INPUTS = {"condition", "conditions", "email_conditions", "values", "fields", "field_values"}
# Tags only an author can give: how the requirement is written, or why it is refused.
AUTHOR_TAGS = {
    "complete_spec",
    "terse",
    "implicit_action",
    "ambiguous",
    "misleading",
    "harmful",
    "out_of_scope",
    "synonyms",
    "typo",
}


def flow_features(flow: Flow | None) -> set[str]:
    if flow is None:
        return {"refusal"}
    found: set[str] = set()
    if flow.trigger_type:
        found.add(flow.trigger_type)
    elif flow.input_params or flow.output_params:
        found.add("defines_subflow")  # a subflow itself (`subflow`: one that calls one)
    depth = flow.depths()
    for comp in flow.components:
        if comp.category == "flowlogic":
            found.add(comp.definition)
        elif comp.category == "subflow":
            found.add("subflow")
        elif comp.scope != "global":
            found.add("spoke_or_custom_step")
    if depth and max(depth.values()) >= 2:
        found.add("nested_logic")
    if len(flow.components) >= 6:
        found.add("long_flow")
    inputs = [*(flow.trigger.inputs if flow.trigger else [])]
    for comp in flow.components:
        inputs += comp.inputs
    for inp in inputs:
        pills = [p for p in find_pills(inp.value) if isinstance(p, Pill)]
        if pills:
            found.add("data_pill")
        if any(p.path for p in pills):
            found.add("dot_walk")
        if inp.name in QUERY_INPUTS:
            terms = [t for t in parse_query(inp.value) if t.field is not None]
            if inp.name in {"values", "field_values", "fields"}:
                if any(t.field in ("work_notes", "comments") for t in terms):
                    found.add("work_notes")
            elif len(terms) >= 2:
                found.add("multi_condition")
            if "^OR" in inp.value:
                found.add("or_condition")
    return found
