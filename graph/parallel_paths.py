"""A PARALLEL with one PATH per branch, where the words ask for things at once and the
outline runs them one after the other.

"the flow does the following in parallel. First, it opens a Slack channel ... Second, it
pages the on-call engineer", "notify its author and post a link in Teams at the same
time": every train and dev gold flow so worded has a PARALLEL (hand-written 11 of 11,
synthetic 235 of 235), but the small model writes the branches' steps in a row (dev: 3
of 8 such outlines had a PARALLEL, test none of 7). graph/asked_logic.py only keeps the
model from writing one where nothing asks for it.

Where the requirement says "in parallel" (`PARALLEL_ASK`) and the outline has no
PARALLEL: the branches are the words from each marker ("First, ... Second, ...", "(a)
... (b) ...", "1) ... 2) ...", "On one side ... On the other side ...") to the next one,
the last to the end of its sentence; with no markers, each step on the words of the
sentence that asks. The outermost steps whose spans start in a branch go in its PATH;
all of them must be consecutive children of one block, branch after branch, and two
branches at least must have steps. Otherwise nothing changes.

Replayed on the 3,348 hand-written and synthetic train and dev gold flows: with their
PARALLELs taken out, it puts back all 246 as gold has them (the PATHs and what each
holds); the flows without one it leaves as they are (tests/test_parallel_paths.py). On
the shipped outlines: docs/results.md (fortieth session).
"""

from __future__ import annotations

import re

from flowgen.flow.flowlogic import FOLLOWS
from flowgen.flow.model import Component, Flow, subtree_end, taken_out
from flowgen.graph.uncovered_asks import SENTENCE_BREAK, Span, ordered_step_spans

# "at once" is not here: "cut off all of their access at once" means now, not in branches.
PARALLEL_ASK = re.compile(
    r"\b(?:in parallel|at the same time|simultaneously|concurrently|in tandem)\b", re.I
)
# A branch marker opens a clause: after the start, a sentence or clause mark, or "and".
_OPENS = r"(?:^|(?<=[.;:,!?])\s*|(?<=[.;:,!?]\s)|\band\s+|\s)"
# (kind, pattern); a marker's `n` is its place in its series.
MARKERS: list[tuple[str, re.Pattern[str]]] = [
    (
        "ordinal",
        re.compile(
            r"(?:^|(?<=[.;:!?])\s*|(?<=[.;:!?]\s)|(?<=,)\s+|\band\s+)"
            r"(?P<m>(?P<n>first|second|third|fourth|fifth)(?:ly)?)\b\s*[,:]?",
            re.I,
        ),
    ),
    ("number", re.compile(_OPENS + r"(?P<m>\(?(?P<n>[1-6])\))")),
    ("letter", re.compile(_OPENS + r"(?P<m>\((?P<n>[a-f])\))", re.I)),
    (
        "side",
        re.compile(r"\b(?P<m>on (?:the )?(?P<n>one|other) (?:side|hand|branch|path))\b", re.I),
    ),
]
_SERIES = {
    "ordinal": ["first", "second", "third", "fourth", "fifth"],
    "number": ["1", "2", "3", "4", "5", "6"],
    "letter": ["a", "b", "c", "d", "e", "f"],
    "side": ["one", "other"],
}
# Where the last branch ends: its sentence, or words that join the branches.
BRANCH_END = re.compile(
    r"[.!?](?:\s|$)|\n|\b(?:once|after|when) (?:both|all|the two|these)\b", re.I
)
# A sentence that goes on after the branches rather than being one.
SEQUENCE = re.compile(
    r"(?:once|after|afterwards|then|next|lastly|last|finally|when|whenever|if|at the end"
    r"|in the end|later)\b",
    re.I,
)
# The clause before the cue that names the PARALLEL: "do the following in parallel".
CLAUSE_START = re.compile(r"[.;:,!?](?:\s|$)|\n|->|^")

Branch = tuple[str, int, int]  # (its words for the PATH, start, end) in the requirement


