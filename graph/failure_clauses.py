"""A clause about a step failing that no CATCH holds: a TRY around that step, a CATCH
around what the clause asks for.

"Deactivate them in Okta. If the Okta call fails, log an error and email the IAM team"
is a TRY around the Okta step and a CATCH around the log and the email. The earlier
rules catch such a clause where the model wrote it as an IF right after the step
(graph/outline_repair.py's `catch_failures`) or left its words and steps alone, in a row
(graph/uncovered_branches.py). In long requirements adapter v11 does neither: it puts a
step of its own on the clause's words (`look_up_record | the okta call`), writes the
clause as the ELSE of the test before it, or scatters the clause's steps (the email at
the end of the flow, the task inside another IF). This rule reads the clause from the
requirement instead:

- the clause opens with "if" or "should" and says, before its first comma (or the first
  step's words), that something fails, errors out, goes wrong or cannot be reached;
- what it asks for (the CATCH) is each action whose words start after the clause's
  condition and before the clause ends (graph/uncovered_branches.py's ends: a sentence,
  a semicolon, "otherwise", "then"), moved from wherever the model put it;
- what may fail (the TRY) is the action whose words come last before the clause, as in
  290 of the 299 TRYs of the hand-written and synthetic train and dev flows; where the
  requirement says "try to" / "tries to" / "attempts to" (in the same sentence as that
  action or the one before), the TRY runs from the step on the words after it to that
  action ("tries to grant the access ... and then adds a work note": both), and "either
  of these calls" takes the action before it too;
- a test the model wrote on the clause's words (an IF, ELSEIF or ELSE) goes, the steps
  it held that the clause does not ask for staying where it was; an action on the
  condition's own words (`look_up_record | the okta call`) goes, and so does a branch
  left empty by the moves.

Left alone: a clause a CATCH's words already reach; one with no step of its own; one
where the words after "try to" have no step (the step that may fail is missing); an IF
on the clause's words that an ELSE or ELSEIF continues; and moves that would leave empty
an IF its ELSE continues or a TRY its CATCH.
"""

from __future__ import annotations

import re

from flowgen.flow.flowlogic import CONTINUES_IF, without_blocks, without_empty_blocks
from flowgen.flow.model import Component, Flow, subtree_end
from flowgen.graph.named_subflows import name_stems
from flowgen.graph.uncovered_asks import SEMICOLON_OR_SENTENCE, ordered_step_spans
from flowgen.graph.uncovered_branches import CONDITION_END, governed_end

# "if that fails", "if Okta is unreachable": a failure of a step, which a flow catches
# (TRY/CATCH) rather than tests (IF). Of the train flows' 287 IF, ELSEIF and CATCH
# annotations with these words, all 287 are CATCHes; "if Salesforce cannot be reached"
# (one dev CATCH) says the same of a system.
FAILURE = re.compile(
    r"\b(fails?|failed|failing|failure|errors? out|unreachable|unsuccessful"
    r"|does(?: not|n't) work|goes wrong|(?:cannot|can't|could ?n[o']t) be reached)\b",
    re.IGNORECASE,
)

# "if" or "should" opening a clause, where graph/uncovered_branches.py's IF_CLAUSE opens
# one ("should that fail, ...": 62 train CATCHes).
OPENING = re.compile(
    r"(?:^|(?<=[.;:,!?(])|\b(?:and|then|but|so)\s+|\s-\s+)\s*(?P<word>if|should)\b", re.I
)
# Words that open what is tried ("tries to grant the access ... and then adds a note").
ATTEMPT = re.compile(r"\b(?:try|tries|trying|attempts?|attempting)\s+(?:to\s+)?", re.I)
EITHER = re.compile(r"\b(?:either|both|any) of (?:these|those|them|the two)\b", re.I)
# Words of a failure clause that name no step ("if either of these calls fails").
_NOT_NAMED = (
    "if should anything something any either these those this that it its in of step steps one them"
).split()
# The model's tests that may stand on the clause's words.
TESTS = {"IF", "ELSEIF", "ELSE"}
# A step's words' start and end in the requirement, and the step.
Placed = tuple[int, int, Component]


