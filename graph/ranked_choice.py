"""A choice named by its number: "P1 incidents" is `priority=1`, "raise it to priority
2" `priority=2`, "severity 1" `severity=1`.

A choice's label is its name ("1 - Critical"), so label grounding
(graph/choice_grounding.py) hears "critical", not "1". The words name the number by
the column's label followed by it ("priority 2", "priority to 2", "a severity of 1"), or
"P" for priority ("P1"); a number followed by "or" or "and" another ("priority 1 or 2")
is a set, left to the model. Gold: in the hand-written and synthetic train and dev
flows, every record trigger, look-up and update whose words name a priority so has it in
its condition or values (160 + 9; with "to" and "of", 319 spans of any numbered column,
all with that value), so the rule sets the named value on the column's term where it
differs and adds `<column>=<n>` where there is none. In a step's values, where the one
term the model wrote is on a column the words never name ("raise the case priority to 1"
written `escalated=true`), the named choice takes its place instead of joining it: that
term was the model's guess at what the words ask. Neither changes any of the 5,750
conditions and values of those gold flows (forty-sixth session).
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import Term, join_parts, parse_query
from flowgen.graph.unnamed_terms import named_terms

_SET_AFTER = re.compile(r"^\s*(?:or|and|,|/|-|to)\s*(?:p|\w+\s+)?\d", re.I)
_SET_BEFORE = re.compile(r"\d\s*(?:or|and|,|/|-|to)\s*$", re.I)
_SETTABLE = ("=", "CHANGESTO", "!=")
# The desk's shorthand for a numbered column: "P1", "prio 2", "sev 1".
_SHORTHAND = {"priority": ["P", "prio"], "severity": ["sev"]}


def ranked_choices(annotation: str, columns: list[Column]) -> list[tuple[str, str]]:
    """(column, value) for each choice the words name by number (see above)."""
    found: list[tuple[str, str]] = []
    for column in columns:
        values = {c.value for c in column.choices or []}
        if not values or column.type == "boolean":
            continue
        label = r"\s+".join(map(re.escape, (column.label or column.name).split()))
        names = [label, *_SHORTHAND.get(column.name, [])]
        for name in names:
            # "raise it to priority 2", "set the priority to 2", "a severity of 1"
            glue = r"-?" if name == "P" else r"[\s-]*(?:(?:to|of)\s+)?"
            for match in re.finditer(rf"\b{name}{glue}(\d)\b", annotation, re.I):
                if _SET_AFTER.match(annotation[match.end() :]) or _SET_BEFORE.search(
                    annotation[: match.start()]
                ):
                    continue
                if match.group(1) in values and (column.name, match.group(1)) not in found:
                    found.append((column.name, match.group(1)))
    # two numbers for one column name no one value
    counts = {c: sum(1 for k, _ in found if k == c) for c, _ in found}
    return [(c, v) for c, v in found if counts[c] == 1]


def _unnamed_term(
    terms: list[Term], table: str, table_label: str | None, annotation: str, columns: list[Column]
) -> int | None:
    """The index of the query's one term on a column of the table that the words never
    name (graph/unnamed_terms.py's reading), where it has exactly one; else None."""
    by_name = {c.name: c for c in columns}
    plain = [
        i
        for i, t in enumerate(terms)
        if t.field in by_name and t.operator in _SETTABLE and "{{" not in t.value
    ]

    def columns_of(name: str) -> list[Column]:
        return columns if name == table else []

    named = named_terms([terms[i] for i in plain], table, annotation, columns_of, table_label)
    unnamed = [i for i, said in zip(plain, named, strict=True) if not said]
    return unnamed[0] if len(unnamed) == 1 else None


def set_ranked_choices(
    query: str | None,
    table: str,
    table_label: str | None,
    annotation: str,
    columns: list[Column],
    replace_unnamed: bool = False,
) -> str | None:
    """`query` with the choices its words name by number (see above); None where nothing
    changes. With `replace_unnamed` (a step's values), a named choice whose column the
    query lacks takes the place of its one term on a column the words never name."""
    named = ranked_choices(annotation, columns)
    if not named:
        return None
    return set_choices(query, named, (table, table_label, annotation, columns), replace_unnamed)


def set_choices(
    query: str | None,
    named: list[tuple[str, str]],
    about: tuple[str, str | None, str, list[Column]],
    replace_unnamed: bool,
) -> str | None:
    """`query` with each (column, value) of `named` set: on the column's own terms, else
    (with `replace_unnamed`) in place of the one term on a column the words `about`
    (table, its label, the words, its columns) never name, else added; None where
    nothing changes or the query holds an OR."""
    table, table_label, annotation, columns = about
    terms = parse_query(query) if query else []
    if any(t.connector != "AND" for t in terms):
        return None
    parts = [(t.connector, t.raw) for t in terms]
    for column, value in named:
        own = [i for i, t in enumerate(terms) if t.field == column]
        if own:
            for i in own:
                term = terms[i]
                if term.operator in _SETTABLE and term.value != value:
                    parts[i] = (term.connector, f"{column}{term.operator}{value}")
        elif replace_unnamed and (
            (unnamed := _unnamed_term(terms, table, table_label, annotation, columns)) is not None
        ):
            # the model's guess at what the words ask ("raise the case priority to 1"
            # written `escalated=true`) gives way to it
            parts[unnamed] = (terms[unnamed].connector, f"{column}={value}")
        else:
            parts.append(("AND", f"{column}={value}"))
    new = join_parts(parts) if parts else None
    return None if new == query else new
