"""An IF's yes-or-no test the way its words put it: "if they are not entitled" is
`{{1.entitled}}=false`.

The small model writes a boolean test as `=true` almost always, whatever the words say:
on dev, "if they are not entitled" became `{{3.entitled}}=true` and "if it has no
reviewer yet" `{{2.item.u_reviewer}}=true`. Where an IF's or ELSEIF's condition is one
test of a data pill against `true` or `false`, the value follows the span: false where
it holds a negation ("not", "no", "never", "without", "unless", "n't"), true otherwise.
The pill, and any other form of condition, stays as written.

Measured (issue 19, twenty-ninth session): the gold flows agree with it on all 146 such
tests (31 hand-written of train and dev, 115 synthetic); replayed on the shipped flows of
all 184 dev cases, 8 flows changed, 3 closer to gold and none further (full FlowSim
+0.0002 a case).
"""

from __future__ import annotations

import re

from flowgen.flow.model import FlowInput

CONDITION_LOGIC = frozenset({"IF", "ELSEIF"})
_NEGATION = re.compile(r"\b(not|no|none|nothing|never|without|unless|nobody)\b|n't\b", re.I)
_BOOLEAN_TEST = re.compile(r"(\{\{[^{}]+\}\})(=|!=)(true|false)")


def settle_polarity(condition: str, annotation: str) -> str:
    """`condition` with a lone pill-against-boolean test set to the span's polarity."""
    test = _BOOLEAN_TEST.fullmatch(condition.strip())
    if test is None:
        return condition
    pill, operator, value = test.groups()
    holds = (value == "true") == (operator == "=")
    negated = bool(_NEGATION.search(annotation))
    if holds != negated:
        return condition
    return f"{pill}={'false' if negated else 'true'}"


def settle_if_polarity(
    inputs: list[FlowInput], annotation: str
) -> tuple[list[FlowInput], list[str]]:
    """An IF's or ELSEIF's inputs with its condition's polarity settled (see above), and
    `old -> new` for the trace."""
    settled: list[FlowInput] = []
    changes: list[str] = []
    for item in inputs:
        if item.name == "condition":
            value = settle_polarity(item.value, annotation)
            if value != item.value:
                changes.append(f"{item.value} -> {value}")
                item = item.model_copy(update={"value": value})
        settled.append(item)
    return settled, changes
