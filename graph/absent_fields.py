"""Fields the words say are empty: "P1 incidents with no assignee" is
`assigned_toISEMPTY`, "every active user without a manager" `managerISEMPTY`, "if the
problem has no assignee" `{{2.item.assigned_to}}ISEMPTY`.

The small model writes the state and priority it saw most in training and leaves out
what the words say is missing (or writes `=false` for it). A column is named absent by
"without (a|an|any)", "with no", "has no", "no" before its label or a role noun of it
("assignee": Assigned to; the longest label wins, a tie names nothing), or by
"unassigned". A record trigger's or a look-up's condition gets `<column>ISEMPTY` where it
does not test the column yet (in place of an emptiness test on a column the words never
name, the model's guess at it), and an `ISNOTEMPTY` on it turns around. An IF's one test
of a record's field becomes the emptiness of the column the words name on that record.

Gold: on the record triggers, look-ups and IFs of the hand-written and synthetic train
and dev flows the rule changes nothing: each condition whose words name an absent column
this way already tests it `ISEMPTY` (phrases that name no column, "without a reply from
the customer", are left).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.flow.validator import PillRoot
from flowgen.graph.named_recipient import label_roles, role_list

_ABSENT = re.compile(
    r"\b(?:without(?: an?| any)?|with no|has no|have no|w/ ?no|no)\s+([a-z][a-z -]*)", re.I
)
_UNASSIGNED = re.compile(r"\bunassigned\b", re.I)
# where the words after "no ..." stop naming the column ("no manager yet", "no score set")
_PHRASE_END = frozenset({"yet", "set", "at", "and", "or", "in", "on", "for", "with", "that", "who"})
# an IF's one test of a pill: `{{2.item.u_reviewer}}=false`
_PILL_TEST = re.compile(r"\{\{([\w.]+)\}\}(?:=|!=|ISEMPTY|ISNOTEMPTY).*")


def absent_columns(annotation: str, columns: list[Column]) -> list[str]:
    """The columns the words say are empty (see above), in the order named."""
    found: list[str] = []
    if _UNASSIGNED.search(annotation) and any(c.name == "assigned_to" for c in columns):
        found.append("assigned_to")
    for match in _ABSENT.finditer(annotation):
        said = role_list(match.group(1))
        said = said[: next((i for i, w in enumerate(said) if w in _PHRASE_END), len(said))]
        # the longest label the words start with; a tie names nothing
        matched = [
            (len(label), column.name)
            for column in columns
            if column.type != "boolean"
            and (label := label_roles(column))
            and said[: len(label)] == label
        ]
        longest = [name for size, name in matched if size == max(matched)[0]]
        if len(longest) == 1 and longest[0] not in found:
            found.append(longest[0])
    return found


def add_absent_fields(
    query: str | None,
    table: str,
    table_label: str | None,
    annotation: str,
    columns: list[Column],
) -> str | None:
    """`query` with the emptiness of each column the words say is empty (see above); None
    where nothing changes. A query with OR is left alone."""
    absent = absent_columns(annotation, columns)
    terms = parse_query(query) if query else []
    if not absent or any(t.connector != "AND" for t in terms):
        return None
    said = set(role_list(annotation))
    parts = [(t.connector, t.raw) for t in terms]
    changed = False
    for column in absent:
        tested = [i for i, t in enumerate(terms) if t.field == column]
        guessed = [
            i
            for i, t in enumerate(terms)
            if t.operator == "ISEMPTY"
            and t.field not in absent
            and not set(role_list(t.field or "")) & said
        ]
        if not tested and guessed:
            parts[guessed[0]] = (terms[guessed[0]].connector, f"{column}ISEMPTY")
            changed = True
        elif not tested:
            parts.append(("AND", f"{column}ISEMPTY"))
            changed = True
        for i in tested:
            if terms[i].operator == "ISNOTEMPTY":
                parts[i] = (terms[i].connector, f"{column}ISEMPTY")
                changed = True
    return join_parts(parts) if changed else None


def absent_pill_condition(
    condition: str,
    annotation: str,
    pills: Sequence[PillRoot],
    columns_of: Callable[[str], list[Column]],
) -> str | None:
    """An IF's one test of a record's field where the words say a column of that record is
    empty: `{{record.column}}ISEMPTY`; None where nothing changes. A test of the record
    itself (`{{2.record}}ISNOTEMPTY`: "if one was found", the look-up holding the
    emptiness) is left."""
    test = _PILL_TEST.fullmatch(condition.strip())
    if test is None or "^" in condition:
        return None
    path = test.group(1)
    roots = [r for r in pills if r.type == "record" and r.table and path.startswith(r.text + ".")]
    if not roots:
        return None
    root = max(roots, key=lambda r: len(r.text))
    absent = absent_columns(annotation, columns_of(root.table or ""))
    if len(absent) != 1:
        return None
    new = "{{" + f"{root.text}.{absent[0]}" + "}}ISEMPTY"
    return None if new == condition.strip() else new
