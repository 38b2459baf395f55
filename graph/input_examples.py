"""Which solved item's inputs an inputs turn shows as its example.

The example is the first item of the same step in the flows shown to the outline call
(their order), as the adapters were trained. A quarter of the items of dev's gold flows
found none there, since the three flows are chosen for the whole requirement, not for
each step, and their turns showed no example. Such a turn now shows the item of the
same step, among the twenty nearest solved flows (`search_solved_flows`), whose
annotation shares most words with its own. Choosing by annotation among all twenty for
every turn brought the examples closer to gold still, but live it changed examples the
model used well (a trigger's example from another table, whose table it copied):
docs/results.md, `benchmarks/input_examples_replay.py`.
"""

from __future__ import annotations

import re
from typing import Any

from flowgen.flow.model import FlowInput
from flowgen.prompts.line_format import inputs_lines

# Words that say nothing about which inputs a step gets. Not graph/coverage.py's set:
# here "when", "if", "from" and "as" open most trigger annotations and match any of them.
STOPWORDS = frozenset(
    "a an and any are as at be by each every for from if in is it its of on or so "
    "that the their them then they this to when with".split()
)
WORD = re.compile(r"[a-z0-9]+")


def content_words(text: str) -> set[str]:
    return {w for w in WORD.findall(text.lower()) if w not in STOPWORDS}


def overlap(a: set[str], b: set[str]) -> float:
    """Jaccard similarity of two word sets (0 when both are empty)."""
    union = a | b
    return len(a & b) / len(union) if union else 0.0


def closest_item_inputs(
    pool: list[dict[str, Any]],
    definition: str | None,
    trigger: bool,
    annotation: str | None,
    shown: list[str] | None = None,
) -> str | None:
    """The answer lines of the pool entry of `definition` to show: the first of the flows
    `shown` to the outline call (in their order) that has the step, else the entry whose
    annotation reads most like `annotation`, the nearest flow's on a tie; None if the
    pool has no entry of that step."""
    if not definition:
        return None
    entries = [e for e in pool if e["definition"] == definition and e["trigger"] == trigger]
    if not entries:
        return None
    for name in shown or []:
        first = next((e for e in entries if e["example"] == name), None)
        if first is not None:
            return _lines(first)
    wanted = content_words(annotation or "")
    best = max(
        enumerate(entries),
        key=lambda ie: (overlap(wanted, content_words(ie[1]["annotation"])), -ie[0]),
    )[1]
    return _lines(best)


def _lines(entry: dict[str, Any]) -> str | None:
    return inputs_lines([FlowInput.model_validate(i) for i in entry["inputs"]]) or None
