"""An IF's words are the "if" clause that governs its steps, not another one.

"If approved, the article shall be published; if rejected, it shall be retired": the
small model writes the two branches, but on the same words, `IF | if rejected` around
"published". Its inputs call then tests for a rejection, and the article is published
when it is rejected. The outline's structure is right; its words are not.

Each step's governing clause is the last "if" clause (graph/uncovered_branches.py's
`IF_CLAUSE`, "else if" too), "when" clause or "otherwise" word (graph/else_branches.py)
before the step's span in its sentence. Where every step of an IF or ELSEIF with spans
has the same governing clause, an "if" clause of two words at least (up to the first
step's words) that the branch's own words neither hold nor start in, and no other branch
is on those words, the branch takes them. Not a clause about a step failing ("if
creating the team fails": a CATCH's words), nor "if so".

On the 3,348 hand-written and synthetic train and dev gold flows it changes none.
"""

from __future__ import annotations

import re

from flowgen.flow.flowlogic import without_blocks
from flowgen.flow.model import Component, Flow
from flowgen.graph.case_chains import CASE_CLAUSE
from flowgen.graph.else_branches import BRANCHES, OTHERWISE
from flowgen.graph.uncovered_asks import SENTENCE_BREAK, ordered_step_spans
from flowgen.graph.uncovered_branches import CONDITION_END, IF_CLAUSE, STEP_FAILS

# Clauses that govern the steps after them besides IF_CLAUSE's: "else if" (an ELSEIF's),
# and "when ..." inside a sentence (gold writes an IF on it too).
ELSE_IF = re.compile(r"\belse,?\s+(?P<word>if)\b", re.I)
WHEN = re.compile(r"(?:[.;:,]\s*|\b(?:and|then|but)\s+)(?P<word>when)\b", re.I)
# "if so" tests the clause before it: no words of its own.
REFERS_BACK = re.compile(r"if so\b", re.I)

Clause = tuple[int, int, str]  # start, end of its condition words, kind ("if", "when", "else")


def settle_branch_words(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """`flow` with each IF or ELSEIF on the words of the clause that governs its steps
    (see above), and the changes as `old words -> new words`."""
    clauses = _clauses(requirement)
    spans = ordered_step_spans(requirement, flow)
    where = {id(c): (s, e) for s, e, c in spans if c is not None}
    taken = {c.annotation for c in flow.components if c.definition in BRANCHES}
    changed: list[str] = []
    comps = list(flow.components)
    for i, branch in enumerate(comps):
        if branch.definition not in BRANCHES:
            continue
        said = [where[id(k)][0] for k in flow.children(branch.order) if id(k) in where]
        governing = {_governing(requirement, clauses, at) for at in said}
        if len(governing) != 1:
            continue
        clause = governing.pop()
        if clause is None or clause[2] != "if":
            continue
        # the condition ends where its first step's words begin ("if so move it ...")
        words = requirement[clause[0] : min(clause[1], *said)].split("->")[0].strip(" ,")
        own = where.get(id(branch))
        if len(words.split()) < 2 or words in taken or _overlaps(own, clause):
            continue
        if STEP_FAILS.search(words) or REFERS_BACK.match(words):
            continue
        comps[i] = branch.model_copy(update={"annotation": words})
        taken.add(words)
        changed.append(f"{branch.annotation} -> {words}")
    return (flow.model_copy(update={"components": comps}), changed) if changed else (flow, [])


def split_branches_by_clause(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """`flow` with each IF whose steps two or more "if" clauses govern, one after the
    other ("If they approve, set the claim to Accepted; if they reject it, set it to
    Denied", both updates written in one IF on "if they reject it"), split into one IF
    per clause, on its words, each holding the steps it governs (graph/negated_tests.py
    then makes the other case an ELSE); and the new IFs' words. No gold IF's steps are
    governed by two clauses."""
    clauses = _clauses(requirement)
    added: list[str] = []
    while (found := _split_first(flow, requirement, clauses)) is not None:
        flow, words = found
        added += words
    return flow, added


def _split_first(
    flow: Flow, requirement: str, clauses: list[Clause]
) -> tuple[Flow, list[str]] | None:
    """The flow with its first IF that two clauses govern split (see above), and the
    split IFs' words; None where there is none."""
    for branch in flow.components:
        if branch.definition != "IF":
            continue
        groups = _governed_groups(flow, requirement, clauses, branch)
        if groups is None:
            continue
        # the IF's steps in its place, then a copy of it on each clause around its run
        unwrapped = flow.model_copy(
            update={"components": without_blocks(flow.components, {branch.order})}
        )
        split = unwrapped.with_blocks(
            *(
                (
                    branch.model_copy(update={"annotation": words, "inputs": []}),
                    [kid.order for kid in kids],
                )
                for words, kids in groups
            )
        )
        return split, [words for words, _ in groups]
    return None


def _governed_groups(
    flow: Flow, requirement: str, clauses: list[Clause], branch: Component
) -> list[tuple[str, list[Component]]] | None:
    """The IF's steps in runs governed by one "if" clause each, with the clause's words,
    where there are two runs or more, every step said, and no other branch on the words;
    None otherwise."""
    spans = ordered_step_spans(requirement, flow)
    where = {id(c): s for s, _, c in spans if c is not None}
    kids = flow.children(branch.order)
    # actions only: a test nested in it has its own words ("if it's already overdue and
    # the privilege is admin, ...; if it's overdue but not admin, ...")
    if len(kids) < 2 or any(id(k) not in where or k.category == "flowlogic" for k in kids):
        return None
    runs: list[tuple[Clause, list[Component]]] = []
    for kid in kids:
        clause = _governing(requirement, clauses, where[id(kid)])
        if clause is None or clause[2] != "if":
            return None
        if runs and runs[-1][0] == clause:
            runs[-1][1].append(kid)
        elif any(clause == seen for seen, _ in runs):
            return None
        else:
            runs.append((clause, [kid]))
    if len(runs) < 2:
        return None
    taken = {
        c.annotation
        for c in flow.components
        if c.definition in (*BRANCHES, "ELSE") and c is not branch
    }
    groups = []
    for (start, end, _), steps in runs:
        words = requirement[start : min(end, where[id(steps[0])])].split("->")[0].strip(" ,")
        if len(words.split()) < 2 or words in taken or STEP_FAILS.search(words):
            return None
        groups.append((words, steps))
    return groups


def _clauses(requirement: str) -> list[Clause]:
    found: list[Clause] = []
    for pattern, kind in ((IF_CLAUSE, "if"), (ELSE_IF, "if"), (CASE_CLAUSE, "if"), (WHEN, "when")):
        for match in pattern.finditer(requirement):
            start = match.start("word")
            if pattern is ELSE_IF:
                start = match.start()
            stop = CONDITION_END.search(requirement, match.end("word"))
            found.append((start, stop.start() if stop else len(requirement), kind))
    found += [(m.start(), m.end(), "else") for m in OTHERWISE.finditer(requirement)]
    return sorted(set(found))


def _governing(requirement: str, clauses: list[Clause], at: int) -> Clause | None:
    """The last clause that starts before `at` in the same sentence, if any."""
    before = [c for c in clauses if c[0] < at and not SENTENCE_BREAK.search(requirement, c[0], at)]
    return before[-1] if before else None


def _overlaps(own: tuple[int, int] | None, clause: Clause) -> bool:
    return own is not None and own[0] < clause[1] and clause[0] < own[1]
