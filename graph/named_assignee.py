"""The person or group an assignment's words name: "assign them to their manager" is
`assigned_to={{trigger.current.manager}}`, "reassign it to the CI's support group"
`assignment_group={{2.item.cmdb_ci.support_group}}`, "route it to the Database group"
the group a look-up found, `assignment_group={{1.record}}`.

The small model writes an update's values from the fields it saw most in training
(`state=7`, `priority=2`) where the words hand the record to someone. The words name the
assignee after "assign ... to" (or before "assign ... as": "assign that group's manager
as the escalation manager"): by the label of a reference column that holds a user or a
group ("Manager", "Support group", "Success Manager"), walked from the records in scope
as recipients are (graph/named_recipient.py); or, for a group named by its name or as
"that group", the latest group a look-up found. The column set is the one the other
words name ("as the escalation manager"; "the reviewer's manager" on a review), else
`assigned_to` or `assignment_group` by what the pill holds, else the table's one column
for it that does not record who asked or opened. The update's other terms stay where the
words name them ("and raise its priority to critical"), in the order named; those the
words never name go, since the model wrote them in place of the assignment. Where the
model did set the column, only its value changes.

A record created "for" someone goes to them the same way ("create a task for the owner
to decide", "open an incident for the Service Desk", a catalog task's group): a task for
a person or a group, any other record only for a group (an incident "opened for the
requester" is about them, not theirs to work); its other values are its content and stay.

Gold: on the update_record, create_record, create_task and create_catalog_task steps of
the hand-written and synthetic train and dev flows the rule changes none; given an
unnamed value in place of gold's (or gold's assignee left out of a create), it writes
gold's term for all it names an assignee for (46 updates, 23 creates).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from flowgen.flow.catalog import CatalogView, Column
from flowgen.flow.encoded_query import Term, join_parts, parse_query
from flowgen.flow.model import FlowInput
from flowgen.flow.pills import output_step
from flowgen.flow.validator import PillRoot
from flowgen.graph.choice_grounding import stems, with_input
from flowgen.graph.named_recipient import best_named, label_roles, reference_walk, role_list
from flowgen.graph.named_record import PEOPLE_TABLES
from flowgen.graph.unnamed_terms import NO_EVIDENCE, term_words

GROUPS = "sys_user_group"  # a group's table; the other assignable one holds users
# The steps that hand a record to someone, with their table and values inputs; a catalog
# task takes its group as an input of its own.
ASSIGNING_STEPS: dict[str, tuple[str, str]] = {
    "update_record": ("table_name", "values"),
    "create_record": ("table_name", "values"),
    "create_task": ("task_table", "field_values"),
    "create_catalog_task": ("", "assignment_group"),
}
DEFAULT_COLUMN = {"sys_user": "assigned_to", "sys_user_group": "assignment_group"}
# The verb that hands a record over. Its words name no column ("assign" is not the
# `Assigned to` column; "the assignee" is).
_VERB = re.compile(
    r"\b(?:re)?assign(?:s|ed|ing)?\b(?! group)|\broute[sd]?\b"
    r"|\bhand(?:s|ed)? (?:it|them) (?:over )?to\b",
    re.I,
)
_ASSIGNEE = re.compile(r"\bassignee\b", re.I)
# a group by its name ("the Database group") or as the one just found ("that group")
_GROUP_NAMED = re.compile(
    r"\b(?:that|this|the same|the new) group\b|\b[A-Z][\w-]*(?: [A-Z0-9][\w-]*)* group\b"
)
_CLAUSE_END = re.compile(r",|;|\band\b|\bthen\b|\+")
# a record made for someone: "create a task for the owner to decide", "a catalog task is
# created for the Desktop Support group"
_MADE_FOR = re.compile(r"\b(?:creat|open|rais|log)\w*\b(?:[^,;.]*?)\bfor\b", re.I)
# where the words about the assignee stop: "their manager with a work note saying ...",
# "the owner to decide"
_PHRASE_END = re.compile(r"\bto\b|\bwith\b|\bso\b|\bthat\b(?! group)|\bfor\b")
# a group by its name alone after "for" ("create a task for Desk Side Support")
_PROPER_NAME = re.compile(r"^\s*(?:the\s+)?[A-Z][\w-]*(?:\s+[A-Z0-9][\w-]*)*\s*$")

Assignee = tuple[str, str, str]  # (pill, the table it holds, the word that names it)


def assignee_phrase(annotation: str, creates: bool = False) -> str | None:
    """The words that name whom the record goes to (see above), up to the clause's end;
    None where the words hand nothing over. A record created "for" someone goes to them
    ("create a task for the owner to decide")."""
    verb = _VERB.search(annotation) or _ASSIGNEE.search(annotation)
    if verb is None and creates:
        made_for = _MADE_FOR.search(annotation)
        if made_for is None:
            return None
        return _PHRASE_END.split(_CLAUSE_END.split(annotation[made_for.end() :])[0])[0]
    if verb is None:
        return None
    rest = annotation[verb.end() :]
    to, as_ = re.search(r"\bto\b", rest), re.search(r"\bas\b", rest)
    if to and (as_ is None or to.start() < as_.start()):
        phrase = rest[to.end() :]
    elif as_:
        phrase = rest[: as_.start()]
    else:
        return None
    return _PHRASE_END.split(_CLAUSE_END.split(phrase)[0])[0]


def named_assignee(
    annotation: str,
    pills: Sequence[PillRoot],
    catalog: CatalogView,
    columns_of: Callable[[str], list[Column]],
    creates: bool = False,
) -> Assignee | None:
    """The one user or group in scope the words hand the record to (see above)."""
    phrase = assignee_phrase(annotation, creates)
    if phrase is None:
        return None
    # every user and group in scope: a record that is one, or one its references reach
    paths = [
        (text, walked, table)
        for text, table, walked in reference_walk(pills, columns_of)
        if table in PEOPLE_TABLES
    ]
    if _GROUP_NAMED.search(phrase) or (creates and _PROPER_NAME.match(phrase)):
        found = [text for text, walked, table in paths if not walked and table == GROUPS]
        if not found:
            return None  # a group by its name that no look-up found
        return "{{" + max(found, key=output_step) + "}}", GROUPS, "group"

    def head_of(walked: list[Column], table: str) -> list[str]:
        about = catalog.table(table)
        label = label_roles(walked[-1]) if walked else role_list((about and about.label) or table)
        return label[-1:]

    # the person named first, then the path whose words the phrase names most, then the
    # shorter, as for recipients
    heads = {
        text: (table, head[0]) for text, walked, table in paths if (head := head_of(walked, table))
    }
    best = best_named(phrase, [(t, w, heads[t][1]) for t, w, _ in paths if t in heads])
    return ("{{" + best + "}}", *heads[best]) if best else None


# Columns that hold who asked for, opened or is served by a record: never whom it is
# handed to ("reassign it to the caller's manager" is the assignee, not the caller).
_REQUESTERS = frozenset(
    {
        "caller_id",
        "opened_by",
        "opened_for",
        "requested_by",
        "requested_for",
        "u_requested_for",
        "reported_by",
        "u_reporter",
        "resolved_by",
        "subject_person",
    }
)


def assigned_column(annotation: str, head: str, holds: str, columns: list[Column]) -> str | None:
    """The column the assignee goes in (see above)."""
    candidates = [c for c in columns if c.reference == holds and c.name not in _REQUESTERS]
    said = role_list(_VERB.sub(" ", annotation))
    if head in said:
        said.remove(head)  # once: "the escalation manager" still names its column
    if _ASSIGNEE.search(annotation):
        said.append("assign")
    named = [c for c in candidates if set(label_roles(c)) <= set(said)]
    if len(named) == 1:
        return named[0].name
    if any(c.name == DEFAULT_COLUMN[holds] for c in candidates):
        return DEFAULT_COLUMN[holds]
    others = [c for c in candidates if not (c.label or "").lower().endswith((" by", " for"))]
    return others[0].name if len(others) == 1 else None


def assign_named(
    definition: str,
    inputs: list[FlowInput],
    annotation: str,
    pills: Sequence[PillRoot],
    catalog: CatalogView,
    columns_of: Callable[[str], list[Column]],
) -> tuple[list[FlowInput], list[str]]:
    """An update's or a created record's inputs with the assignment its words name set
    (see above), and `old -> new` for the trace."""
    if definition not in ASSIGNING_STEPS:
        return inputs, []
    creates = definition != "update_record"
    values = {i.name: i.value for i in inputs}
    if definition == "create_catalog_task":
        found = named_assignee(annotation, pills, catalog, columns_of, creates=True)
        written = values.get("assignment_group", "")
        if found is None or found[1] != GROUPS or written == found[0]:
            return inputs, []
        return with_input(inputs, "assignment_group", found[0]), [f"{written} -> {found[0]}"]
    table_input, values_input = ASSIGNING_STEPS[definition]
    table, written = values.get(table_input), values.get(values_input) or ""
    if definition == "create_task":
        table = table or "task"  # its declared default
    if not table or "{{" in table:
        return inputs, []
    found = named_assignee(annotation, pills, catalog, columns_of, creates)
    if found is None:
        return inputs, []
    pill, holds, head = found
    columns = columns_of(table)
    column = assigned_column(annotation, head, holds, columns)
    terms = parse_query(written) if written else []
    if column is None or any(t.field is None or t.connector != "AND" for t in terms):
        return inputs, []
    if creates:
        # An incident or case made "for the requester" is about them; only a task is made
        # for the person who does it (a group does the work of any record made for it).
        made = catalog.table(table)
        tasklike = definition == "create_task" or (made and (made.label or "").endswith("Task"))
        if holds != GROUPS and not tasklike:
            return inputs, []
    term = f"{column}={pill}"
    if creates or any(t.field == column for t in terms):
        # a new record's other values are its content, named or not; an update whose
        # model set the column: only whom to, the rest of its answer as written
        parts = [("AND", term if t.field == column else t.raw) for t in terms]
        if not any(t.field == column for t in terms):
            parts.append(("AND", term))
        new_values = join_parts(parts)
    else:
        new_values = _in_place_of_unnamed(terms, term, table, annotation, columns, columns_of)
    if new_values == written:
        return inputs, []
    return with_input(inputs, values_input, new_values), [f"{written} -> {new_values}"]


def _in_place_of_unnamed(
    terms: list[Term],
    term: str,
    table: str,
    annotation: str,
    columns: list[Column],
    columns_of: Callable[[str], list[Column]],
) -> str:
    """An update's values with `term` in place of the terms the words never name (the
    model wrote them instead of the assignment), the named ones in the order said."""
    said = set(stems(annotation)) - NO_EVIDENCE
    verb = _VERB.search(annotation) or _ASSIGNEE.search(annotation)
    said_before = set(stems(annotation[: verb.start()])) if verb else set()
    by_name = {c.name: c for c in columns}
    before: list[tuple[str, str]] = []
    after: list[tuple[str, str]] = []
    for t in terms:
        if t.field is None:
            continue
        about = by_name.get(t.field)
        field_words = set(stems(f"{t.field.replace('_', ' ')} {(about and about.label) or ''}"))
        # a reference is named by its column, not by the record it was given
        # (`assigned_to=sys_user_group` where "the support group" is the assignee)
        words = (
            field_words
            if about is not None and about.reference
            else term_words(table, t.field, t.value, columns_of)
        )
        if (field_words - NO_EVIDENCE) & said_before:
            before.append(("AND", t.raw))
        elif words & said:
            after.append(("AND", t.raw))
    return join_parts([*before, ("AND", term), *after])
