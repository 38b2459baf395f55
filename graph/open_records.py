"""Open records are active ones: "count the open phishing reports" looks up
`u_active=true`, "the open changes on it" `active=true`.

The small model writes a state it saw often, or nothing, for "open". On the look-ups of
the hand-written and synthetic train flows whose words say "open" and whose table has an
Active flag, 759 of 759 conditions test it true (the one other look-up, "their open
approvals", is on a table without one). The rule adds `<active>=true` to a look-up's
condition where its words say "open" as an adjective ("open a ticket" is a verb) and the
condition does not test the flag yet, nor a state whose label is Open (vulnerable items
are open by `state=1`).
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import join_parts, parse_query

# "open" before what it qualifies; "open a", "open the", "open it" are the verb
_OPEN = re.compile(r"\bopen\b(?!\s+(?:a|an|the|it|them|one|new)\b)", re.I)
_ACTIVE = ("active", "u_active")


def add_open_active(
    query: str | None, table: str, table_label: str | None, annotation: str, columns: list[Column]
) -> str | None:
    """A look-up's condition with `<active>=true` where its words say "open" (see above);
    None where nothing changes."""
    if not _OPEN.search(annotation):
        return None
    flag = next((c.name for c in columns if c.name in _ACTIVE and c.type == "boolean"), None)
    terms = parse_query(query) if query else []
    by_name = {c.name: c for c in columns}
    if any(_says_open(by_name.get(t.field or ""), t.value) for t in terms):
        return None  # "still open" already said by the state Open
    if (
        flag is None
        or any(t.field == flag for t in terms)
        or any(t.connector != "AND" for t in terms)
    ):
        return None
    return join_parts([*((t.connector, t.raw) for t in terms), ("AND", f"{flag}=true")])


def _says_open(column: Column | None, value: str) -> bool:
    return column is not None and any(
        c.value == value and (c.label or "").lower() == "open" for c in column.choices or []
    )
