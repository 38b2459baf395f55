"""A choice named by its label after "to" or "as": "set the stage to equipment" is
`onboarding_stage=equipment`, "set the claim to Accepted" `u_status=accepted`, "send it
back to Assess" `state=-4`.

The small model, lost in a long requirement, writes such an update on another column
(`equipment_delivered=true`) or leaves the choice out (only the work note the same words
ask for). In the hand-written and synthetic train and dev flows, 1,130 updates' words say
"to" or "as" and then a choice's label of their table's columns (the label ending the
words or followed by "and", "with", "then", "if" ...); 1,110 hold that choice, and the
other 20 are the two cases below. A label
that several columns share ("raise the severity to High": severity, priority, impact and
urgency all have a High) is the choice of the one column the words also name, and of
none where they name none or several; a label the values already hold on another column
(`request_state=closed_rejected` for "close the request as rejected") is left alone.

The choice is set as graph/ranked_choice.py sets a numbered one: on its column's term,
else in place of the one term on a column the words never name (read without the
choice's own words: "set the stage to equipment" does not name `equipment_delivered`),
else beside the others. It changes none of the 3,059 values of those gold updates and
creates; with the named choice's term taken out, it writes 1,107 back, 1,104 as gold
has them (forty-seventh session).
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import parse_query
from flowgen.graph.choice_grounding import label_text
from flowgen.graph.ranked_choice import set_choices

_WORD = re.compile(r"[a-z0-9]+")
# What may follow the label: the end of the words, or a word that opens another part.
_AFTER = (
    r"(?=$| (?:and|with|then|so|if|when|for|on|in|because|after|before|but|or|unless|once"
    r"|until|since|at|by|from|via|too|again|instead|now|straight|right|immediately)\b)"
)


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def labeled_choices(
    annotation: str, columns: list[Column]
) -> tuple[list[tuple[str, str, str]], str]:
    """(column, value, label) for each choice the words name by label after "to" or "as"
    (see above), and the words without those phrases."""
    said = " ".join(_words(annotation))
    found: dict[tuple[int, int], list[tuple[str, str, str]]] = {}
    for column in columns:
        if column.type == "boolean":
            continue
        for choice in column.choices or []:
            label = " ".join(_words(label_text(choice)))
            # most labels are not in the words at all: no pattern to build for them
            if not label or label.isdigit() or label not in said:
                continue
            pattern = rf"\b(?:to|as) (?:the |a |an )?{re.escape(label)}{_AFTER}"
            for match in re.finditer(pattern, said):
                found.setdefault(match.span(), []).append((column.name, choice.value, label))
    rest = said
    for start, end in sorted(found, reverse=True):
        rest = rest[:start] + rest[end:]
    named: list[tuple[str, str, str]] = []
    by_name = {c.name: c for c in columns}
    for choices in found.values():
        if len(choices) > 1:
            # a label several columns share: the one the words name besides it
            words = set(rest.split())
            choices = [
                choice
                for choice in choices
                if set(_words(by_name[choice[0]].label or choice[0].replace("_", " "))) <= words
            ]
        if len(choices) == 1 and choices[0] not in named:
            named.append(choices[0])
    columns_named = [name for name, _, _ in named]
    return [choice for choice in named if columns_named.count(choice[0]) == 1], rest


def set_labeled_choices(
    query: str | None,
    table: str,
    table_label: str | None,
    annotation: str,
    columns: list[Column],
) -> str | None:
    """A step's values with the choices its words name by label (see above); None where
    nothing changes."""
    labeled, rest = labeled_choices(annotation, columns)
    terms = parse_query(query) if query else []
    # "close the request as rejected" written `request_state=closed_rejected`: said
    named = [
        (column, value)
        for column, value, label in labeled
        if not any(t.field != column and set(label.split()) <= set(_words(t.value)) for t in terms)
    ]
    if not named:
        return None
    return set_choices(query, named, (table, table_label, rest, columns), replace_unnamed=True)
