"""Steps an IF's clause governs, moved into the IF from beside it.

"Then wait up to 21 days for the RMA to be received. If it still hasn't arrived by then,
email the contact a reminder and reopen the case; otherwise, add a work note": the small
model wrote the email before the wait, and the IF around the work note, so the customer
is reminded before the wait and whatever happens. In a long requirement it loses where
a step goes more often than which step it is.

An IF or ELSEIF of the outline whose words open an "if" clause governs the words after
its own up to where its clause ends (graph/uncovered_branches.py's `governed_end`: the
sentence, a semicolon, "otherwise", the next "if" clause), unless it holds a step
said before its words (it is on the wrong words, graph/branch_words.py). A step of those
words that the model wrote beside the branch (in the same block, before or after the
chain) goes into it, among its steps in the order of their words; graph/else_branches.py
then moves what the words say after "otherwise" into the ELSE. Only steps that hold no
others move, and none out of a block of their own (a TRY, a loop, another branch).

No train or dev gold flow (3,348, hand-written and synthetic) changes. With each step an
IF or ELSEIF holds (one holding no others) taken out and put right before or right after
its branch chain in turn, 4,152 of 5,012 go back, 4,138 as gold has them.

A "then" inside the sentence goes on with the branch ("If a contract is renewable, it
creates a vendor contract review record, and then emails the contract administrator";
fiftieth session, from the rephrased train cases, where the specification's voice says
so): where the rule had ended the branch's words at "then" as graph/uncovered_branches.py
does, of the 2,644 gold steps (hand-written, synthetic and rephrased) put right after
their chain, 2,152 go back rather than 2,144, 2,144 of them as gold has them rather than
2,136; no intact gold flow of train and dev changes.
"""

from __future__ import annotations

import re

from flowgen.flow.model import Component, Flow, subtree_end
from flowgen.graph.uncovered_asks import ordered_step_spans
from flowgen.graph.uncovered_branches import BRANCH_END, IF_CLAUSE, governed_end

BRANCHES = ("IF", "ELSEIF")
# An ELSEIF's words that open its own "if" clause: "else if it's past the due date".
ELSE_IF = re.compile(r"(?:else|otherwise),?\s+if\b", re.I)
# A branch's words end at its condition; what it governs starts after ", then".
LEAD_IN = re.compile(r"[\s,:]*(?:then\b)?", re.I)


def move_governed_steps(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """`flow` with each step its branch's clause governs moved into that branch (see
    above), and the moves as `definition | words -> branch words`."""
    moved: list[str] = []
    while (found := _a_governed_step(flow, requirement)) is not None:
        step, branch, at = found
        flow = _moved_into(flow, step, branch, at)
        moved.append(f"{step.definition} | {step.annotation} -> {branch.annotation}")
    return flow, moved


def _a_governed_step(flow: Flow, requirement: str) -> tuple[Component, Component, int] | None:
    """The first step written beside the branch whose clause governs its words, the
    branch, and where in the branch's steps it goes; None if there is none."""
    spans = ordered_step_spans(requirement, flow)
    where = {id(c): (s, e) for s, e, c in spans if c is not None}
    for branch in flow.components:
        if branch.definition not in BRANCHES or id(branch) not in where:
            continue
        if not _opens_a_clause(requirement, where[id(branch)][0]):
            continue  # "lift the containment if it was contained": the words come first
        kids = flow.children(branch.order)
        if any(where.get(id(k), (len(requirement), 0))[0] < where[id(branch)][0] for k in kids):
            # it holds a step said before its words: the model put the branch on other
            # words than its steps' (graph/branch_words.py), so its words govern nothing
            continue
        region = _governed(requirement, where[id(branch)][1])
        for step in flow.children(branch.block):
            if _moves(flow, step, region, where):
                words = where[id(step)]
                at = next(
                    (i for i, k in enumerate(kids) if _goes_before(words, where.get(id(k)))),
                    len(kids),
                )
                return step, branch, at
    return None


def _opens_a_clause(requirement: str, start: int) -> bool:
    """Whether a branch's words at `start` open an "if" clause ("If it still hasn't
    arrived", "else if it's past the due date")."""
    if ELSE_IF.match(requirement, start):
        return True
    return any(m.start("word") == start for m in IF_CLAUSE.finditer(requirement))


def _governed(requirement: str, after: int) -> tuple[int, int]:
    """The words a branch whose own words end at `after` governs."""
    start = LEAD_IN.match(requirement, after).end()  # type: ignore[union-attr]
    return start, governed_end(requirement, start, BRANCH_END)


def _moves(
    flow: Flow, step: Component, region: tuple[int, int], where: dict[int, tuple[int, int]]
) -> bool:
    if step.category == "flowlogic" or flow.children(step.order) or id(step) not in where:
        return False
    start, end = where[id(step)]
    return region[0] <= start and end <= region[1]


def _goes_before(words: tuple[int, int], other: tuple[int, int] | None) -> bool:
    """Whether a step on `words` goes before a step on `other`: words inside the other's
    come first (the look-up of "Desk Side Support" before "create a task for Desk Side
    Support"), words around the other's after it, and otherwise the earlier words."""
    if other is None:
        return True
    inside = other[0] <= words[0] and words[1] <= other[1]
    around = words[0] <= other[0] and other[1] <= words[1]
    if inside != around:
        return inside
    return words[0] < other[0]


def _moved_into(flow: Flow, step: Component, branch: Component, at: int) -> Flow:
    """`flow` with `step` the `at`-th step of `branch`."""
    comps = [c for c in flow.components if c is not step]
    kids = [c for c in comps if c.block == branch.order]
    index = comps.index(kids[at]) if at < len(kids) else subtree_end(comps, branch.order)
    comps.insert(index, step.model_copy(update={"block": branch.order}))
    return flow.with_components(comps)
