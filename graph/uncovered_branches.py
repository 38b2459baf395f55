"""IF clauses no step covers, put around the steps the clause governs; failures caught.

The small model writes the steps of "if someone is on call, text them" but drops the
test: the text goes out to everyone. A clause that opens with "if" (at the start of a
sentence, after a comma, a semicolon or "and"/"then"/"but"), where no step's span and not
the trigger's reaches its words, becomes an IF on those words (up to the comma, "then" or
the first step's span) around the steps whose spans start after it and before the
clause ends (a sentence, a semicolon, "otherwise", "then" or the next "if" clause). They
must be consecutive steps of one block. "otherwise" ("else", "if not") after them opens
the IF's ELSE around the consecutive steps on the words that follow, up to the end of
the sentence.

A clause about a step failing ("try to open a GitHub issue for it; if that fails, log an
error") is caught instead: a CATCH on its words around the steps it governs, and a TRY
(on that step's words) around the action right before them, as graph/outline_repair.py's
`catch_failures` writes an IF on such words; with no action right before, nothing.

Left alone: steps the model put under an IF, ELSEIF or ELSE of its own that holds only
them or opens on later words (it placed the test, on other words), or directly under a
PARALLEL (which holds only PATHs); and a clause of one word. Under a branch that opened
earlier and holds other steps too, the IF goes inside it.

An action written on the clause's own words (`check_entitlement | if they are not
entitled`) does not cover it (forty-third session; `_on_a_test`): the IF goes after it.

On the 3,348 hand-written and synthetic train and dev flows the rule changes none.
Measured on dev: docs/results.md (thirty-fifth session).
"""

from __future__ import annotations

import re

from flowgen.flow.model import Component, Flow
from flowgen.graph.case_chains import CASE_CLAUSE, CATCH_ALL_SAID
from flowgen.graph.trigger_cues import record_trigger_clause
from flowgen.graph.uncovered_asks import SEMICOLON_OR_SENTENCE, SENTENCE_BREAK, Span, step_spans

# "if" opening a clause; "if not" (an ELSE), "if needed", "if any" test nothing new.
IF_CLAUSE = re.compile(
    r"(?:^|(?<=[.;:,!?(])|\b(?:and|then|but|so)\s+|\s-\s+)\s*"
    r"(?P<word>if)\b"
    r"(?!\s+(?:not|needed|necessary|possible|applicable|any|anything|required)\b)",
    re.I,
)
# Other words that open a test where a clause starts (forty-eighth session, the rephrased
# train cases' voices): "in case the triage comes back malicious", "in the event that",
# "where the severity is High"; and "Should approval be granted", "should that fail"
# (forty-ninth session: of the 31 such gold clauses, 27 are a CATCH's words, 3 an IF's).
# Never at the requirement's start, where they open the trigger ("Where a production
# access request has its revocation recorded"), nor on the clause graph/trigger_cues.py
# reads as the trigger's. A "when" after the first sentence
# was tried too: on dev it read SLA timers ("When 75% has elapsed"), approvals and a
# trigger said late as tests.
OTHER_TEST = re.compile(
    r"(?:(?<=[.;:,!?(])|\b(?:and|then|but|so)\s+|\s-\s+)\s*"
    r"(?P<word>in\s+case|in\s+the\s+event(?:\s+that)?|where"
    r"|should(?=\s+(?:that|this|it|the|a|an|any|none|no|either|both|approval|they)\b))\b"
    r"(?!\s+(?:needed|necessary|possible|applicable|required|appropriate)\b)",
    re.I,
)
# Where the condition's words end (the governed steps' spans end it too).
CONDITION_END = re.compile(r",|:|\s+then\b|[.;!?](?:\s|$)|\n", re.I)
# Where the steps the condition governs end.
_BRANCH_BREAKS = r"[.;!?](?:\s|$)|\n|\s-\s|\b(?:otherwise|else|if not)\b"
GOVERNED_END = re.compile(_BRANCH_BREAKS + r"|,?\s+then\b", re.I)
# Where the words an IF's own clause governs end (graph/governed_steps.py): as above,
# less "then", which inside the sentence goes on with the branch ("If a contract is
# renewable, it creates a review, and then emails the administrator").
BRANCH_END = re.compile(_BRANCH_BREAKS, re.I)
# The other case, right after the governed steps: ". Otherwise, ...", ", else ...".
OTHERWISE = re.compile(r"[\s,;.]*(?:and\s+)?(?P<word>otherwise|else|if not)\b", re.I)
# "if that fails" tests the step before: a CATCH, not an IF.
STEP_FAILS = re.compile(
    r"\b(?:fails?|failed|failing|failure|errors? out|unreachable|does(?: not|n[’']t) work"
    r"|goes wrong)\b",
    re.I,
)
# Blocks out of which the rule moves steps only as `_consecutive_steps` allows: the model's
# own branches, and PARALLEL, whose children are PATHs.
KEEP_INSIDE = {"IF", "ELSEIF", "ELSE", "PARALLEL"}
BRANCH_PARTS = {"IF", "ELSEIF", "ELSE", "CATCH"}


