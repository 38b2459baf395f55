"""FlowSim (spec §4): hand-computed cases, and zss checked against a textbook
recursive tree edit distance on random trees."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

import pytest
from conftest import REPO
from flows import flow, log, logic, step
from hypothesis import given, settings
from hypothesis import strategies as st

from flowgen.flow.parsing import load_flow
from flowgen.metrics.flowsim import (
    Node,
    fast_distance,
    flow_to_tree,
    flowsim,
    insert_cost,
    query_tree,
    remove_cost,
    size,
    tree_similarity,
    update_cost,
    zss_distance,
)
from flowgen.metrics.lcss import lcss

T = ("record_update", {})


def sim(a: Any, b: Any, variant: str = "full") -> float:
    return flowsim(a, b, variant)  # type: ignore[arg-type]


def lookup(order: int, conditions: str, block: int | None = None) -> dict:
    return step(order, "look_up_record", block, table="incident", conditions=conditions)


# -- hand-computed -----------------------------------------------------------------------
def test_identical_and_empty() -> None:
    f = flow(log(1), trigger=T)
    assert sim(f, f) == 1.0
    assert sim(None, None) == 1.0  # two refusals
    assert sim(f, None) == 0.0  # a flow against a gold refusal
    assert sim({}, {}) == 1.0  # two empty flows
    assert sim("not json", f) == 0.0  # unparseable: the empty flow, TED = |f|


def test_missing_leaf_step() -> None:
    # |A| = trigger type + 2 steps = 3, |B| = 2, TED = 1 deletion.
    a, b = flow(log(1), step(2, "send_sms"), trigger=T), flow(log(1), trigger=T)
    assert sim(a, b, "outline") == pytest.approx(1 - 1 / 5, abs=1e-12)


def test_wrong_step_costs_a_typed_relabel() -> None:
    # relabel of a component label costs 2 (= delete + insert): 1 - 2/4.
    a, b = flow(step(1, "send_sms"), trigger=T), flow(step(1, "send_email"), trigger=T)
    assert sim(a, b, "outline") == pytest.approx(0.5, abs=1e-12)


def test_wrong_trigger_type() -> None:
    a, b = flow(trigger=("daily", {})), flow(trigger=("weekly", {}))
    assert sim(a, b) == 0.0  # 1 - 2/2


def test_simple_input_value_costs_one() -> None:
    # comp + `log_message: x` on each side; one plain relabel: 1 - 1/(3+3) with trigger type.
    a, b = flow(log(1, message="x"), trigger=T), flow(log(1, message="y"), trigger=T)
    assert sim(a, b) == pytest.approx(1 - 1 / 6, abs=1e-12)
    assert sim(a, b, "outline") == 1.0  # inputs are not in the outline


def test_condition_is_decomposed_with_its_connectors() -> None:
    one = flow(lookup(1, "active=true^priority<=2"), trigger=T)
    swapped = flow(lookup(1, "priority<=2^active=true"), trigger=T)
    fewer = flow(lookup(1, "priority<=2"), trigger=T)
    assert sim(one, swapped) == 1.0
    # |one| = type + comp + `table: incident` + `^` + 2 terms x (field, op, value) = 10;
    # |fewer| = 6. TED = 4 (delete ^, active, =, true); the input name is free.
    assert size(flow_to_tree(one, "full")) == 10
    assert sim(one, fewer) == pytest.approx(1 - 4 / 16, abs=1e-12)


def test_query_tree_shape() -> None:
    tree = query_tree("stateIN1,2^ORpriority=1^active=true")
    # Terms sorted by field, connectors by text (`^` < `^OR`), chained to the right.
    assert tree.label == "^"
    assert [c.label for c in tree.children] == ["active", "^OR"]
    assert [c.label for c in tree.children[1].children] == ["priority", "state"]
    assert [c.label for c in tree.children[1].children[1].children] == ["IN", "1,2"]


def test_query_quirks_of_the_reference() -> None:
    # A trailing ^EQ or a leading ^ leaves an empty term: the query is one empty node.
    assert query_tree("active=true^EQ").label == ""
    assert query_tree("^active=true").label == ""
    # `OR` is a connector even inside a word, so ERROR leaves an empty term.
    assert query_tree("short_descriptionLIKEERROR").label == ""
    assert query_tree("a to z").label == ""
    # An operator after a capital letter is part of a word.
    assert [c.label for c in query_tree("state=DONE").children] == ["=", "DONE"]


def test_operator_and_value_are_separate_nodes() -> None:
    a = flow(lookup(1, "priority<=2"), trigger=T)
    b = flow(lookup(1, "priority<2"), trigger=T)
    assert sim(a, b) == pytest.approx(1 - 1 / 12, abs=1e-12)


def test_nesting_matters() -> None:
    # FOREACH containing a step vs the same step after the FOREACH: an ancestor
    # relation cannot be kept, so one node is deleted and inserted: 1 - 2/6.
    inside = flow(logic(1, "FOREACH"), log(2, 1), trigger=T)
    after = flow(logic(1, "FOREACH"), log(2), trigger=T)
    assert sim(inside, after, "outline") == pytest.approx(1 - 2 / 6, abs=1e-12)


def test_free_nodes_cost_nothing() -> None:
    # An empty `inputs` node on one side only is free: the step without inputs matches.
    a = flow(log(1, message="x"), trigger=T)
    b = flow(step(1, "log"), trigger=T)
    assert sim(a, b) == pytest.approx(1 - 1 / 5, abs=1e-12)


def test_starflow_subflow_inputs_and_outputs_are_nodes() -> None:
    sub = {
        "name": "Close a record",
        "description": "StarFlow shape",
        "trigger": None,
        "inputs": {"items": [{"name": "record", "type": "reference", "reference": "incident"}]},
        "outputs": {"items": [{"name": "done", "type": "boolean"}]},
        "components": [log(1)],
    }
    labels = [c.label for c in flow_to_tree(sub, "outline").children[1].children]
    assert labels == ["record: reference [incident]"]
    assert size(flow_to_tree(sub, "outline")) == 3  # two declarations and the step
    assert sim(sub, sub) == 1.0
    # io nodes against the trigger type: relabel 2 or delete + insert: 1 - 3/5.
    assert sim(sub, flow(log(1), trigger=T), "outline") == pytest.approx(1 - 3 / 5, abs=1e-12)


def test_reference_failures_score_zero() -> None:
    f = flow(log(1), trigger=T)
    # The reference fails on these and reports 0, even for a flow against itself.
    for broken in (
        flow(log(1), trigger=(None, {})),  # "type": null
        {**f, "inputs": [{"name": "x"}]},  # subflow inputs as a bare list
        {**f, "trigger": "record_update"},
        {**f, "components": [{**log(1), "order": "1"}, log(2)]},  # "1" <= 2
    ):
        assert sim(broken, broken) == 0.0
        assert sim(f, broken, "outline") == 0.0


def test_block_to_no_earlier_step_drops_the_step() -> None:
    broken = flow(log(1, 7), trigger=T)  # block 7 does not exist
    # |broken| = type; |B| = type + log + `log_message: hello`; TED = 2.
    assert sim(broken, flow(log(1), trigger=T)) == pytest.approx(1 - 2 / 4, abs=1e-12)


def test_size_counts_as_the_reference_prints() -> None:
    assert size(Node("x: 1")) == 1
    assert size(Node("inputs: x")) == 0  # text before the first `:` is a free label
    assert size(Node("")) == 1  # an empty node counts, though it costs nothing
    assert size(Node("a\n12:30")) == 2  # a second line that looks like a node
    assert insert_cost(Node("")) == 0


def test_relabel_costs_two_for_component_prefixes_and_trigger_names() -> None:
    assert update_cost(Node("action_type: a"), Node("action_type: b")) == 2
    assert update_cost(Node("email"), Node("mail")) == 2
    assert update_cost(Node("x: 1"), Node("x: 2")) == 1


def test_fenced_model_output_is_read() -> None:
    f = flow(log(1), trigger=T)
    assert sim("Sure:\n```json\n" + json.dumps(f) + "\n```", f) == 1.0


def test_lcss() -> None:
    a = flow(log(1), step(2, "send_sms"), step(3, "send_email"), trigger=T)
    b = flow(log(1), step(2, "send_email"), trigger=T)
    assert lcss(load_flow(a).flow, load_flow(b).flow) == pytest.approx(3 / 4)
    assert lcss(None, None) == 1.0


# -- zss against a textbook definition ---------------------------------------------------
def reference_distance(a: Node, b: Node) -> float:
    """Forest edit distance by its recursive definition (rightmost roots), memoised."""

    def forest(nodes: list[Node]) -> tuple:
        return tuple((n.label, forest(n.children)) for n in nodes)

    def node_of(t: tuple) -> Node:
        return Node(t[0])

    @cache
    def d(f1: tuple, f2: tuple) -> float:
        if not f1 and not f2:
            return 0
        if not f1:
            v = f2[-1]
            return d(f1, f2[:-1] + v[1]) + insert_cost(node_of(v))
        if not f2:
            v = f1[-1]
            return d(f1[:-1] + v[1], f2) + remove_cost(node_of(v))
        v, w = f1[-1], f2[-1]
        return min(
            d(f1[:-1] + v[1], f2) + remove_cost(node_of(v)),
            d(f1, f2[:-1] + w[1]) + insert_cost(node_of(w)),
            d(f1[:-1], f2[:-1]) + d(v[1], w[1]) + update_cost(node_of(v), node_of(w)),
        )

    return d(forest([a]), forest([b]))


# Plain, typed (trigger type, component) and free labels (`inputs`, the empty label).
PLAIN_LABELS = ["a", "b", "x: 1", "daily", "action___log___global", "subflow_x", "inputs", ""]
labels = st.sampled_from(PLAIN_LABELS)


def trees_of(labels: st.SearchStrategy[str]) -> st.SearchStrategy[Node]:
    return st.recursive(
        st.builds(Node, labels),
        lambda kids: st.builds(Node, labels, st.lists(kids, max_size=3)),
        max_leaves=6,
    )


trees = trees_of(labels)
# With a label whose |T| count and cost differ (`inputs: z` costs 1, counts 0).
odd_trees = trees_of(st.sampled_from([*PLAIN_LABELS, "inputs: z"]))


@settings(max_examples=300, deadline=None)
@given(odd_trees, odd_trees)
def test_zss_and_kernel_match_textbook_definition(a: Node, b: Node) -> None:
    expected = reference_distance(a, b)
    assert zss_distance(a, b) == pytest.approx(expected, abs=1e-9)
    assert fast_distance(a, b) == pytest.approx(expected, abs=1e-9)


def test_kernel_matches_zss_on_realistic_flows() -> None:
    import random
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    from flowsim_bench import make_flow, perturb

    rng = random.Random(3)
    for n in (1, 2, 5, 9, 12):
        gold = make_flow(rng, n)
        for variant in ("outline", "full"):
            a = flow_to_tree(perturb(rng, gold), variant)
            b = flow_to_tree(gold, variant)
            assert fast_distance(a, b) == zss_distance(a, b)


@settings(max_examples=100, deadline=None)
@given(trees, trees)
def test_flowsim_is_symmetric_and_bounded(a: Node, b: Node) -> None:
    s = tree_similarity(a, b)
    assert 0.0 <= s <= 1.0
    assert s == pytest.approx(tree_similarity(b, a), abs=1e-9)
