"""An IF's threshold the way its words put it: "if more than 5 engines flag it" is
`{{1.malicious_count}}>5`.

The small model writes a test it saw often in training (`{{1.verdict}}=malicious`) where
the words compare a count with a number. Where an IF's or ELSEIF's span says "more
than", "above", "over", "at least", "fewer than", "less than", "below" or "under" a
number, and its condition compares nothing yet, the condition becomes the latest count
in scope (an integer output of the nearest earlier step, never a loop's index) against
that number. Gold: the hand-written train and dev IFs whose words say so test the latest
count in 9 of 11 (the other two compare a record's field: "the annual value is above
50000"); no synthetic IF says so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from flowgen.flow.pills import output_step
from flowgen.flow.validator import PillRoot

_NUMBERS = {"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "ten": "10"}
_THRESHOLD = re.compile(
    r"\b(more than|over|above|greater than|at least|exceeds?|fewer than|less than|below|"
    r"under)\s+(\d+|one|two|three|four|five|six|ten)\b",
    re.I,
)
_OPERATORS = {"at least": ">=", "fewer than": "<", "less than": "<", "below": "<", "under": "<"}
_COUNTS = frozenset({"integer", "decimal"})


def threshold_condition(condition: str, annotation: str, pills: Sequence[PillRoot]) -> str | None:
    """The condition the words' threshold gives (see above), or None."""
    said = _THRESHOLD.search(annotation)
    if said is None or re.search(r"[<>]", condition):
        return None
    counts = [r.text for r in pills if r.type in _COUNTS and not r.text.endswith(".index")]
    if not counts:
        return None
    latest = max(counts, key=output_step)
    number = _NUMBERS.get(said.group(2).lower(), said.group(2))
    operator = _OPERATORS.get(said.group(1).lower(), ">")
    return "{{" + latest + "}}" + operator + number
