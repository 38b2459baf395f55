"""An IF's yes-or-no test the way its words put it: "if they are not entitled" is
`{{1.entitled}}=false`.

The small model writes a boolean test as `=true` almost always, whatever the words say:
on dev, "if they are not entitled" became `{{3.entitled}}=true` and "if it has no
reviewer yet" `{{2.item.u_reviewer}}=true`. Where an IF's or ELSEIF's condition is one
test of a data pill against `true` or `false`, the value follows the span: false where
it holds a negation ("not", "no", "never", "without", "unless", "n't"), true otherwise.
The pill, and any other form of condition, stays as written.

A lone emptiness test of a yes-or-no pill, `{{1.entitled}}ISNOTEMPTY` for "if they are
entitled", is that test written another way: it becomes `=true` (`ISEMPTY`: `=false`)
before its polarity is settled; no gold IF of train and dev tests a boolean so, 1 of
dev's 184 generated flows did (thirty-third session).

Measured (issue 19, twenty-ninth session): the gold flows agree with it on all 146 such
tests (31 hand-written of train and dev, 115 synthetic); replayed on the shipped flows of
all 184 dev cases, 8 flows changed, 3 closer to gold and none further (full FlowSim
+0.0002 a case).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from flowgen.flow.catalog import Column
from flowgen.flow.model import FlowInput
from flowgen.flow.validator import PillRoot
from flowgen.graph.choice_grounding import field_column

CONDITION_LOGIC = frozenset({"IF", "ELSEIF"})
_NEGATION = re.compile(r"\b(not|no|none|nothing|never|without|unless|nobody)\b|n't\b", re.I)
_BOOLEAN_TEST = re.compile(r"(\{\{[^{}]+\}\})(=|!=)(true|false)")
_EMPTINESS_TEST = re.compile(r"\{\{([\w.]+)\}\}(ISNOTEMPTY|ISEMPTY)")


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


def boolean_emptiness(
    condition: str,
    pills: Sequence[PillRoot],
    columns_of: Callable[[str], list[Column]],
) -> str | None:
    """A lone emptiness test of a boolean pill as the test of its value (see above); None
    where nothing changes."""
    test = _EMPTINESS_TEST.fullmatch(condition.strip())
    if test is None:
        return None
    path, operator = test.groups()
    if _pill_type(path, pills, columns_of) != "boolean":
        return None
    return "{{" + path + "}}=" + ("true" if operator == "ISNOTEMPTY" else "false")


def _pill_type(
    path: str, pills: Sequence[PillRoot], columns_of: Callable[[str], list[Column]]
) -> str | None:
    """The type a pill path holds: a root's own, or the column it walks to."""
    for root in pills:
        if root.text == path:
            return root.type
    roots = [r for r in pills if r.table and path.startswith(r.text + ".")]
    if not roots:
        return None
    root = max(roots, key=lambda r: len(r.text))
    column = field_column(root.table or "", path[len(root.text) + 1 :], columns_of)
    return column.type if column else None