def catch_failure_clauses(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """`flow` with each failure clause no CATCH holds caught (see above), and the CATCHes
    added as `CATCH | words`."""
    caught: list[str] = []
    for opening in OPENING.finditer(requirement):
        start = opening.start("word")
        condition = CONDITION_END.search(requirement, opening.end("word"))
        limit = condition.start() if condition else len(requirement)
        failure = FAILURE.search(requirement, opening.end("word"), limit)
        if failure is None:
            continue
        found = _caught(flow, requirement, start, failure.span(), limit)
        if found is not None:
            flow, words = found
            caught.append(f"CATCH | {words}")
    return flow, caught


def _caught(
    flow: Flow, requirement: str, start: int, failure: tuple[int, int], limit: int
) -> tuple[Flow, str] | None:
    """The flow with the clause at `start` caught, and the CATCH's words; or None."""
    spans: list[Placed] = [
        (s, e, c) for s, e, c in ordered_step_spans(requirement, flow) if c is not None
    ]
    if any(c.definition == "CATCH" and s < limit and start < e for s, e, c in spans):
        return None
    actions = [(s, e, c) for s, e, c in spans if c.category != "flowlogic"]
    failed, failed_end = failure
    end = min([limit, *(s for s, _, _ in actions if s >= failed_end)])
    stop = governed_end(requirement, end)
    asked = [c for s, _, c in actions if end <= s < stop]
    if not asked:
        return None
    on_words = [c for s, e, c in actions if start <= s and e <= end and c not in asked]
    tests = [c for s, e, c in spans if c.definition in TESTS and s < end and start < e]
    clause = (start, failed, end)
    attempts = _attempt(flow, requirement, actions, clause, set(map(id, asked + on_words)))
    if attempts is None:
        return None
    words = requirement[start:failed_end]
    rebuilt = _rebuilt(flow, attempts, asked, on_words, tests, words)
    return (rebuilt, words) if rebuilt is not None else None


def _attempt(
    flow: Flow,
    requirement: str,
    actions: list[Placed],
    clause: tuple[int, int, int],
    taken: set[int],
) -> tuple[list[int], str] | None:
    """(the orders of the steps that may fail, the TRY's words), or None."""
    start, failure, end = clause
    before = [(s, e, c) for s, e, c in actions if s < start and id(c) not in taken]
    if not before:
        return None
    last_start, _, last = max(before, key=lambda x: (x[0], flow.components.index(x[2])))
    first, words = last, last.annotation or ""
    attempted = list(ATTEMPT.finditer(requirement, 0, start))
    said = attempted[-1] if attempted else None
    if said is not None and said.start() > last_start:
        return None  # "then tries to block the IP": the step that may fail is missing
    named = _named(flow, before, requirement[start:failure])
    if said is not None and not SEMICOLON_OR_SENTENCE.search(requirement, said.end(), last_start):
        _, opened_end, first = min(
            ((s, e, c) for s, e, c in before if s >= said.start()), key=lambda x: x[0]
        )
        words = requirement[said.start() : opened_end]
    elif named is not None:
        first, words = named, named.annotation or ""
    elif EITHER.search(requirement, start, end):
        prior = flow.neighbours(last)[0]
        if prior is not None and prior.category != "flowlogic":
            first, words = prior, prior.annotation or ""
    siblings = flow.children(first.block)
    top = _ancestor_in(flow, last, first.block)
    if top is None or siblings.index(first) > siblings.index(top):
        first, top, words = last, last, last.annotation or ""
        siblings = flow.children(last.block)
    held = siblings[siblings.index(first) : siblings.index(top) + 1]
    return [c.order for c in held], words


def _named(flow: Flow, before: list[Placed], condition: str) -> Component | None:
    """The action before the clause whose name and words share the most stems with its
    condition ("if creating the team fails": `create_team`, not `add_member_to_team`),
    the later of equals; None where none shares one."""
    named = name_stems(condition) - name_stems(" ".join(_NOT_NAMED))
    shared = [
        (len(named & name_stems(f"{c.definition.replace('_', ' ')} {c.annotation or ''}")), s, c)
        for s, _, c in before
    ]
    best = max(shared, key=lambda x: (x[0], x[1], flow.components.index(x[2])), default=None)
    return best[2] if best is not None and best[0] else None


def _ancestor_in(flow: Flow, comp: Component, block: int | None) -> Component | None:
    """`comp` or the block holding it that is a child of `block`, or None."""
    while comp.block != block:
        if comp.block is None:
            return None
        parent = flow.component(comp.block)
        if parent is None:
            return None
        comp = parent
    return comp


def _rebuilt(
    flow: Flow,
    attempts: tuple[list[int], str],
    asked: list[Component],
    on_words: list[Component],
    tests: list[Component],
    words: str,
) -> Flow | None:
    """The flow with the TRY and CATCH put in, or None where that breaks a chain."""
    tried, tried_words = attempts
    gone = {c.order for c in asked + on_words}
    tried = [order for order in tried if order not in gone]
    dissolved = {c.order for c in tests}
    if not tried or dissolved & set(tried):
        return None
    for test in tests:
        after = flow.neighbours(test)[1]
        if test.definition != "ELSE" and after is not None and after.definition in CONTINUES_IF:
            return None
    # what a dissolved test held goes where the test was (a test inside another too)
    left = [c for c in flow.components if c.order not in gone]
    kept = without_empty_blocks(without_blocks(left, dissolved))
    if kept is None:
        return None
    comps = kept
    siblings = [c.order for c in comps if c.block == _block_of(comps, tried[0])]
    at = siblings.index(tried[0])
    if siblings[at : at + len(tried)] != tried:
        return None
    mark = min([0, *(c.order for c in comps)]) - 1
    first = [c.order for c in comps].index(tried[0])
    end = subtree_end(comps, tried[-1])
    block = comps[first].block
    held = [
        c.model_copy(update={"block": mark}) if c.order in tried else c for c in comps[first:end]
    ]
    catch = _logic("CATCH", words, mark - 1, block)
    moved = [c.model_copy(update={"block": mark - 1}) for c in asked]
    comps[first:end] = [_logic("TRY", tried_words, mark, block), *held, catch, *moved]
    return flow.with_components(comps)


def _block_of(comps: list[Component], order: int) -> int | None:
    return next(c.block for c in comps if c.order == order)


def _logic(definition: str, words: str, order: int, block: int | None) -> Component:
    return Component(
        order=order, category="flowlogic", definition=definition, annotation=words, block=block
    )
