"""An IF right after an IF that says the opposite is its ELSE.

"If we find them, ...; if we don't find them, ..." and "if it has no reviewer yet, ...;
if it already has a reviewer, ..." are one test and its other case. The small model
writes the second clause as an IF of its own, which asks the inputs stage for a second
condition and leaves the flow with two tests where the words give one. In the 3,348 gold
flows of train and dev (hand-written and synthetic) an IF is never followed in its block
by an IF on the opposite words, and 219 of the 918 ELSEs after an IF or ELSEIF follow an
IF on the opposite words.

Two spans say the opposite when one holds a negation the other does not ("not", "no",
"n't", "never") and their other words, less the words a condition is stated with ("if",
"when", "it", "is", "has", "yet", "already" ...), are the same or those of one are
among the other's ("if the account is entitled", "if it is not entitled"); or when one
says "approved" where the other says "rejected" (or "succeeds" and "fails"), and the
other words of one are among the other's ("If the system owner approves", "If the
system owner rejects the request"; asking for the same other words on both sides
found 214 of the 219).
"""

from __future__ import annotations

import re

from flowgen.flow.model import Component, Flow

_NEGATIONS = frozenset({"not", "no", "never", "n't", "cannot"})
# Words that state a condition rather than what it tests.
_STATING = frozenset(
    "if when whenever where in case the a an it its they them their we is are was were has"
    " have had does do did be been there that this any yet already still".split()
)
_OPPOSITES = (
    (frozenset({"approved", "approve", "approves"}), frozenset({"rejected", "reject", "rejects"})),
    (frozenset({"succeeds", "succeed", "works"}), frozenset({"fails", "fail", "failed"})),
)


def _words(span: str) -> list[str]:
    text = re.sub(r"n[’']t\b", " n't", span.lower())  # "don't" → "do n't"
    return re.findall(r"n't|[a-z0-9]+", text)


def _reading(span: str) -> tuple[bool, frozenset[str]]:
    """(whether the span is negated, the words of what it tests)."""
    words = _words(span)
    negated = sum(w in _NEGATIONS for w in words) % 2 == 1
    return negated, frozenset(w for w in words if w not in _NEGATIONS and w not in _STATING)


def says_the_opposite(first: str, second: str) -> bool:
    """Whether the span `second` tests the negation of what `first` tests (see above)."""
    negated_a, tested_a = _reading(first)
    negated_b, tested_b = _reading(second)
    if not tested_a:
        return False
    if negated_a != negated_b and tested_b and (tested_b <= tested_a or tested_a <= tested_b):
        return True
    if negated_a != negated_b:
        return False
    for yes, no in _OPPOSITES:
        rest_a, rest_b = tested_a - yes - no, tested_b - yes - no
        if (rest_a <= rest_b or rest_b <= rest_a) and (
            (tested_a & yes and tested_b & no) or (tested_a & no and tested_b & yes)
        ):
            return True
    return False


def _negating_pair(flow: Flow) -> Component | None:
    """The first IF that follows, in its block, an IF on the opposite words."""
    for comp in flow.components:
        if comp.definition != "IF" or comp.category != "flowlogic":
            continue
        before, _ = flow.neighbours(comp)
        if (
            before is not None
            and before.definition == "IF"
            and says_the_opposite(before.annotation or "", comp.annotation or "")
        ):
            return comp
    return None


def else_negated_tests(flow: Flow) -> tuple[Flow, list[str]]:
    """The flow with each IF on the negation of the IF before it made that IF's ELSE (its
    condition, if any, dropped), and their spans (for the trace)."""
    turned: list[str] = []
    while (second := _negating_pair(flow)) is not None:
        turned.append(second.annotation or "IF")
        flow = flow.with_changed(second, definition="ELSE", inputs=[])
    return flow, turned
