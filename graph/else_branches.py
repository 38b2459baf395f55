"""Steps the words put after "otherwise", moved out of the IF the model wrote them in.

"if approved, mark the claim accepted, otherwise deny it and email the customer why":
the small model writes the IF and its step, then the email inside the same IF, so the
customer is told why a claim was denied when it was accepted. Where a word that opens
the other case (`OTHERWISE`: "otherwise", "else", "if not", "in all other cases", "for
everyone else") follows the words of an IF or ELSEIF, and that branch chain has no ELSE,
the steps whose spans start after the word and before its sentence ends go in an ELSE on
the word, after the chain: the chain's trailing steps so placed (each branch keeps one
step at least) and the siblings right after the chain so placed. A chain whose branch
ends the flow or the loop ("if it does, ... and stop there. Otherwise, ...") is left as
it is: what follows runs only in the other case (gold writes no ELSE there). Where the
chain has its ELSE on that word already, a branch's trailing steps said after the word
join the ELSE, after its own ("otherwise deny it and email the customer why", the email
written in the IF; forty-seventh session).

"else if" opens an ELSEIF, not this. An "if not" that the model wrote an IF on is that
IF's own words: the branch must be one whose words end before the word.

An ELSE on the words of its own chain's IF or ELSEIF ("IF | if they approve" then "ELSE |
if they approve") is no other case the requirement states: the small model, lost in a
long requirement, opens an ELSE where the words go on after the branch, and puts there
what follows it ("mark the model inactive" after "if the case's account is platinum or
gold, also open an RMA"). Such an ELSE is removed and its steps follow the chain
(`unwrap_copied_elses`), before the other repairs, so that an "otherwise" the words do
say still gets its ELSE above. No gold ELSE of train and dev (62 hand-written, 856
synthetic) repeats its chain's words so; 8 of dev's 184 shipped outlines had one.
"""

from __future__ import annotations

import re

from flowgen.flow.flowlogic import FOLLOWS, without_blocks
from flowgen.flow.model import Component, Flow, subtree_end, taken_out
from flowgen.graph.uncovered_asks import SENTENCE_BREAK, Span, last_of_chain, ordered_step_spans

OTHERWISE = re.compile(
    r"\b(?:otherwise|(?<!\bor )else(?!\s*,?\s*if\b)|if not\b(?!\s+(?:already|yet)\b)"
    r"|in (?:all|any) other cases?|for (?:anyone|everyone|anything|all) else"
    r"|for (?:any|all) other \w+|(?<=[.;:-] )(?:anything else|any other \w+(?=:)))\b",
    re.I,
)
BRANCHES = ("IF", "ELSEIF")
# A branch that ends so needs no ELSE: "if it does, ... and stop there. Otherwise, ..."
# runs the rest only when it did not (gold writes no ELSE there).
LEAVING = frozenset({"ENDFLOW", "SKIPITERATION", "EXITLOOP", "GOBACKTO"})


_WORD = re.compile(r"[\w']+")
# Spans shorter than this name no condition to repeat ("else", "if not").
MIN_COPIED_WORDS = 3


def _copies(span: str | None, branch: str | None) -> bool:
    """Whether an ELSE's words repeat a branch's: the same words, or one run of whole words
    inside the other ("if it does" is not in "if it doesn't")."""
    said, tested = (" " + " ".join(_WORD.findall((s or "").lower())) + " " for s in (span, branch))
    if min(len(said.split()), len(tested.split())) < MIN_COPIED_WORDS:
        return False
    return said in tested or tested in said


def _copied_else(flow: Flow) -> Component | None:
    """The first ELSE whose words repeat those of an IF or ELSEIF of its chain."""
    for comp in flow.components:
        if comp.definition != "ELSE" or comp.category != "flowlogic":
            continue
        siblings = flow.children(comp.block)
        chain: list[Component] = []
        for earlier in reversed(siblings[: siblings.index(comp)]):
            if earlier.definition not in BRANCHES:
                break
            chain.append(earlier)
            if earlier.definition == "IF":
                break
        if any(_copies(comp.annotation, branch.annotation) for branch in chain):
            return comp
    return None


def unwrap_copied_elses(flow: Flow) -> tuple[Flow, list[str]]:
    """`flow` without each ELSE that repeats its chain's words (see above), its steps
    moved up after the chain; and the spans of the ELSEs removed (for the trace)."""
    removed: list[str] = []
    while (copy := _copied_else(flow)) is not None:
        removed.append(copy.annotation or "ELSE")
        flow = flow.with_components(without_blocks(flow.components, {copy.order}))
    return flow, removed