def add_uncovered_branches(flow: Flow, requirement: str) -> tuple[Flow, list[str]]:
    """`flow` with an IF (and its ELSE), or a TRY and CATCH, added for each "if" clause
    no step covers, and the added tests as `definition | words`."""
    added: list[str] = []
    for match in _test_clauses(requirement):
        start = match.start("word")
        spans = [span for span in step_spans(requirement, flow) if not _on_a_test(span)]
        end = _condition_end(requirement, match.end("word"), spans)
        words = requirement[start:end].strip(" ,")
        if len(words.split()) < 2:
            continue
        if any(s < end and start < e for s, e, _ in spans):
            continue
        case = match.re is CASE_CLAUSE
        stop = case_end(requirement, end) if case else governed_end(requirement, end)
        governed = _consecutive_steps(flow, spans, end, stop, whole_chains=case)
        if governed is None:
            continue
        if STEP_FAILS.search(words):
            # "try to open a GitHub issue; if that fails, log an error": a TRY around
            # the step before, as graph/outline_repair.py's `catch_failures` writes it
            attempt = _action_before(flow, governed[0])
            if attempt is None:
                continue
            flow = flow.with_blocks(
                (_logic("TRY", attempt.annotation or words), [attempt.order]),
                (_logic("CATCH", words), _orders(governed)),
            )
            added.append(f"CATCH | {words}")
            continue
        blocks = [(_logic("IF", words), _orders(governed))]
        added.append(f"IF | {words}")
        if otherwise := OTHERWISE.match(requirement, stop):
            other_stop = governed_end(requirement, otherwise.end(), SEMICOLON_OR_SENTENCE)
            other = _steps_after(flow, spans, governed[-1], otherwise.start("word"), other_stop)
            if other:
                blocks.append((_logic("ELSE", otherwise.group("word")), _orders(other)))
                added.append(f"ELSE | {otherwise.group('word')}")
        flow = flow.with_blocks(*blocks)
    return flow, added


def _test_clauses(requirement: str) -> list[re.Match[str]]:
    """The "if" clauses, and the clauses `OTHER_TEST` and graph/case_chains.py's
    `CASE_CLAUSE` ("for a defective unit, ...") open that are not the trigger's, in the
    order said."""
    found = list(IF_CLAUSE.finditer(requirement))
    text = " ".join(requirement.lower().split())
    trigger = record_trigger_clause(text) if len(text) == len(requirement) else None
    for match in OTHER_TEST.finditer(requirement):
        at = match.start("word")
        if not requirement[:at].strip() or (trigger is not None and trigger[0].start() == at):
            continue
        found.append(match)
    for match in CASE_CLAUSE.finditer(requirement):
        # a case said before the trigger is whom the flow is for ("Hi, for people going
        # on long leave: when a parental leave HR case moves to ...")
        at = match.start("word")
        if requirement[:at].strip() and (trigger is None or trigger[0].start() < at):
            found.append(match)
    return sorted(found, key=lambda m: m.start("word"))


def _on_a_test(span: Span) -> bool:
    """Whether an action's words are an "if" clause (`check_entitlement | if they are not
    entitled`): no gold action is written so but the look-ups that read a record again
    before the IF on the same words (5 hand-written) and the SLA timers' "when"s, so
    such words do not cover the clause."""
    comp = span[2]
    if comp is None or comp.category == "flowlogic" or comp.definition == "look_up_record":
        return False
    return bool(re.match(r"if\b", (comp.annotation or "").strip(), re.I))


