"""A step's values and look-up conditions without the terms its words never name.

The small model pads an update with terms it saw beside the one asked for: "close the
review" came out `state=3^decision=revoke`, "raise the incident's risk score to 90"
`risk_score=90^severity=1`, "move the parent incident to resolved" `state=6^work_notes=
Closed because ... was Closed` (the synthetic corpus closes with that note 27 times, so
"close them" gets it too). The experts who wrote the hand-written flows name what an
update sets: of the 2,804 terms of the hand-written and synthetic train and dev updates
whose words name at least one of their terms, 31 are named by none of the update's
words, and those few are what the records' platform does along with the named change
(a resolution's code and notes, a closed record made inactive) or a result the flow
looked up for the record (`score={{1.score}}`).

So an update_record's values lose (`drop_unnamed_values`):
- a work note or comment where the words say nothing of a note, a comment or a message
  to someone ("ask the contact for their number", "thank them", "explaining why" write
  one), so long as another term is left;
- where the words name one of its other terms, each term they never name, by the
  evidence graph/unnamed_terms.py reads (a word of the field, its label, its value or the
  value's label), except a record's closing fields on closing or resolving words
  (`close_code`, `close_notes`, `closed_at`, `stage`, and `active=false`, which
  "inactive" and "deactivate" name as well) and a value that is an earlier step's output.
An update none of whose terms the words name stays as written: the model may know what
the words leave implicit ("reopen the case" is `state=18`).

A look-up's conditions leave more unsaid ("their open incidents" is
`assigned_to={{trigger.current}}^active=true`), so there only a plain setting goes
(`drop_unnamed_conditions`): `field=value` with a value of its own (not a pill, a date, an
emptiness, and not `active`), on a field the words never name, where they name another
term ("warranty claims that are still Submitted and active": `u_active=true^u_number=1^
u_status=submitted` loses `u_number=1`).

Measured (fiftieth session) on the hand-written gold: 11 of 308 updates lose a term (a
note written on a cancel or a resolve, a custom field set on closing), 4 of 188
look-ups; on the synthetic gold the 27 closing notes above and no look-up. Replayed on
the stored flows of dev (177) and the rephrased train cases (194): updates 23 flows
closer to gold in full FlowSim, 2 further; look-ups 13 closer, 2 further. The older
replay of graph/unnamed_terms.py's rule on every step term lost (twenty-eighth session):
a look-up's unsaid scope and an update's implied fields are what these exceptions keep.
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import Term, join_parts, parse_query
from flowgen.graph.choice_grounding import ColumnsOf
from flowgen.graph.journal_note import journal_column
from flowgen.graph.unnamed_terms import named_terms

JOURNAL_FIELDS = frozenset({"work_notes", "comments"})
# Words that ask for a message on the record besides naming a journal field
# (graph/journal_note.py's `journal_column`: "with a work note", "in the close notes").
_MESSAGE_WORDS = re.compile(
    r"\b(?:commenting|journal|ask(?:s|ing)?|tell(?:s|ing)?|thank(?:s|ing)?"
    r"|explain(?:s|ing)?|reply|message)\b",
    re.I,
)
_CLOSING_WORDS = re.compile(r"\b(?:clos(?:e|es|ed|ing)|resolv(?:e|es|ed|ing))\b", re.I)
_INACTIVE_WORDS = re.compile(r"\b(?:inactive|deactivat(?:e|es|ed|ing))\b", re.I)
CLOSING_FIELDS = frozenset({"close_code", "close_notes", "closed_at", "stage"})
_ACTIVE_FIELDS = frozenset({"active", "u_active"})
_STEP_OUTPUT = re.compile(r"^\{\{\d+\.")


def _own_columns(table: str, columns: list[Column]) -> ColumnsOf:
    """The columns of `table` as a lookup by table name, as graph/unnamed_terms.py reads
    them: a step's values and conditions name the table's own fields."""
    return lambda name: columns if name == table else []


def _implied(term: Term, annotation: str) -> bool:
    """Whether the record's platform or the flow's earlier steps imply `term` (see
    above), though the words name none of it."""
    if _STEP_OUTPUT.match(term.value or ""):
        return True
    closing = bool(_CLOSING_WORDS.search(annotation))
    if term.field in CLOSING_FIELDS:
        return closing
    if term.field in _ACTIVE_FIELDS and term.value == "false":
        return closing or bool(_INACTIVE_WORDS.search(annotation))
    return False


def drop_unnamed_values(
    query: str | None, table: str, table_label: str | None, annotation: str, columns: list[Column]
) -> str | None:
    """An update's values without the terms its words never name (see above); None
    where nothing changes."""
    if not query:
        return None
    terms = parse_query(query)
    if any(t.field is None or t.connector != "AND" for t in terms):
        return None
    noted = journal_column(annotation, columns) is not None or bool(
        _MESSAGE_WORDS.search(annotation)
    )
    named = named_terms(terms, table, annotation, _own_columns(table, columns), table_label)
    unasked_note = [t.field in JOURNAL_FIELDS and not noted for t in terms]
    padded = [
        t.field not in JOURNAL_FIELDS and not n and not _implied(t, annotation)
        for t, n in zip(terms, named, strict=True)
    ]
    if not any(n for t, n in zip(terms, named, strict=True) if t.field not in JOURNAL_FIELDS):
        padded = [False] * len(terms)  # nothing named: the model may know better
    dropped = [a or b for a, b in zip(unasked_note, padded, strict=True)]
    if not any(dropped):
        return None
    if all(dropped):
        return None  # all it writes is a note: left to the model
    return join_parts([(t.connector, t.raw) for t, d in zip(terms, dropped, strict=True) if not d])


def drop_unnamed_conditions(
    query: str | None, table: str, table_label: str | None, annotation: str, columns: list[Column]
) -> str | None:
    """A look-up's conditions without the plain settings its words never name (see
    above); None where nothing changes."""
    if not query:
        return None
    terms = parse_query(query)
    if any(t.field is None or t.connector != "AND" for t in terms):
        return None
    named = named_terms(terms, table, annotation, _own_columns(table, columns), table_label)
    if not any(n for t, n in zip(terms, named, strict=True) if t.field not in _ACTIVE_FIELDS):
        return None
    dropped = [_plain_setting(t) and not n for t, n in zip(terms, named, strict=True)]
    if not any(dropped):
        return None
    return join_parts([(t.connector, t.raw) for t, d in zip(terms, dropped, strict=True) if not d])


def _plain_setting(term: Term) -> bool:
    """`field=value` with a literal value of its own: no pill, date or emptiness, and not
    the `active` flag that "open" and "current" imply."""
    value = term.value or ""
    return (
        term.operator == "="
        and term.field not in _ACTIVE_FIELDS
        and bool(value)
        and "{{" not in value
        and "javascript:" not in value
    )
