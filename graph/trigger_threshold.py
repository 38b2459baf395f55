"""A record trigger's threshold the way its words put it: "when a security incident's risk
score goes above 80" is `risk_score>80`.

The small model writes a test it saw often in training where the trigger's words compare
a field with a number: `u_war_roomCHANGESTOtrue` for "risk score goes above 80",
`valueCHANGESTO90` for "the score ... is changed to a value greater than 90",
`stateCHANGESTO7` for "reopen an incident more than two times". Where the trigger's span
says "more than", "above", "over", "at least", "N or higher", "below", "under", "less
than", "at most" (or `>`, `<`, `>=`, `<=`) a number, and names a field of the trigger's
table in the words before it (a count or a score: not a choice, a true or false, a
reference or a date, which other rules read), the condition compares that field with the
number. Terms the model wrote on that field, terms whose value is the number, and terms
on fields the words never name are dropped; the terms the words name stay. Where the
words say the field was changed ("raised", "lowered", "dropped") a record_update's
condition also names the change (`risk_scoreCHANGES^risk_score<30`), as the experts
write it.

Gold: every hand-written train and dev trigger whose span compares a field it names with
a number is written this way (6 of 6; "submitted over 1000" names no field and is left
to the model).
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.flow.model import FlowInput
from flowgen.graph.choice_grounding import ColumnsOf, stems, table_words, with_input
from flowgen.graph.trigger_span import RECORD_TRIGGERS
from flowgen.graph.unnamed_terms import NO_EVIDENCE, field_words, named_terms

_NUMBER = r"(\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|once|twice)"
_WORD_NUMBERS = {
    "one": "1",
    "once": "1",
    "two": "2",
    "twice": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
}
# Each way of saying a comparison, with its operator; the number is the last group.
_SAID = [
    (re.compile(rf"\b(?:at least|no less than)\s+{_NUMBER}\b|>=\s*{_NUMBER}\b", re.I), ">="),
    (re.compile(rf"\b(?:at most|no more than)\s+{_NUMBER}\b|<=\s*{_NUMBER}\b", re.I), "<="),
    (re.compile(rf"\b{_NUMBER}\s+or\s+(?:more|higher|above|greater|over)\b", re.I), ">="),
    (re.compile(rf"\b{_NUMBER}\s+or\s+(?:less|lower|below|fewer|under)\b", re.I), "<="),
    (
        re.compile(
            rf"\b(?:more than|over|above|greater than|higher than|exceeds?|exceeding)\s+"
            rf"{_NUMBER}\b|>\s*{_NUMBER}\b",
            re.I,
        ),
        ">",
    ),
    (
        re.compile(
            rf"\b(?:less than|fewer than|lower than|below|under)\s+{_NUMBER}\b|<\s*{_NUMBER}\b",
            re.I,
        ),
        "<",
    ),
]
# A number of days or hours is a date's test (graph/relative_dates.py), a percentage an
# SLA's, not a field's.
_UNIT_AFTER = re.compile(
    r"\s*(?:%|(?:percent|minutes?|hours?|days?|weeks?|months?|years?)\b)", re.I
)
# Words that say the field itself was changed, as the experts' `fieldCHANGES^` says.
_CHANGED = re.compile(
    r"\b(?:raised|lowered|dropped|drops|increased|decreased|rises|rose|falls|fell|"
    r"changed|bumped)\b",
    re.I,
)
# Columns whose tests other words and rules give: choices, true or false, records, dates.
_NOT_COMPARED = frozenset({"boolean", "reference", "datetime", "duration", "choice"})
_CLAUSE_START = re.compile(r"[,;:.]\s")


def said_threshold(annotation: str) -> tuple[int, str, str] | None:
    """Where the words compare with a number, the operator and the number, or None."""
    found: list[tuple[int, str, str]] = []
    for pattern, operator in _SAID:
        for match in pattern.finditer(annotation):
            if _UNIT_AFTER.match(annotation, match.end()):
                continue
            said = next(g for g in match.groups() if g is not None).lower()
            number = _WORD_NUMBERS.get(said, said)
            found.append((match.start(), operator, re.sub(r"\.0+$", "", number)))
    return min(found) if found else None


def compared_column(
    table: str, annotation: str, start: int, columns_of: ColumnsOf
) -> Column | None:
    """The column of `table` the words before `start` name (in their clause): the one
    most of whose words they say, a count before text, then the one said last."""
    before = annotation[:start]
    clause = _CLAUSE_START.split(before)[-1]
    words = stems(clause)
    own = table_words(table) | NO_EVIDENCE
    best: tuple[int, int, int] | None = None
    chosen = None
    for column in columns_of(table):
        if column.choices or column.type in _NOT_COMPARED:
            continue
        named = (field_words(column.name, column) - own) & set(words)
        if not named:
            continue
        last = max(i for i, w in enumerate(words) if w in named)
        rank = (len(named), column.type == "integer", last)
        if best is None or rank > best:
            best, chosen = rank, column
    return chosen


def threshold_trigger(
    trigger: str | None, inputs: list[FlowInput], annotation: str, columns_of: ColumnsOf
) -> tuple[list[FlowInput], str | None]:
    """A record trigger's inputs with the threshold its words say (see above), and the
    change made as `old -> new`, or None."""
    values = {i.name: i.value for i in inputs}
    table, condition = values.get("table"), values.get("condition") or ""
    said = said_threshold(annotation)
    if not table or said is None or trigger not in RECORD_TRIGGERS:
        return inputs, None
    start, operator, number = said
    column = compared_column(table, annotation, start, columns_of)
    if column is None:
        return inputs, None
    field = column.name
    terms = parse_query(condition) if condition else []
    if any(t.field is None or t.connector != "AND" for t in terms):
        return inputs, None
    if any(t.field == field and t.operator in ("<", ">", "<=", ">=", "BETWEEN") for t in terms):
        return inputs, None
    named = named_terms(terms, table, annotation, columns_of)
    kept = [
        t.raw
        for t, n in zip(terms, named, strict=True)
        if n and t.field != field and t.value != number
    ]
    if trigger == "record_update" and _CHANGED.search(annotation):
        kept.append(f"{field}CHANGES")
    kept.append(f"{field}{operator}{number}")
    new = join_parts([("AND", part) for part in kept])
    if new == condition:
        return inputs, None
    return with_input(inputs, "condition", new), f"{condition} -> {new}"
