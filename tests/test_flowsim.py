"""FlowSim (spec §4): hand-computed cases, and zss checked against a textbook
recursive tree edit distance on random trees."""

from __future__ import annotations

from functools import cache

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
    remove_cost,
    size,
    tree_similarity,
    update_cost,
    zss_distance,
)
from flowgen.metrics.lcss import lcss

T = ("record_update", {})


def sim(a: dict | None, b: dict | None, variant: str = "full") -> float:
    return flowsim(load_flow(a).flow, load_flow(b).flow, variant)  # type: ignore[arg-type]


def lookup(order: int, conditions: str, block: int | None = None) -> dict:
    return step(order, "look_up_record", block, table="incident", conditions=conditions)


# -- hand-computed -----------------------------------------------------------------------
def test_identical_and_empty() -> None:
    f = flow(log(1), trigger=T)
    assert sim(f, f) == 1.0
    assert sim(None, None) == 1.0  # two empty flows
    assert sim(f, None) == 0.0  # everything deleted: TED = |f|


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


def test_condition_is_decomposed_and_order_free() -> None:
    one = flow(lookup(1, "active=true^priority<=2"), trigger=T)
    swapped = flow(lookup(1, "priority<=2^active=true"), trigger=T)
    fewer = flow(lookup(1, "priority<=2"), trigger=T)
    assert sim(one, swapped) == 1.0
    # |one| = type + comp + `table: incident` + 2 terms × (field, op, value) = 9; |fewer| = 6.
    # TED = 3 (delete active, =, true); the input name `conditions` is free.
    assert size(flow_to_tree(load_flow(one).flow, "full")) == 9
    assert sim(one, fewer) == pytest.approx(1 - 3 / 15, abs=1e-12)


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


def test_subflow_has_no_trigger_node() -> None:
    sub = flow(log(1), trigger=(None, {}))
    assert size(flow_to_tree(load_flow(sub).flow, "outline")) == 1
    assert sim(sub, flow(log(1), trigger=T), "outline") == pytest.approx(1 - 1 / 3, abs=1e-12)


def test_broken_block_still_scores() -> None:
    broken = flow(log(1, 7), trigger=T)  # block 7 does not exist: hangs at top level
    assert sim(broken, flow(log(1), trigger=T)) == 1.0


def test_lcss() -> None:
    a = flow(log(1), step(2, "send_sms"), step(3, "send_email"), trigger=T)
    b = flow(log(1), step(2, "send_email"), trigger=T)
    assert lcss(load_flow(a).flow, load_flow(b).flow) == pytest.approx(3 / 4)
    assert lcss(None, None) == 1.0


# -- zss against a textbook definition ---------------------------------------------------
def reference_distance(a: Node, b: Node) -> float:
    """Forest edit distance by its recursive definition (rightmost roots), memoised."""

    def forest(nodes: list[Node]) -> tuple:
        return tuple((n.label, n.kind, forest(n.children)) for n in nodes)

    def node_of(t: tuple) -> Node:
        return Node(t[0], t[1])

    @cache
    def d(f1: tuple, f2: tuple) -> float:
        if not f1 and not f2:
            return 0
        if not f1:
            v = f2[-1]
            return d(f1, f2[:-1] + v[2]) + insert_cost(node_of(v))
        if not f2:
            v = f1[-1]
            return d(f1[:-1] + v[2], f2) + remove_cost(node_of(v))
        v, w = f1[-1], f2[-1]
        return min(
            d(f1[:-1] + v[2], f2) + remove_cost(node_of(v)),
            d(f1, f2[:-1] + w[2]) + insert_cost(node_of(w)),
            d(f1[:-1], f2[:-1]) + d(v[2], w[2]) + update_cost(node_of(v), node_of(w)),
        )

    return d(forest([a]), forest([b]))


labels = st.sampled_from(["a", "b", "c", "inputs", "x: 1"])
kinds = st.sampled_from(["plain", "typed", "free"])
trees = st.recursive(
    st.builds(Node, labels, kinds),
    lambda kids: st.builds(Node, labels, kinds, st.lists(kids, max_size=3)),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None)
@given(trees, trees)
def test_zss_and_kernel_match_textbook_definition(a: Node, b: Node) -> None:
    total = size(a) + size(b)
    expected = 1.0 if total == 0 else 1 - reference_distance(a, b) / total
    assert tree_similarity(a, b, zss_distance) == pytest.approx(expected, abs=1e-9)
    assert tree_similarity(a, b, fast_distance) == pytest.approx(expected, abs=1e-9)


def test_kernel_matches_zss_on_realistic_flows() -> None:
    import random
    import sys

    sys.path.insert(0, str(REPO / "benchmarks"))
    from flowsim_bench import make_flow, perturb

    rng = random.Random(3)
    for n in (1, 2, 5, 9, 12):
        gold = make_flow(rng, n)
        for variant in ("outline", "full"):
            a = flow_to_tree(load_flow(perturb(rng, gold)).flow, variant)
            b = flow_to_tree(load_flow(gold).flow, variant)
            assert fast_distance(a, b) == zss_distance(a, b)


@settings(max_examples=100, deadline=None)
@given(trees, trees)
def test_flowsim_is_symmetric_and_bounded(a: Node, b: Node) -> None:
    s = tree_similarity(a, b)
    assert 0.0 <= s <= 1.0
    assert s == pytest.approx(tree_similarity(b, a), abs=1e-9)