def add_else_branches(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """`flow` with the steps of each "otherwise" clause in an ELSE (see above), and the
    words of the ELSEs added with what they hold."""
    added: list[str] = []
    for word in OTHERWISE.finditer(requirement):
        spans = ordered_step_spans(requirement, flow)
        stop = SENTENCE_BREAK.search(requirement, word.end())
        clause = (word.start(), stop.start() if stop else len(requirement))
        chain = _chain_before(flow, spans, word.start())
        if chain is None or _leaves(flow, chain):
            continue
        if chain[-1].definition == "ELSE":
            # "otherwise deny it and email the customer why", the email written in the IF
            # and the ELSE already there: the email joins the ELSE
            moved = _steps_in(flow, spans, chain[:-1], clause, after_chain=False)
            if moved and _said_at(spans, chain[-1]) == word.start():
                flow = _into_else(flow, chain[-1], moved)
                added.append(f"ELSE | {word.group(0)}: " + ", ".join(c.definition for c in moved))
            continue
        moved = _steps_in(flow, spans, chain, clause)
        if not moved:
            continue
        flow = _with_else(flow, chain, moved, word.group(0))
        added.append(f"ELSE | {word.group(0)}: " + ", ".join(c.definition for c in moved))
    return flow, added


def _said_at(spans: list[Span], comp: Component) -> int | None:
    return next((s for s, _, c in spans if c is comp), None)


def _chain_before(flow: Flow, spans: list[Span], at: int) -> list[Component] | None:
    """The IF / ELSEIF / ELSE chain of the branch whose words end last before `at`."""
    before = [(s, c) for s, e, c in spans if c is not None and c.definition in BRANCHES and e <= at]
    if not before:
        return None
    _, branch = max(before, key=lambda x: x[0])
    siblings = flow.children(branch.block)
    first = siblings.index(branch)
    while siblings[first].definition != "IF":
        first -= 1
    last = last_of_chain(flow, siblings[first])
    return siblings[first : siblings.index(last) + 1]


def _leaves(flow: Flow, chain: list[Component]) -> bool:
    """Whether a branch of the chain ends by leaving the flow or the loop."""
    return any(
        kids[-1].definition in LEAVING
        for kids in map(flow.children, (c.order for c in chain))
        if kids
    )


def _steps_in(
    flow: Flow,
    spans: list[Span],
    chain: list[Component],
    clause: tuple[int, int],
    after_chain: bool = True,
) -> list[Component]:
    """The chain's trailing steps and (with `after_chain`) the siblings right after it
    whose spans start in `clause`, in flow order; [] where a branch would be left empty."""
    where = {id(c): s for s, _, c in spans if c is not None}

    def said(comp: Component) -> bool:
        at = where.get(id(comp))
        return at is not None and clause[0] <= at < clause[1]

    moved: list[Component] = []
    for branch in chain:
        kids = flow.children(branch.order)
        tail = len(kids)
        while tail and said(kids[tail - 1]):
            tail -= 1
        if tail == 0 and kids:
            return []
        moved += kids[tail:]
    if not after_chain:
        return moved
    siblings = flow.children(chain[0].block)
    for comp in siblings[siblings.index(chain[-1]) + 1 :]:
        if not said(comp) or comp.definition in FOLLOWS:
            break
        moved.append(comp)
    return moved


def _with_else(flow: Flow, chain: list[Component], moved: list[Component], word: str) -> Flow:
    """`flow` with an ELSE on `word` after `chain`, holding `moved` (with what they hold)."""
    mark = min(0, *(c.order for c in flow.components)) - 1
    otherwise = Component(
        order=mark, block=chain[0].block, category="flowlogic", definition="ELSE", annotation=word
    )
    comps, held = taken_out(flow, moved, mark)
    at = subtree_end(comps, chain[-1].order)
    comps[at:at] = [otherwise, *held]
    return flow.with_components(comps)


def _into_else(flow: Flow, otherwise: Component, moved: list[Component]) -> Flow:
    """`flow` with `moved` (with what they hold) at the end of the ELSE `otherwise`."""
    comps, held = taken_out(flow, moved, otherwise.order)
    at = subtree_end(comps, otherwise.order)
    comps[at:at] = held
    return flow.with_components(comps)