def add_parallel_paths(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """`flow` with a PARALLEL around the branches the requirement asks to run at once
    (see above), and the PARALLEL's words as the change; `flow` itself where the outline
    has a PARALLEL, nothing asks for one, or its steps do not line up with the branches."""
    ask = PARALLEL_ASK.search(requirement)
    if ask is None or any(c.definition == "PARALLEL" for c in flow.components):
        return flow, []
    spans = ordered_step_spans(requirement, flow)
    branches = _marked_branches(requirement, ask.start()) or _listed_branches(requirement, ask)
    written = flow
    if branches:
        flow = _lift_later_branch_steps(flow, requirement, branches)
        spans = ordered_step_spans(requirement, flow)
        groups = [_outermost(spans, start, end) for _, start, end in branches]
    else:
        start, end = _sentence(requirement, ask.start())
        steps = _outermost(spans, start, end)
        groups = [[c] for c in steps]
        branches = [(c.annotation or "", start, end) for c in steps]
    paths = [(words, steps) for (words, _, _), steps in zip(branches, groups, strict=True) if steps]
    if len(paths) < 2 or not _in_a_row(flow, [c for _, steps in paths for c in steps]):
        return written, []
    # an ELSE, ELSEIF or CATCH follows its IF or TRY: it cannot open a PATH
    if any(steps[0].definition in FOLLOWS for _, steps in paths):
        return written, []
    words = _parallel_words(requirement, ask, spans)
    return _wrapped(flow, words, paths), [f"PARALLEL | {words}"]


def _marked_branches(requirement: str, after: int) -> list[Branch]:
    """The branches opened by a series of markers after the cue (the first of them in
    the cue's sentence or the next one), or [] where there is no such series."""
    found: list[tuple[int, int, str]] = []
    for kind, pattern in MARKERS:
        series = _SERIES[kind]
        marks: list[tuple[int, int, str]] = []
        for match in pattern.finditer(requirement, after):
            if match.group("n").lower() != series[len(marks)]:
                continue
            marks.append((match.start("m"), match.end(), match.group("m")))
            if len(marks) == len(series):
                break
        if len(marks) >= 2 and (not found or marks[0][0] < found[0][0]):
            found = marks
    if not found or _sentences_between(requirement, after, found[0][0]) > 1:
        return []
    branches: list[Branch] = []
    for i, (start, body, words) in enumerate(found):
        if i + 1 < len(found):
            end = found[i + 1][0]
        else:
            stop = BRANCH_END.search(requirement, body)
            end = stop.start() if stop else len(requirement)
        branches.append((words.strip(" ,:"), start, end))
    return branches


def _listed_branches(requirement: str, ask: re.Match[str]) -> list[Branch]:
    """Where the cue ends its sentence or opens a list ("do the following in parallel:
    notify the caller. Open a problem."), each sentence after it up to one that opens
    with a word of sequence ("Once all are done", "Lastly", "If ..."); else []."""
    if not re.match(r"\s*(?:[:.]|$)", requirement[ask.end() :]):
        return []
    branches: list[Branch] = []
    start = ask.end() + 1
    while start < len(requirement):
        words = requirement[start:].lstrip()
        start = len(requirement) - len(words)
        if not words or SEQUENCE.match(words):
            break
        stop = SENTENCE_BREAK.search(requirement, start)
        end = stop.start() if stop else len(requirement)
        branches.append((requirement[start:end], start, end))
        start = end + 1
    return branches if len(branches) >= 2 else []


def _lift_later_branch_steps(flow: Flow, requirement: str, branches: list[Branch]) -> Flow:
    """`flow` with each step said in a later branch than the loop or branch that holds it
    moved out of it ("First, look up the hash observables; for each one, ... Second, run
    a Splunk search ... and add the event count to the work notes", the work note written
    inside the first branch's loop): into the holder's block, after the step said last
    before it there (or after the holder)."""

    def branch_of(at: int | None) -> int | None:
        return next(
            (i for i, (_, s, e) in enumerate(branches) if at is not None and s <= at < e), None
        )

    # each pass moves one step out; a flow has no more steps to move than it has steps
    for _ in range(len(flow.components)):
        where = {id(c): s for s, _, c in ordered_step_spans(requirement, flow) if c is not None}
        moved = None
        for comp in flow.components:
            holder = flow.component(comp.block) if comp.block is not None else None
            said, held_in = branch_of(where.get(id(comp))), branch_of(where.get(id(holder)))
            if holder is not None and said is not None and held_in is not None and held_in < said:
                moved = comp, holder
                break
        if moved is None:
            return flow
        comp, holder = moved
        rest, taken = taken_out(flow, [comp], holder.block)
        before = [
            c for c in rest if c.block == holder.block and where.get(id(c), -1) < where[id(comp)]
        ]
        after = max(before, key=lambda c: where.get(id(c), -1), default=holder)
        at = subtree_end(rest, after.order)
        flow = flow.with_components(rest[:at] + taken + rest[at:])
    return flow


def _sentences_between(requirement: str, start: int, end: int) -> int:
    return len(SENTENCE_BREAK.findall(requirement[start:end]))


def _sentence(requirement: str, at: int) -> tuple[int, int]:
    """Start and end of the sentence holding position `at`."""
    ends = [m.end() for m in SENTENCE_BREAK.finditer(requirement, 0, at)]
    start = ends[-1] if ends else 0
    stop = SENTENCE_BREAK.search(requirement, at)
    return start, stop.start() if stop else len(requirement)


def _outermost(spans: list[Span], start: int, end: int) -> list[Component]:
    """The steps whose spans start in [start, end) that no other such step holds."""
    inside = [c for s, _, c in spans if c is not None and start <= s < end]
    orders = {c.order for c in inside}
    return [c for c in inside if c.block not in orders]


def _in_a_row(flow: Flow, steps: list[Component]) -> bool:
    """Whether `steps` are consecutive children of one block, in this order."""
    block = steps[0].block
    if any(c.block != block for c in steps):
        return False
    siblings = flow.children(block)
    at = siblings.index(steps[0])
    return siblings[at : at + len(steps)] == steps


def _parallel_words(requirement: str, ask: re.Match[str], spans: list[Span]) -> str:
    """The clause that asks ("do the following in parallel"), or the cue alone where a
    step's words are in that clause."""
    starts = [m.end() for m in CLAUSE_START.finditer(requirement, 0, ask.start())]
    start = max(starts, default=0)
    if any(start <= s < ask.end() for s, _, _ in spans):
        return ask.group(0)
    return requirement[start : ask.end()].strip(" ,:;")


def _wrapped(flow: Flow, words: str, paths: list[tuple[str, list[Component]]]) -> Flow:
    """`flow` with a PARALLEL before the first path's steps, holding a PATH per path
    with its steps (and what they hold)."""
    comps = list(flow.components)
    first, last = paths[0][1][0], paths[-1][1][-1]
    at = comps.index(first)
    end = subtree_end(comps, last.order)
    # Orders no component has; `with_components` numbers the flow again.
    mark = min(0, *(c.order for c in comps)) - 1
    parallel = Component(
        order=mark, block=first.block, category="flowlogic", definition="PARALLEL",
        annotation=words,
    )  # fmt: skip
    held: list[Component] = [parallel]
    for i, (path_words, steps) in enumerate(paths):
        path_mark = mark - 1 - i
        held.append(
            Component(
                order=path_mark, block=mark, category="flowlogic", definition="PATH",
                annotation=path_words,
            )
        )  # fmt: skip
        tops = {c.order for c in steps}
        start = comps.index(steps[0])
        stop = subtree_end(comps, steps[-1].order)
        held += [
            c.model_copy(update={"block": path_mark}) if c.order in tops else c
            for c in comps[start:stop]
        ]
    comps[at:end] = held
    return flow.with_components(comps)
