"""FlowSim (spec §4): tree edit distance between two flows, normalised to 0..1.

The headline FlowSim is ServiceNow's published `flow_similarity.py` (StarFlow,
`starvlm/dataset/metric/flow_similarity.py`): the same tree, built from the flow's JSON
as it was written (not from our validated model, so a flow our validator rejects still
gets the score the reference gives it), the same costs, the same |A| + |B|, and the same
0 where the reference's tree building or cost function fails. Its quirks are kept on
purpose so that our figures compare with published ones; docs/metrics.md lists them.
`benchmarks/flowsim_reference.py` checks this module against the reference code on the
pairs in tests/data/flowsim_reference/.

Every constant of the definition is named here so the module can be audited against the
reference in a few minutes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import zss

from flowgen.flow.encoded_query import QUERY_INPUTS
from flowgen.flow.model import Flow, flow_json
from flowgen.flow.parsing import MAX_COMPONENTS, MAX_FLOW_BYTES

ROOT, TRIGGER, COMPONENTS, INPUTS, OUTPUTS = "flow", "trigger", "components", "inputs", "outputs"
# QUERY_INPUTS hold encoded queries; in the full variant they are split into subtrees.
# Insert/delete cost 0. The reference tests labels, not positions: a query field named
# `values` is free too.
FREE_LABELS = frozenset({ROOT, TRIGGER, COMPONENTS, INPUTS, OUTPUTS}) | QUERY_INPUTS
# Relabelling to or from one of these costs 2: exact trigger type names ...
TRIGGER_TYPES = frozenset(
    {
        "record_create",
        "record_update",
        "record_create_or_update",
        "daily",
        "weekly",
        "monthly",
        "repeat",
        "run_once",
        "email",
        "sla_task",
        "service_catalog",
        "metric",
        "rest_async",
    }
)
# ... and any label starting with a component category (so also an input `action_x: 1`).
COMPONENT_PREFIXES = ("action", "flowlogic", "subflow")
INSERT_COST = DELETE_COST = 1
RELABEL_COST = 1
RELABEL_COST_TYPED = 2

# Encoded queries. At one position the first alternative listed wins, so the order of
# these tuples is part of the definition (`^EQ` before `^`, `NOT IN` before `NOT`, `IN`).
LOGICAL_CONNECTORS = ("^EQ", "^OR", "^NQ", "^", "OR")
COMPARISON_OPERATORS = (
    "VALCHANGES",
    "RELATIVEGT",
    "RELATIVEGE",
    "RELATIVELE",
    "RELATIVELT",
    "BETWEEN",
    "CHANGESTO",
    "CHANGESFROM",
    "EMPTYSTRING",
    "ISEMPTY",
    "ISNOTEMPTY",
    "STARTSWITH",
    "ENDSWITH",
    "SAMEAS",
    "NOTON",
    "NOT LIKE",
    "NOT IN",
    "LIKE",
    "NOT",
    "IN",
    "ON",
    "!=",
    ">=",
    "<=",
    "=",
    ">",
    "<",
)
# Values the reference treats as "no query" without parsing them.
NOT_A_QUERY = frozenset({"^EQ", "a to z"})
_CONNECTOR_RE = re.compile("|".join(re.escape(c) for c in LOGICAL_CONNECTORS))
# An operator right after a capital letter, `=` or `,` is part of a word or of a value
# (`DONE`, `a==b`, `IN1,IN2`), not an operator.
_OPERATOR_RE = re.compile(
    "(?<![A-Z=,])(" + "|".join(re.escape(o) for o in COMPARISON_OPERATORS) + ")"
)
_COUNTED_LINE = re.compile(r"^\d+:")

# A text that is not JSON is this flow (the reference's fallback).
EMPTY_FLOW: dict[str, Any] = {TRIGGER: None, COMPONENTS: []}

NodeKind = Literal["free", "typed", "plain"]
Variant = Literal["outline", "full"]


class TreeError(ValueError):
    """The reference cannot build or compare this tree, and scores the pair 0."""


def label_kind(label: str) -> NodeKind:
    if label in FREE_LABELS or label == "":
        return "free"
    if label in TRIGGER_TYPES or label.startswith(COMPONENT_PREFIXES):
        return "typed"
    return "plain"


@dataclass(eq=False)
class Node:
    # A string, except a trigger `type` that is not one in the JSON (kept as written: the
    # reference fails on it, and so scores 0; see `flowsim`).
    label: Any
    children: list[Node] = field(default_factory=list)

    @property
    def kind(self) -> NodeKind:
        return label_kind(self.label)

    @staticmethod
    def get_children(node: Node) -> list[Node]:
        return node.children


def insert_cost(node: Node) -> int:
    return 0 if node.kind == "free" else INSERT_COST


def remove_cost(node: Node) -> int:
    return 0 if node.kind == "free" else DELETE_COST


def update_cost(a: Node, b: Node) -> int:
    if a.label == b.label:
        return 0
    if a.kind == "typed" or b.kind == "typed":
        return RELABEL_COST_TYPED
    return RELABEL_COST


def size(root: Node) -> int:
    """|T| as the reference counts it: one per line of the printed tree (`zss` prints a
    node as `<number of children>:<label>`) whose text up to the next `:` is not a free
    label. So `name: value` counts unless `name` is a free label, an empty label counts
    (though it costs nothing), and a label with line breaks can count more than once."""
    count, stack = 0, [root]
    while stack:
        node = stack.pop()
        stack.extend(node.children)
        label = node.label
        if isinstance(label, str) and "\n" not in label:
            count += label.split(":", 1)[0] not in FREE_LABELS
            continue
        for line in f"{len(node.children)}:{label}".split("\n"):
            if _COUNTED_LINE.match(line) and line.split(":")[1] not in FREE_LABELS:
                count += 1
    return count


# -- encoded queries -----------------------------------------------------------------------
def _split(text: str, pattern: re.Pattern[str]) -> tuple[list[str], list[str]]:
    """Pieces of `text` between matches of `pattern`, and the matches. A piece that reads
    as one of the matches (after stripping) is dropped, as the reference drops it."""
    found = pattern.findall(text)
    return [p for p in pattern.split(text) if p.strip() not in found], found


def query_tree(query: str) -> Node:
    """`priority<=2^active=true` -> `^`(active(=, true), priority(<=, 2)).

    Terms are sorted by field and connectors by text, so neither order matters; the
    connectors become a right-leaning chain above the terms. A query with any part that
    is not exactly `field<OP>value` (an empty part from a leading `^` or a trailing
    `^EQ`, free text) is one empty node."""
    if query in NOT_A_QUERY:
        return Node("")
    parts, connectors = _split(query, _CONNECTOR_RE)
    terms = []
    for part in parts:
        sides, operators = _split(part, _OPERATOR_RE)
        if len(sides) != 2 or len(operators) != 1:
            return Node("")
        terms.append((sides[0], operators[0], sides[1]))
    terms.sort(key=lambda t: t[0])
    connectors.sort()
    if len(terms) <= len(connectors):
        raise TreeError("more connectors than terms")

    def term(t: tuple[str, str, str]) -> Node:
        return Node(t[0], [Node(t[1]), Node(t[2])])

    # Terms beyond one per connector + 1 cannot occur (a split yields one more piece than
    # matches); the reference would leave them out.
    tree = term(terms[len(connectors)])
    for k in range(len(connectors) - 1, -1, -1):
        tree = Node(connectors[k], [term(terms[k]), tree])
    return tree


# -- flow JSON -> tree -----------------------------------------------------------------------
# The builders use plain Python operations on the decoded JSON (`in`, `.get`, sorting,
# comparisons of `order`): JSON of an unexpected shape fails here exactly where it fails
# in the reference, and that failure is its score of 0.
def inputs_tree(inputs: Any) -> Node:
    children = []
    for item in sorted(inputs, key=lambda i: i.get("name", "")):
        name = item.get("name", "")
        value = str(item.get("value", ""))
        if name in QUERY_INPUTS:
            children.append(Node(name, [query_tree(value)]))
        else:
            children.append(Node(name + ": " + value))
    return Node(INPUTS, children)


def trigger_tree(trigger: Any, with_inputs: bool) -> Node:
    node = Node(TRIGGER)
    if trigger is None:
        return node
    type_node = Node(trigger.get("type", ""))
    if with_inputs and "inputs" in trigger:
        type_node.children.append(inputs_tree(trigger.get("inputs", [])))
    node.children.append(type_node)
    return node


def subflow_io_tree(io: Any, label: str) -> Node:
    """A subflow's declared inputs or outputs (`{"items": [{name, type, reference}]}`),
    in both variants: `name: type`, plus ` [table]` for a reference or records."""
    node = Node(label)
    if io is None:
        return node
    for item in io.get("items", []):
        text = f"{item.get('name', '')}: {item.get('type', 'string')}"
        kind = item.get("type", "string")
        if kind in ("reference", "records") and "reference" in item:
            text += f" [{item.get('reference', 'task')}]"
        node.children.append(Node(text))
    return node


def component_tree(comp: Any, components: Any, with_inputs: bool) -> Node:
    category = comp.get("category", "action")
    definition = comp.get("definition", "")
    if category == "flowlogic":
        definition = definition.upper()
    scope = comp.get("scope", "global")
    order = comp.get("order", -100)
    node = Node(f"{category}___{definition}___{scope}")
    if with_inputs and "inputs" in comp:
        node.children.append(inputs_tree(comp.get("inputs", [])))
    # Children: every later component whose block is this one, in list order; a block
    # that names no earlier component drops the step from the tree.
    for other in components:
        if other.get("order", -999) <= order:
            continue
        if other.get("block", -999) == order:
            node.children.append(component_tree(other, components, with_inputs))
    return node


def flow_to_tree(flow: Any, variant: Variant) -> Node:
    """The FlowSim tree of decoded flow JSON; raises TreeError where the reference fails."""
    with_inputs = variant == "full"
    try:
        root = Node(ROOT)
        if TRIGGER in flow:
            root.children.append(trigger_tree(flow.get(TRIGGER), with_inputs))
        for key in (INPUTS, OUTPUTS):
            if key in flow:
                root.children.append(subflow_io_tree(flow.get(key, []), key))
        if COMPONENTS in flow:
            components = flow.get(COMPONENTS, [])
            node = Node(COMPONENTS)
            for comp in components:
                if comp.get("block") is None:
                    node.children.append(component_tree(comp, components, with_inputs))
            root.children.append(node)
        return root
    except (AttributeError, TypeError, IndexError, RecursionError) as exc:
        raise TreeError(f"{type(exc).__name__}: {exc}") from None


# -- reading what is scored ------------------------------------------------------------------
def code_block(text: str) -> str:
    """The reference's reading of model output: the text between the first ```json and
    the last ```, if there is a ```json, then without surrounding fences."""
    if "```json" in text:
        text = text[text.find("```json") + len("```json") : text.rfind("```")].strip()
    return text.strip().removeprefix("```json").removesuffix("```").strip()


def flow_data(flow: Any) -> Any:
    """Decoded JSON for the tree: text is read as the reference reads it (text that is not
    JSON is the empty flow); a model is written out as spec §1 JSON; a dict is as given.
    Flows over the validator's size limits score as the empty flow (the reference would
    build them; the kernel's memory is quadratic in the number of nodes)."""
    if isinstance(flow, Flow):
        return flow_json(flow)
    if isinstance(flow, bytes):
        try:
            flow = flow.decode("utf-8")
        except UnicodeDecodeError:
            return EMPTY_FLOW
    if isinstance(flow, str):
        if len(flow) > MAX_FLOW_BYTES:
            return EMPTY_FLOW
        try:
            flow = json.loads(code_block(flow))
        except (ValueError, RecursionError):
            return EMPTY_FLOW
    if isinstance(flow, Mapping):
        components = flow.get(COMPONENTS)
        if isinstance(components, list) and len(components) > MAX_COMPONENTS:
            return EMPTY_FLOW
    return flow


