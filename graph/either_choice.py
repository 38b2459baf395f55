"""Either of two settings the words name: "a gold or platinum account's case" is
`account.customer_tierINgold,platinum`, "problems in Root Cause Analysis or Fix in
Progress" `problem_stateIN103,104`, "priority 1 or 2" `priorityIN1,2`.

The small model writes one setting or none where the words join two of the same column
with "or" (`account.account_managerISEMPTY` for "a new case ... for a gold or platinum
account"), and the rules that add a setting the words name leave two named values of one
column alone. Where the words say "<label> or <label>" (or "<column label> <value> or
<value>"), both choices of one column of the table or of a table one reference away
(`account.customer_tier`, `product.product_line`), a record trigger's or a look-up's
condition gets `<field>IN<a>,<b>` in the order said, in place of a term the model wrote on
that field; a pair two columns share names nothing.

Gold: the hand-written and synthetic train and dev conditions whose words name such a
pair all test it that way (10, all hand-written); none other gets one.
"""

from __future__ import annotations

from collections.abc import Callable

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.graph.choice_grounding import label_stems, occurrences, stems

_OR = "or"


def _pairs(said: list[str], column: Column) -> list[tuple[int, list[str]]]:
    """(where, [value, value]) for each "<a> or <b>" the words say of the column's
    choices: by their labels, or by their values after the column's label ("priority 1
    or 2")."""
    labels = {c.value: label_stems(c) for c in column.choices or []}
    found: list[tuple[int, list[str]]] = []
    for a, label_a in labels.items():
        for start in occurrences(said, label_a):
            after = start + len(label_a)
            if after >= len(said) or said[after] != _OR:
                continue
            for b, label_b in labels.items():
                if b != a and said[after + 1 : after + 1 + len(label_b)] == label_b:
                    found.append((start, [a, b]))
    column_label = stems(column.label or column.name.replace("_", " "))
    for start in occurrences(said, column_label):
        first = start + len(column_label)
        if first + 2 < len(said) and said[first + 1] == _OR:
            a, b = said[first], said[first + 2]
            if a in labels and b in labels and a != b:
                found.append((first, [a, b]))
    return found


def either_choice(
    annotation: str, table: str, columns_of: Callable[[str], list[Column]]
) -> tuple[str, list[str]] | None:
    """(field, values) of the one pair of choices the words join with "or" (see above),
    on the table's own columns first, else one reference away; None if none or several."""
    said = stems(annotation)
    own = [
        (column.name, values)
        for column in columns_of(table)
        if column.choices
        for _, values in _pairs(said, column)
    ]
    if own:
        return own[0] if len({f for f, _ in own}) == 1 else None
    walked = [
        (f"{ref.name}.{column.name}", values)
        for ref in columns_of(table)
        if ref.reference and ref.reference != table
        for column in columns_of(ref.reference)
        if column.choices
        for _, values in _pairs(said, column)
    ]
    if len({f for f, _ in walked}) == 1:
        return walked[0]
    return None


def add_either_choice(
    query: str | None,
    table: str,
    annotation: str,
    columns_of: Callable[[str], list[Column]],
) -> str | None:
    """`query` with `<field>IN<a>,<b>` for the pair its words name (see above), in place
    of a term on that field; None where nothing changes. Queries with OR are left."""
    found = either_choice(annotation, table, columns_of)
    terms = parse_query(query) if query else []
    if found is None or any(t.connector != "AND" for t in terms):
        return None
    field, values = found
    term = f"{field}IN{','.join(values)}"
    parts = [(t.connector, t.raw) for t in terms if t.field != field]
    on_field = [i for i, t in enumerate(terms) if t.field == field]
    if on_field:
        parts.insert(on_field[0], ("AND", term))
    else:
        parts.append(("AND", term))
    new = join_parts(parts)
    return None if new == query else new
