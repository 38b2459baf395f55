"""A setting of the record one reference away, named by its label: "whenever the sentiment
on a platinum account's case turns negative" is `account.customer_tier=platinum` beside
the change, "a case about a defective router" `product.product_line=routers`.

The rules that add a setting the words name read the table's own columns
(graph/choice_grounding.py), and the model often leaves such a qualifier out: the words
name the record the trigger watches through another one (its account, its product, its
configuration item). Where the words name the whole label of one choice of a column of a
table that one reference column of the condition's table points to, no other such
column has a choice so labelled (the table's own columns included), and the condition
tests nothing on that field yet, the condition gets `<reference>.<column>=<value>`. A
label that is a word of the table's name, label or description ("a phishing email" is
the phishing report itself, no incident's attack vector Email), or the trigger's own
event ("new", "open"), names nothing; nor does one said inside a longer label of
another choice ("Closed" in "Closed Complete"), nor the other record's state, stage or
approval.

Gold (fiftieth session): of the `reference.column=value` terms of the hand-written,
synthetic and rephrased train and dev conditions, each left out in turn, the rule puts
back 21 of 34 on record triggers and 1 of 11 on look-ups (the others test a pill, a flag
or a name) and writes no other; on the 2,635 intact conditions it adds none. Replayed
on the stored flows of dev and the rephrased train cases: 4 flows closer to gold in full
FlowSim (+0.21 and +0.22 where the words' one qualifier was left out), 3 further (by
0.04 at most, on a trigger of the wrong kind or table). A referenced flag ("a VIP
caller" is `caller_id.vip=true`) is not read: "active" and the like name too many.
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.graph.choice_grounding import (
    EVENT_WORDS,
    ColumnsOf,
    label_stems,
    longest_named,
    said_inside_longer,
    stems,
)

# The other record's state, stage or approval is the event's or a step's business (a
# closed RMA is no closed case), never a qualifier of the record watched.
_RECORD_STATE = re.compile(r"(?:^|_)(?:state|status|stage|approval)$")


def referenced_settings(
    table: str, table_words: str, annotation: str, columns_of: ColumnsOf
) -> list[tuple[str, str]]:
    """The (`reference.column`, value) settings one reference away that the words name
    unambiguously (see above); `table_words` are the table's name, label and
    description."""
    said = stems(annotation)
    unnamed = set(stems(table_words.replace("_", " "))) | EVENT_WORDS
    named: list[tuple[str, str, list[str]]] = []
    own = columns_of(table)
    for column in own:
        named += _named_choices(column, column.name, said, unnamed)
    for reference in own:
        if not reference.reference or reference.reference == table:
            continue
        for column in columns_of(reference.reference):
            if not _RECORD_STATE.search(column.name):
                named += _named_choices(column, f"{reference.name}.{column.name}", said, unnamed)
    # a label said only inside a longer one names nothing ("Closed" in "Closed Complete")
    inside = said_inside_longer(said, [label for _, _, label in named])
    found: dict[tuple[str, ...], list[tuple[str, str]]] = {}
    for (field, value, label), covered in zip(named, inside, strict=True):
        if not covered:
            found.setdefault(tuple(label), []).append((field, value))
    return [
        settings[0] for settings in found.values() if len(settings) == 1 and "." in settings[0][0]
    ]


def _named_choices(
    column: Column, field: str, said: list[str], unnamed: set[str]
) -> list[tuple[str, str, list[str]]]:
    """(field, value, label words) for each choice of `column` the words name by its whole
    label (the longest where labels nest), less labels made only of `unnamed` words."""
    if not column.choices:
        return []
    labels = {c.value: label_stems(c) for c in column.choices}
    return [
        (field, value, labels[value])
        for value in longest_named(said, labels)
        if not set(labels[value]) <= unnamed
    ]


def add_referenced_settings(
    query: str | None,
    table: str,
    table_words: str,
    annotation: str,
    columns_of: ColumnsOf,
) -> str | None:
    """`query` with each setting one reference away that the words name and it does not
    test yet (see above); None where nothing changes."""
    terms = parse_query(query) if query else []
    if any(t.connector != "AND" for t in terms):
        return None
    tested = {t.field for t in terms if t.field}
    parts = [(t.connector, t.raw) for t in terms]
    added = False
    for field, value in referenced_settings(table, table_words, annotation, columns_of):
        if field in tested:
            continue
        parts.append(("AND", f"{field}={value}"))
        added = True
    return join_parts(parts) if added else None
