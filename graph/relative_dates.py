"""Dates the words give relative to today: "RMAs opened more than 14 days ago" looks up
`opened_at<javascript:gs.daysAgoStart(14)`, "applications whose end of support date
falls within the next 90 days" `end_of_support<javascript:gs.daysAgoEnd(-90)`.

The small model rarely writes such a term, and when it does it picks another date
column (`review_due` for "whose access has not been used in 90 days") or compares the
column with the run's start time. ServiceNow's encoded queries say "N days ago" with the
`gs.daysAgoStart(N)` script and "N days from now" with `gs.daysAgoEnd(-N)`, which is how
the hand-written gold flows write them. Where a look-up's words give an age ("more than
14 days ago", "older than 3 years", "for more than a week", "not used in 90 days",
"in the last 7 days") or a horizon ("within the next 30 days", "in the next 60 days"),
and name one date column of the table by its name or label ("opened", "warranty
expires", "end of support date", "last login"), the condition gets that term on that
column, in place of whatever relative term the model wrote on a date column. Words that
name no date column leave the condition as it is: which date "sitting in Awaiting Info
for more than 10 days" counts from is knowledge the words leave implicit, except that how
long a record has stayed as it is ("on hold ... for more than a week") counts from its
last update.

The same goes for the conditions of Update and Delete Multiple Records ("close every
security incident that has not been updated in 14 days").

Measured (issue 19, forty-second session): on the gold look-ups and bulk updates of train
and dev with their relative-date terms taken out, the rule writes 32 of 40 back exactly
and 3 with another script of the same date (`yearsAgoStart(7)` for 2,555 days,
`beginningOfToday()` for now), and adds a date to none of the 1,131 without one. Live on
dev it changed 4 of 184 flows, full FlowSim +0.166 summed (3 closer, none further). A
term added beside a wrong one the model wrote can cost FlowSim more than it gives (the
wrong term would have been relabelled; now a term is inserted as well): the held-out
runs lost on such flows (docs/results.md).
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.graph.choice_grounding import stems

DAYS_IN = {"day": 1, "week": 7, "month": 30, "year": 365}
NUMBERS = {
    "a": 1, "an": 1, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
    "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    "fourteen": 14, "fifteen": 15, "twenty": 20, "thirty": 30, "sixty": 60, "ninety": 90,
}  # fmt: skip
_COUNT = r"(?P<n>\d+|" + "|".join(NUMBERS) + r")"
_UNIT = r"(?P<unit>day|week|month|year|yr)s?\b"
# A horizon ahead: "within the next 30 days", "in the next 60 days", "in the coming week".
AHEAD = re.compile(
    rf"\b(?:within|in|over)\s+(?:the\s+)?(?:next|coming)\s+{_COUNT}?\s*{_UNIT}", re.I
)
# Recent: "in the last 7 days", "within the past week" (unless "not ... in the last").
RECENT = re.compile(
    rf"\b(?:in|within|during|over)\s+the\s+(?:last|past)\s+{_COUNT}?\s*{_UNIT}", re.I
)
# An age: "more than 14 days ago", "older than 3 years", "for more than a week", "over
# 90 days old", "in 90 days" after a negation ("not used in 90 days").
OLDER = re.compile(
    rf"\b(?:more\s+than|over|older\s+than|at\s+least|longer\s+than|overdue\s+by)\s+{_COUNT}\s+"
    rf"{_UNIT}",
    re.I,
)
AGO = re.compile(rf"\b{_COUNT}\s+{_UNIT}(?:\s+or\s+more)?\s+(?:ago|old)\b", re.I)
_NOT_IN = re.compile(
    rf"\b(?:not|n't|no|never|hasnt|havent)\b[^.;,]{{0,40}}?\b(?:in|for|within)\s+"
    rf"(?:the\s+(?:last|past)\s+)?{_COUNT}\s+{_UNIT}",
    re.I,
)
# A date already gone by: "whose expiry date has passed", "past their remediation due
# date", "is in the past" (gold writes `gs.nowDateTime()` 7 times, `beginningOfToday` 3).
PASSED = re.compile(
    r"\b(?:has|have|is|are)\s+(?:already\s+)?(?:passed|gone\s+by)\b|\balready\s+passed\b"
    r"|\bis\s+in\s+the\s+past\b|\bpast\s+(?:its|their|the)\b(?=[^.;,]{0,30}\b(?:date|due)\b)",
    re.I,
)
NOW = "javascript:gs.nowDateTime()"
# How long a record has stayed as it is ("on hold awaiting evidence for more than a week")
# counts from its last update: 2 of 2 hand-written gold look-ups so worded.
_IN_A_STATE = re.compile(r"\bfor\s+$", re.I)
UPDATED = "sys_updated_on"
DATE_TYPES = frozenset({"datetime", "date"})
# Words of a date column's name or label that say it is a date, not which one.
_DATE_WORDS = frozenset({"date", "time", "on", "at", "u", "sys", "of", "the", "dat"})
# Words before the time words that may name the column ("whose warranty expires in the
# next 30 days", "that were opened more than 14 days ago").
WINDOW_WORDS = 8
_RELATIVE = re.compile(r"javascript:|\{\{")


def _days(match: re.Match[str]) -> int:
    count = match.group("n")
    number = 1 if count is None else NUMBERS.get(count.lower()) or int(count)
    unit = match.group("unit").lower()
    return number * DAYS_IN["year" if unit == "yr" else unit]


def said_when(annotation: str) -> tuple[str, str, int] | None:
    """(operator, value, where the words start) of the relative date the words give, or
    None: one phrase only, since two ("opened over 30 days ago and due in the next 7
    days") need two columns the rule cannot tell apart."""
    found: list[tuple[str, str, int]] = []
    for match in AHEAD.finditer(annotation):
        found.append(("<", f"javascript:gs.daysAgoEnd(-{_days(match)})", match.start()))
    denials = list(_NOT_IN.finditer(annotation))
    for match in denials:
        found.append(("<", f"javascript:gs.daysAgoStart({_days(match)})", match.start()))
    negated = {m.start() for m in denials}
    for match in RECENT.finditer(annotation):
        if not any(start < match.start() for start in negated):
            found.append((">", f"javascript:gs.daysAgoStart({_days(match)})", match.start()))
    older = sorted(
        [*OLDER.finditer(annotation), *AGO.finditer(annotation)], key=lambda m: m.start()
    )
    for match in older:
        if any(o.start() < match.start() < o.end() for o in older):
            continue  # "more than a year ago" is one age, not two
        if not any(s <= match.start() < s + 60 for s in negated):
            found.append(("<", f"javascript:gs.daysAgoStart({_days(match)})", match.start()))
    found += [("<", NOW, match.start()) for match in PASSED.finditer(annotation)]
    return found[0] if len(found) == 1 else None


def _column_words(column: Column) -> set[str]:
    words = set(stems(column.name.replace("_", " "))) | set(stems(column.label or ""))
    return words - _DATE_WORDS


def _same(word: str, named: set[str]) -> bool:
    """A word of the span names a column word: the same stem, or one begins the other
    ("end" and `ends`, "logged" and `login`: their first three letters)."""
    return word in named or any(min(len(word), len(n)) >= 3 and word[:3] == n[:3] for n in named)


def named_date_column(annotation: str, at: int, columns: list[Column]) -> str | None:
    """The one date column the words of the window before `at` (and the time words) name:
    the one with most of its words said, then the one said nearest; None where none is,
    or two tie."""
    before = stems(annotation[:at])[-WINDOW_WORDS:]
    said = before + stems(annotation[at:])[:6]
    ranked: list[tuple[int, int, str]] = []
    for column in columns:
        if column.type not in DATE_TYPES:
            continue
        words = _column_words(column)
        hits = [i for i, w in enumerate(said) if _same(w, words)]
        named = {w for w in words if any(_same(said[i], {w}) for i in hits)}
        if hits:
            distance = min(abs(len(before) - 1 - i) for i in hits)
            ranked.append((-len(named), distance, column.name))
    ranked.sort()
    if not ranked or (len(ranked) > 1 and ranked[0][:2] == ranked[1][:2]):
        return None
    return ranked[0][2]


def add_relative_date(
    query: str | None, table: str, table_label: str | None, annotation: str, columns: list[Column]
) -> str | None:
    """A look-up's condition with the relative date its words give on the date column
    they name (see above), in place of the relative terms the model wrote on date
    columns; None where nothing changes."""
    when = said_when(annotation)
    if when is None:
        return None
    operator, value, at = when
    field = named_date_column(annotation, at, columns)
    in_a_state = _IN_A_STATE.search(annotation[:at])
    if field is None and in_a_state and any(c.name == UPDATED for c in columns):
        field = UPDATED  # "sitting in Awaiting Info for more than 10 days": since it changed
    if field is None:
        return None
    terms = parse_query(query) if query else []
    if any(t.connector != "AND" or t.field is None for t in terms):
        return None
    dates = {c.name for c in columns if c.type in DATE_TYPES}
    kept = [
        (t.connector, t.raw)
        for t in terms
        if not (t.field in dates and (t.field == field or _RELATIVE.search(t.value)))
    ]
    return join_parts([*kept, ("AND", f"{field}{operator}{value}")])
