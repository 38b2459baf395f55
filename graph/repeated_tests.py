"""Of the IFs written on the same words one stays; the others go, their steps kept.

Lost in a long requirement, the small model writes an IF, then the same IF again on the
same span, each over other steps: `IF | if CrowdStrike fails` twice over the same page,
`IF | if they need VPN` over the VPN group and again over the steps that follow it,
`IF | if its model category is laptop` over the email and again over the task, with the
ELSE after the second. No gold flow of ours, hand-written or synthetic, has any
flow-logic item (IF, ELSEIF, FOREACH, PATH ...) on the span of an earlier one (0 of the
3,348 train and dev flows); adapter v11 writes a repeated IF or ELSEIF in 8 of the 184
dev flows.

One of them stays: the one whose first step is on the words that follow its own in the
same sentence of the requirement ("if the search returns more than 50 events, raise the
risk score to 90"), closest; the first where there is none. The steps of those that go
stay where the model wrote them, one level up (the rules after this one move a step a
clause governs into its test: graph/governed_steps.py), and one that repeats a step
written elsewhere on the same words goes with them (the page under the second `if
CrowdStrike fails`). A test that an ELSE or ELSEIF continues goes only where the kept one
is right before it, with no chain of its own: its steps join the kept one's and the chain
goes on from there (the email and the task above). A test inside another on the same
words is left alone: there, the outer one is most often written on the inner one's words
and tests another clause.

Measured on adapter v11's dev flows: docs/results.md (forty-sixth session).
"""

from __future__ import annotations

from flowgen.flow.flowlogic import CONTINUES_IF
from flowgen.flow.model import Component, Flow, subtree_end
from flowgen.graph.uncovered_asks import SENTENCE_BREAK

_TESTS = frozenset({"IF", "ELSEIF"})


def _key(comp: Component) -> tuple[str, str]:
    return comp.definition, " ".join((comp.annotation or "").lower().split())


def _inside(flow: Flow, inner: Component, outer: Component) -> bool:
    """Whether `inner` is somewhere in what `outer` holds."""
    comps = flow.components
    return comps.index(outer) < comps.index(inner) < subtree_end(comps, outer.order)


def _repeated_tests(flow: Flow) -> list[list[Component]]:
    """The sets of IFs or ELSEIFs on the same words, none inside another (the first of
    each set and those after it)."""
    tests = [
        c
        for c in flow.components
        if c.category == "flowlogic" and c.definition in _TESTS and _key(c)[1]
    ]
    sets = []
    for at, first in enumerate(tests):
        same = [first] + [
            later
            for later in tests[at + 1 :]
            if _key(later) == _key(first) and not _inside(flow, later, first)
        ]
        if len(same) > 1:
            sets.append(same)
    return sets


def _continued(flow: Flow, test: Component) -> bool:
    _, after = flow.neighbours(test)
    return after is not None and after.definition in CONTINUES_IF


def _governing(flow: Flow, tests: list[Component], requirement: str | None) -> Component:
    """The test whose first step is on words that follow its own in the same sentence of
    the requirement, closest; the first where there is none."""
    if not requirement:
        return tests[0]
    span = tests[0].annotation or ""
    at = requirement.find(span)
    if at < 0:
        return tests[0]
    best, distance = tests[0], None
    for test in tests:
        held = flow.children(test.order)
        start = requirement.find(held[0].annotation or "", at) if held else -1
        between = requirement[at + len(span) : start]
        if start < at + len(span) or SENTENCE_BREAK.search(between):
            continue
        if distance is None or start - at < distance:
            best, distance = test, start - at
    return best


def _without(flow: Flow, gone: Component, into: Component | None) -> Flow:
    """`flow` without the test `gone`: its steps moved into `into` (after its own) or,
    without one, up to `gone`'s block in its place; those that repeat a step written
    elsewhere on the same words dropped, with what they hold."""
    comps = flow.components
    at = comps.index(gone)
    end = subtree_end(comps, gone.order)
    held = comps[at + 1 : end]
    elsewhere = {_key(c) for c in comps[:at] + comps[end:] if c.category != "flowlogic"}
    removed = {gone.order}
    for c in held:
        copied = c.block == gone.order and _key(c) in elsewhere
        if copied or (c.block in removed and c.block != gone.order):
            removed.add(c.order)
    block = into.order if into is not None else gone.block
    moved = [
        c.model_copy(update={"block": block}) if c.block == gone.order else c
        for c in held
        if c.order not in removed
    ]
    return flow.with_components(comps[:at] + moved + comps[end:])


def _next_drop(flow: Flow, requirement: str | None) -> tuple[Component, Component | None] | None:
    """(a test to drop, the test its steps join or None) for the first set of tests on
    the same words that has one, or None."""
    for same in _repeated_tests(flow):
        kept = _governing(flow, same, requirement)
        for gone in same:
            if gone is kept:
                continue
            if not _continued(flow, gone):
                return gone, None
            # its chain goes on after the kept test only where that one is right before it
            if flow.neighbours(gone)[0] == kept and not _continued(flow, kept):
                return gone, kept
    return None


def drop_repeated_tests(flow: Flow, requirement: str | None = None) -> tuple[Flow, list[str]]:
    """The flow with one IF or ELSEIF of each set on the same words (see above), and the
    spans of those dropped (for the trace)."""
    dropped: list[str] = []
    while (found := _next_drop(flow, requirement)) is not None:
        gone, into = found
        dropped.append(gone.annotation or gone.definition)
        flow = _without(flow, gone, into)
    return flow, dropped