# -- the metric ------------------------------------------------------------------------------
def zss_distance(a: Node, b: Node) -> float:
    """The reference's distance: `zss.distance` with these cost functions."""
    return float(zss.distance(a, b, Node.get_children, insert_cost, remove_cost, update_cost))


def fast_distance(a: Node, b: Node) -> float:
    """The same distance from the compiled kernel (about 1,000x faster on real flows)."""
    # Imported here: numba and LLVM take ~65 MB and 0.2 s, which every `flowgen` command
    # (the HTTP service among them) would pay at start for a metric it may never compute.
    from flowgen.metrics.ted import tree_edit_distance

    return tree_edit_distance(a, b, INSERT_COST, DELETE_COST, RELABEL_COST, RELABEL_COST_TYPED)


def _all_string_labels(root: Node) -> bool:
    stack = [root]
    while stack:
        node = stack.pop()
        if not isinstance(node.label, str):
            return False
        stack.extend(node.children)
    return True


def tree_similarity(
    a: Node, b: Node, distance: Callable[[Node, Node], float] = fast_distance
) -> float:
    size_a, size_b = size(a), size(b)
    if size_a == 0 and size_b == 0:
        return 1.0
    # A label that is not a string (`"type": null`, `"type": 3`) breaks the reference's
    # relabel cost, which it then reports as similarity 0.
    if not (_all_string_labels(a) and _all_string_labels(b)):
        return 0.0
    return 1 - (distance(a, b) / (size_a + size_b))


def flowsim(pred: Any, gold: Any, variant: Variant = "full") -> float:
    """1 − TED / (|pred| + |gold|) as ServiceNow's reference computes it.

    `pred` and `gold` are flow JSON (a dict, or text such as raw model output), a `Flow`,
    or None for a refusal. A refusal is the empty flow, except that a gold refusal is met
    only by a refusal (1) and any flow against it scores 0 (spec §6)."""
    if gold is None:
        return 1.0 if pred is None else 0.0
    try:
        tree_a = flow_to_tree({} if pred is None else flow_data(pred), variant)
        tree_b = flow_to_tree(flow_data(gold), variant)
    except TreeError:
        return 0.0
    return tree_similarity(tree_a, tree_b)