def _condition_end(requirement: str, after: int, spans: list[Span]) -> int:
    found = CONDITION_END.search(requirement, after)
    ends = [found.start() if found else len(requirement)]
    ends += [s for s, _, comp in spans if comp is not None and s >= after]
    return min(ends)


def governed_end(requirement: str, start: int, pattern: re.Pattern[str] = GOVERNED_END) -> int:
    """Where the clause from `start` ends: the pattern, or the next "if" clause or case
    ("for a gold account create it with severity 2, for a platinum account ...")."""
    ends = [len(requirement)]
    if found := pattern.search(requirement, start):
        ends.append(found.start())
    for test in (IF_CLAUSE, CASE_CLAUSE):
        if following := test.search(requirement, start):
            ends.append(following.start("word"))
    return min(ends)


def case_end(requirement: str, start: int) -> int:
    """Where the steps of a case (graph/case_chains.py) end: its sentence, the next case,
    or the case for what is left. A case holds its own tests ("For a unit damaged in
    transit, ask the account manager to approve a refund; if they approve, mark the RMA
    refunded, otherwise escalate the case.")."""
    ends = [len(requirement)]
    # its sentence's end (`SENTENCE_BREAK`), not a semicolon inside it
    for pattern in (SENTENCE_BREAK, CATCH_ALL_SAID):
        if found := pattern.search(requirement, start):
            ends.append(found.start())
    if following := CASE_CLAUSE.search(requirement, start):
        ends.append(following.start("word"))
    return min(ends)


def _consecutive_steps(
    flow: Flow, spans: list[Span], start: int, stop: int, whole_chains: bool = False
) -> list[Component] | None:
    """The outermost steps whose spans start in [start, stop), if they are consecutive
    children of one block that the rule may change; None otherwise. With `whole_chains`,
    they may hold IF chains (an IF with its ELSEIFs and ELSE) whole."""
    inside = [comp for s, _, comp in spans if comp is not None and start <= s < stop]
    if not inside:
        return None
    orders = {c.order for c in inside}
    outer = sorted((c for c in inside if c.block not in orders), key=flow.components.index)
    block = outer[0].block
    if any(c.block != block for c in outer):
        return None
    if whole_chains:
        _, after = flow.neighbours(outer[-1])
        cut = after is not None and after.definition in ("ELSEIF", "ELSE")
        # the case's first step is an action ("if they need VPN" written first is a
        # test of its own, on other words)
        if cut or outer[0].definition in BRANCH_PARTS:
            return None
    elif any(c.definition in BRANCH_PARTS for c in outer):
        return None
    parent = flow.component(block) if block is not None else None
    if parent is not None and parent.definition in KEEP_INSIDE:
        # A branch the model opened before the clause, holding other steps as well, is
        # an outer test ("if its case is closed, ...; otherwise, if the severity is
        # High, ..."): the new IF goes inside it. One that holds only these steps is the
        # model's own test of the clause, on other words.
        opened = next((s for s, _, c in spans if c is parent), start)
        others = [c for c in flow.children(block) if c not in outer]
        if parent.definition == "PARALLEL" or not others or opened >= start:
            return None
    siblings = flow.children(block)
    at = siblings.index(outer[0])
    return outer if siblings[at : at + len(outer)] == outer else None


def _action_before(flow: Flow, comp: Component) -> Component | None:
    """The action right before `comp` in its block (the step that may fail), or None."""
    siblings = flow.children(comp.block)
    at = siblings.index(comp)
    before = siblings[at - 1] if at else None
    return before if before is not None and before.category != "flowlogic" else None


def _steps_after(
    flow: Flow, spans: list[Span], comp: Component, start: int, stop: int
) -> list[Component]:
    """The siblings right after `comp`, as long as their spans start in [start, stop)."""
    where = {id(c): s for s, _, c in spans if c is not None}
    siblings = flow.children(comp.block)
    found = []
    for later in siblings[siblings.index(comp) + 1 :]:
        at = where.get(id(later))
        if at is None or not start <= at < stop or later.definition in BRANCH_PARTS:
            break
        found.append(later)
    return found


def _logic(definition: str, words: str) -> Component:
    # `Flow.with_blocks` gives it its order and block.
    return Component(order=0, category="flowlogic", definition=definition, annotation=words)


def _orders(steps: list[Component]) -> list[int]:
    return [c.order for c in steps]
