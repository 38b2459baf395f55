"""Closing a record sets its state to Closed: "close the review" is `state=3`, "close
the request item when it's done" `state=3^stage=complete`.

A choice's label is what grounding hears (graph/choice_grounding.py), and "close" names
no whole label where the states are "Closed Complete", "Closed Incomplete" and "Closed
Skipped", so the small model's guess stays (`decision=revoke`). On the updates of the
hand-written and synthetic train flows whose words say "close" (a verb: "close notes"
and "close code" name fields), the values set the state labelled Closed where the table
has one and Closed Complete otherwise in 356 of 368; the others name another closed
state ("close it as Closed Incomplete", "close the request as rejected"), which the
rule leaves to the model and to label grounding. The rule sets that state where the
values set none, or one whose label the words do not say.
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.graph.choice_grounding import STATE_COLUMN, label_stems, named_settings, stems

_CLOSE = re.compile(r"\b(?:close|closes|closing)\b(?!\s+(?:notes?|codes?|date)\b)", re.I)
_STATE_COLUMNS = ("state", "status", "u_status", "u_state")
_CLOSED_LABELS = ("Closed", "Closed Complete")


def closed_state(columns: list[Column]) -> tuple[str, str] | None:
    """(column, value) of the state a closed record of this table is in."""
    for name in _STATE_COLUMNS:
        column = next((c for c in columns if c.name == name and c.choices), None)
        if column is None:
            continue
        for label in _CLOSED_LABELS:
            value = next((c.value for c in column.choices or [] if c.label == label), None)
            if value is not None:
                return column.name, value
    return None


def add_closed_state(
    query: str | None, table: str, table_label: str | None, annotation: str, columns: list[Column]
) -> str | None:
    """An update's values with the closed state its words ask for (see above); None where
    nothing changes."""
    if not _CLOSE.search(annotation):
        return None
    closed = closed_state(columns)
    if closed is None:
        return None
    column, value = closed
    table_words = set(stems(f"{table} {table_label or ''}"))
    if any(c == column for c, _ in named_settings(annotation, table_words, columns)):
        return None  # the words name the state themselves ("as Closed Incomplete")
    said = set(stems(annotation))
    by_name = {c.name: c for c in columns}
    other_closed = {
        w
        for c in by_name[column].choices or []
        if c.value != value and "clos" in label_stems(c)
        for w in label_stems(c)
    } - {"clos"}
    if other_closed & said:
        return None  # "close those RMAs as incomplete"
    terms = parse_query(query) if query else []
    if any(t.connector != "AND" for t in terms) or any(
        t.field != column and STATE_COLUMN.search(t.field or "") for t in terms
    ):
        return None  # another state column set ("close the request as rejected")
    parts = [(t.connector, t.raw) for t in terms]
    own = [i for i, t in enumerate(terms) if t.field == column]
    if not own:
        parts.insert(0, ("AND", f"{column}={value}"))
    for i in own:
        term = terms[i]
        written = next((c for c in by_name[column].choices or [] if c.value == term.value), None)
        if (
            term.operator == "="
            and term.value != value
            and not (written and set(label_stems(written)) & said)
        ):
            parts[i] = (term.connector, f"{column}={value}")
    new = join_parts(parts)
    return None if new == query else new
