"""The record in scope a look-up's words point back at: "find all incidents assigned to
them" (them: the user the trigger holds) is `assigned_to={{trigger.current}}`, "find the
open cases on it" (it: the loop's product model) `product={{2.item}}`.

The small model writes the look-up's state and category and leaves out the record it is
about (`active=true`), or writes that record's name as a literal (`product=cameras`).
Where a look-up's span refers back with "it", "them", "its" or "their", and exactly one
record in scope is reached by a reference column of the looked-up table (the column the
words name, "assigned to", where the table has several to that record's table; else
its only one, a reference to the looked-up table itself left out), the condition gets
`<column>={{record}}` first, in place of a term the model wrote on that column; a
condition that already tests the column with a pill stays.

Gold: with their terms on records left out, the look-ups of the hand-written and
synthetic train and dev flows get back gold's term wherever the rule writes one (10
hand-written, 43 synthetic).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.flow.validator import PillRoot
from flowgen.graph.choice_grounding import occurrences, stems

_BACK = re.compile(r"\b(?:it|them|its|their)\b", re.I)


def scoped_record(
    annotation: str,
    table: str,
    pills: Sequence[PillRoot],
    columns_of: Callable[[str], list[Column]],
) -> tuple[str, str] | None:
    """(column, pill) of the one record in scope the words point back at (see above)."""
    if not _BACK.search(annotation):
        return None
    said = stems(annotation)
    found: list[tuple[str, str]] = []
    for root in pills:
        if root.type != "record" or not root.table:
            continue
        to_it = [c for c in columns_of(table) if c.reference == root.table]
        named = [c for c in to_it if occurrences(said, stems(c.label or c.name))]
        if len(named) == 1:
            found.append((named[0].name, "{{" + root.text + "}}"))
            continue
        others = [c for c in to_it if c.reference != table]
        if len(others) == 1:
            found.append((others[0].name, "{{" + root.text + "}}"))
    return found[0] if len(found) == 1 else None


def add_scoped_record(
    query: str | None,
    table: str,
    annotation: str,
    pills: Sequence[PillRoot],
    columns_of: Callable[[str], list[Column]],
) -> str | None:
    """A look-up's condition with the record its words point back at (see above); None
    where nothing changes."""
    found = scoped_record(annotation, table, pills, columns_of)
    terms = parse_query(query) if query else []
    if found is None or any(t.connector != "AND" for t in terms):
        return None
    column, pill = found
    on_column = [t for t in terms if t.field == column]
    # a pill already there, or a test the words give otherwise ("unassigned")
    if any("{{" in t.value or t.operator not in ("=", "!=", "LIKE") for t in on_column):
        return None
    kept = [(t.connector, t.raw) for t in terms if t.field != column]
    new = join_parts([("AND", f"{column}={pill}"), *kept])
    return None if new == query else new
