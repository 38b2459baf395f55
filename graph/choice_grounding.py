"""Choice values grounded in the words of the item they belong to.

A requirement names a choice by its label ("when an incident is resolved"), a query
stores its value (`stateCHANGESTO6`). The small model often writes a value it has seen
most in training (`stateCHANGESTO3`, On Hold) where its own item's annotation names
another choice of the same column. When the annotation names exactly one choice of that
column (a label found only inside a longer one, High in "Very High", is not named)
and no word of the one written, the value is replaced by the named one. Replayed
over adapter v7's flows of dev (124), test and ood, this changed 74 values: 46 flows came
closer to gold, none moved away; on the 17,492 items of the gold flows it changes 4
(docs/results.md). Only the value changes; the column, operator and every other term
stay, so nothing downstream (pills, scope) can break.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from flowgen.flow.catalog import CatalogView, Choice, Column, Param
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.flow.model import FlowInput

# `=` and `!=` as well as the change operators: a set value ("close them" → state=7)
# is named the same way as a condition.
GROUNDED_OPERATORS = frozenset({"=", "!=", "CHANGESTO", "CHANGESFROM"})
GROUNDED_TYPES = frozenset({"values"})
_SUFFIXES = ("ing", "ed", "es", "s", "d", "e")
# A column that holds a record's state: `state`, `status`, `rma_state`, `u_status`.
STATE_COLUMN = re.compile(r"(?:^|_)(?:state|status)$")
_RANK = re.compile(r"^\d+\s*-\s*")  # "1 - Critical": people say "critical"


def _stem(word: str) -> str:
    """close, closes, closed → clos; cancel, canceled, cancelled → cancel."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            word = word[: -len(suffix)]
            break
    return word[:-1] if word.endswith("ll") else word


# Words said for others: an event's noun for its verb ("Upon closure of a case" is a case
# closed), the desk's shorthand for a column ("high sev" is high severity).
_SAID_FOR = {
    "closure": "close",
    "cancellation": "cancel",
    "cancelation": "cancel",
    "completion": "complete",
    "sev": "severity",
    "prio": "priority",
}


# An event's noun in the formal register, "Upon resolution of a problem": the record
# resolved. Only before "of", after a word that says when: "the resolution code" and "an
# approval request" name columns and tables, not the event.
_EVENT_NOUN = re.compile(
    r"\b(upon|on|after|following)\s+(?:the\s+|full\s+)?(resolution|submission|receipt|"
    r"rejection|approval|creation|expiry|expiration|deletion|suspension|deactivation)\s+of\b"
)
_EVENT_PARTICIPLE = {
    "resolution": "resolved",
    "submission": "submitted",
    "receipt": "received",
    "rejection": "rejected",
    "approval": "approved",
    "creation": "created",
    "expiry": "expired",
    "expiration": "expired",
    "deletion": "deleted",
    "suspension": "suspended",
    "deactivation": "deactivated",
}


def stems(text: str) -> list[str]:
    text = _EVENT_NOUN.sub(
        lambda m: m.group(0).replace(m.group(2), _EVENT_PARTICIPLE[m.group(2)]), text.lower()
    )
    return [_stem(_SAID_FOR.get(w, w)) for w in re.findall(r"[a-z0-9]+", text)]


def table_words(table: str, label: str | None = None) -> set[str]:
    """The words that name a table: its name's parts and its label."""
    return set(stems(f"{table} {label or ''}"))


def label_text(choice: Choice) -> str:
    """The words a person says for a choice: its label without the rank ("1 - Critical"
    is "Critical")."""
    return _RANK.sub("", choice.label or choice.value)


def label_stems(choice: Choice) -> list[str]:
    return stems(label_text(choice))


def names(annotation: list[str], label: list[str]) -> bool:
    """Whether the annotation's words hold a choice's label (its stems) as a phrase."""
    return bool(occurrences(annotation, label))


def occurrences(annotation: list[str], label: list[str]) -> set[int]:
    """Where the label starts as a phrase in the annotation's words."""
    n = len(label)
    return {i for i in range(len(annotation) - n + 1) if n and annotation[i : i + n] == label}


def longest_named(annotation: list[str], labels: dict[str, list[str]]) -> list[str]:
    """The values whose labels the annotation names, less those named only inside a
    longer named label: "set to Very High" names Very High, not High as well."""
    covered = {
        v: {i + j for i in occurrences(annotation, label) for j in range(len(label))}
        for v, label in labels.items()
    }
    named = [v for v in labels if covered[v]]
    return [
        v
        for v in named
        if not any(len(labels[w]) > len(labels[v]) and covered[v] <= covered[w] for w in named)
    ]


def supports(annotation: list[str], label: list[str]) -> bool:
    """Whether any word of a choice's label is in the annotation ("close" for Closed
    Complete): the words do not contradict it then."""
    return bool(set(label) & set(annotation))


def ground_query(query: str, table: str, annotation: str, catalog: CatalogView) -> str:
    """`query` with each choice value its annotation contradicts replaced (see above).
    A label that is also a word of the table's own name is no evidence: "the open
    phishing reports" names the table, not the verdict `phishing`."""
    said = stems(annotation)
    about = catalog.table(table)
    table_words = set(stems(f"{table} {about.label or ''}" if about else table))
    said_values = [w for w in said if w not in table_words]
    terms = parse_query(query)
    parts: list[tuple[str, str]] = []
    for term in terms:
        raw = term.raw
        column = (
            catalog.column(table, term.field)
            if term.field and "." not in term.field and term.operator in GROUNDED_OPERATORS
            else None
        )
        if column is not None and column.choices and column.type != "boolean":
            labels = {c.value: label_stems(c) for c in column.choices}
            written = labels.get(term.value)
            named = [
                value
                for value in longest_named(said, labels)
                if not set(labels[value]) <= table_words
            ]
            # the table's own words support no value ("a phishing report's verdict")
            if written is not None and not supports(said_values, written) and len(named) == 1:
                raw = f"{term.field}{term.operator}{named[0]}"
        parts.append((term.connector, raw))
    if [raw for _, raw in parts] == [term.raw for term in terms]:
        return query
    return join_parts(parts)


def ground_choices(
    inputs: list[FlowInput],
    params: list[Param],
    annotation: str | None,
    catalog: CatalogView,
    trigger: bool = False,
) -> tuple[list[FlowInput], list[str]]:
    """The item's inputs with their queries grounded, and the queries changed (for the
    trace), as `old -> new`. Values set (`values`) are grounded, and a trigger's
    condition, whose words say the event; a step's condition is not: its span says what
    the step does to the records it selects ("cancel their desk bookings" looks up
    `u_status=booked`)."""
    if not annotation:
        return inputs, []
    values = {i.name: i.value for i in inputs}
    declared = {p.name: p for p in params}
    grounded: list[FlowInput] = []
    changes: list[str] = []
    for given in inputs:
        param = declared.get(given.name)
        table = values.get(param.table_input) if param and param.table_input else None
        kind = param.type if param else None
        if (kind not in GROUNDED_TYPES and not (trigger and kind == "condition")) or not table:
            grounded.append(given)
            continue
        value = ground_query(given.value, table, annotation, catalog)
        if value != given.value:
            changes.append(f"{given.value} -> {value}")
        grounded.append(given.model_copy(update={"value": value}))
    return grounded, changes


# Words a boolean column's label is negated with: "becomes inactive", "is unassigned".
_NEGATIONS = ("in", "un", "non")
_FILLER = frozenset({"is", "a", "an", "the"})
# A record trigger's own event ("a new case", "is opened"): the state New or Open it names
# is what the trigger already says, no evidence for a condition.
EVENT_WORDS = frozenset(stems("new open opened created"))


def named_settings(
    annotation: str, table_words: set[str], columns: list[Column]
) -> list[tuple[str, str]]:
    """The (column, value) pairs the annotation names by label: a choice by its label
    ("is approved" → approval=approved), a boolean by its label or the label negated
    ("becomes inactive" → active=false), or cleared ("remove the escalated flag" →
    escalated=false). Labels that are words of the table's name or
    label, or the trigger's own event, are no evidence (see `ground_query`)."""
    said = stems(annotation)
    found: list[tuple[str, str]] = []
    for column in columns:
        if column.type == "boolean":
            label = [w for w in stems(column.label or column.name) if w not in _FILLER]
            if not label or set(label) <= table_words:
                continue
            negated = [prefix + label[0] for prefix in _NEGATIONS] if len(label) == 1 else []
            cleared = any(
                names(said, [word, *the, *label])
                for word in _CLEARING_WORDS
                for the in ([], ["the"])
            )
            if any(w in said for w in negated) or names(said, ["not", *label]) or cleared:
                found.append((column.name, "false"))
            elif names(said, label):
                found.append((column.name, "true"))
        elif column.choices:
            labels = {choice.value: label_stems(choice) for choice in column.choices}
            named = [
                value
                for value in longest_named(said, labels)
                if not set(labels[value]) <= table_words | EVENT_WORDS
            ]
            if len(named) == 1:
                found.append((column.name, named[0]))
    return found


def ground_fields(
    query: str, table: str, table_label: str | None, annotation: str, columns: list[Column]
) -> str:
    """A record trigger's condition, or an update's values, with a term its annotation
    gives no word for moved to the one column setting the annotation names. The small
    model writes the fields it saw most in training (`stateCHANGESTO4`, `priority=1`)
    where the event is another column's ("When a change request is approved":
    `approvalCHANGESTOapproved`; "mark the claim accepted": `u_reviewer=true`); value
    grounding (`ground_query`) cannot help when the column itself is wrong. Only a term
    on a column of the table whose label, name and value the annotation never mentions
    (`P1` mentions priority 1) is replaced, and only when the annotation names exactly
    one setting of a column the query does not already test; its operator stays. A data
    pill on a reference column is left (the record it names is likely meant: "go to the
    social care team" is the group looked up, not the channel Social), and so is a
    boolean the words clear ("remove the escalated flag")."""
    said = set(stems(annotation))
    named = named_settings(annotation, set(stems(f"{table} {table_label or ''}")), columns)
    named = _resolve_shared_words(_drop_covered(named, columns, annotation), columns, said)
    if len(named) != 1:
        return query
    column_name, value = named[0]
    by_name = {c.name: c for c in columns}
    terms = parse_query(query)
    parts = [(t.connector, t.raw) for t in terms]
    for i, term in enumerate(terms):
        if term.field == column_name:
            # the column is right; a boolean's value is settled here ("becomes
            # inactive"), a choice's by `ground_query`
            if (
                by_name[column_name].type == "boolean"
                and term.value != value
                and not set(stems(term.value)) & said  # "(open set to false)"
                and not (value == "true" and _CLEARING_WORDS & said)  # "remove the flag"
            ):
                parts[i] = (term.connector, f"{column_name}{term.operator}{value}")
                return join_parts(parts)
            return query
    for i, term in enumerate(terms):
        column = by_name.get(term.field or "")
        if column is None or term.operator not in GROUNDED_OPERATORS:
            continue
        if column.reference and "{{" in term.value:
            continue
        mentioned = set(stems(f"{column.name} {column.label or ''} {term.value} p{term.value}"))
        if column.choices:
            written = [c for c in column.choices if c.value == term.value]
            mentioned |= {w for c in written for w in label_stems(c)}
        if mentioned & said:
            continue
        parts[i] = (term.connector, f"{column_name}{term.operator}{value}")
        return join_parts(parts)
    return query


# Words that take a flag away: "remove the escalated flag" names `escalated`, not true.
_CLEARING_WORDS = frozenset(stems("remove clear unset uncheck untick"))


def _setting_words(column: Column, value: str) -> set[str]:
    if column.type == "boolean":
        return {w for w in stems(column.label or column.name) if w not in _FILLER}
    return {w for c in column.choices or [] if c.value == value for w in label_stems(c)}


def unambiguous_settings(
    annotation: str, table_words: set[str], columns: list[Column]
) -> list[tuple[str, str]]:
    """`named_settings` less those whose words also name another column's setting: "high"
    names priority 2, impact 1, urgency 1 and severity 1 at once, "contain" both the state
    Contain and `contained`; none of them is evidence for one column, unless the words
    name that column too ("high severity")."""
    named = _drop_covered(named_settings(annotation, table_words, columns), columns, annotation)
    return _resolve_shared_words(named, columns, set(stems(annotation)))


def _drop_covered(
    named: list[tuple[str, str]], columns: list[Column], annotation: str
) -> list[tuple[str, str]]:
    """Settings less those whose words the words say only inside another setting's longer
    label, as `longest_named` does within a column: "feature request case" names the
    category Feature request, not also the approval Requested (thirty-second session:
    two more hand-written gold terms found again when left out, none wrongly)."""
    said = stems(annotation)
    by_name = {c.name: c for c in columns}
    labels = [setting_words_in_order(by_name[c], v) for c, v in named]
    inside = said_inside_longer(said, labels)
    return [setting for setting, covered in zip(named, inside, strict=True) if not covered]


def said_inside_longer(said: list[str], labels: list[list[str]]) -> list[bool]:
    """For each label, whether the words say it only inside another of the labels that
    they say ("Requested" inside "Feature request", "Closed" inside "Closed Complete"):
    every word it covers is covered by the other, which covers more."""
    where = [
        {i + j for i in occurrences(said, label) for j in range(len(label))} for label in labels
    ]
    return [
        bool(mine) and any(mine < other for j, other in enumerate(where) if j != k)
        for k, mine in enumerate(where)
    ]


def setting_words_in_order(column: Column, value: str) -> list[str]:
    if column.type == "boolean":
        return [w for w in stems(column.label or column.name) if w not in _FILLER]
    return next((label_stems(c) for c in column.choices or [] if c.value == value), [])


def _resolve_shared_words(
    named: list[tuple[str, str]], columns: list[Column], said: set[str]
) -> list[tuple[str, str]]:
    """Settings named by the same words ("high": priority 2, impact 1, urgency 1,
    severity 1) are no evidence for any of them, unless the words also name exactly one
    of their columns ("mark it high severity" is severity 1) or, naming none, the words
    name the table's own rating where the others are generic ones: a "critical vulnerable
    item" is its risk rating Critical, not the priority every task has (`_own_rating`)."""
    by_name = {c.name: c for c in columns}
    words = [_setting_words(by_name[c], v) for c, v in named]
    kept = []
    for i, setting in enumerate(named):
        rivals = [j for j, other in enumerate(words) if j != i and words[i] & other]
        if not rivals:
            kept.append(setting)
            continue
        labelled = [k for k in [i, *rivals] if _column_said(by_name[named[k][0]], words[k], said)]
        own = by_name[setting[0]]
        if labelled == [i] or (
            not labelled and all(_own_rating(own, by_name[named[j][0]]) for j in rivals)
        ):
            kept.append(setting)
    return kept


def _own_rating(column: Column, rival: Column) -> bool:
    """Whether `column` is the table's own rating where `rival` is a generic one: its
    labels plain ("Critical", "High") where the rival's are ranked ("1 - Critical",
    "2 - High": the priority, impact and urgency every task table has), on the same scale
    (two labels or more in common). The experts' flows test a vulnerable item's risk
    rating, not its priority, for "a critical vulnerable item" (the hand-written train
    and dev flows: 4 of 4); a change's risk and a security incident's severity are alike.
    A change task's type Planning shares one label with the priorities: no scale."""
    plain = [c.label or "" for c in column.choices or []]
    ranked = [c.label or "" for c in rival.choices or []]
    if not plain or not ranked:
        return False
    if any(_RANK.match(label) for label in plain) or not all(_RANK.match(r) for r in ranked):
        return False
    return len({p.lower() for p in plain} & {_RANK.sub("", r).lower() for r in ranked}) >= 2


def _column_said(column: Column, setting: set[str], said: set[str]) -> bool:
    """Whether the words name the column itself, by every word of its label, besides
    its setting (a flag's label is its setting: "Contained" names no column apart)."""
    label = {w for w in stems(column.label or column.name) if w not in _FILLER}
    return bool(label) and label <= said and not label <= setting


# Trigger kinds whose condition filters the record as created: a named setting is `=`.
_CREATE_TRIGGERS = frozenset({"record_create", "record_create_or_update"})


def add_named_terms(
    query: str | None,
    trigger_type: str | None,
    table: str,
    table_label: str | None,
    annotation: str,
    columns: list[Column],
) -> str | None:
    """A record trigger's condition with a term added for each setting its annotation names
    unambiguously ("When a phone case is resolved" → `channel=phone`) on a column the
    condition does not test (`add_named_settings`). Added as `=`: on a create trigger,
    and on an update trigger whose condition already holds its change (the event); an
    update trigger without one is left alone, since the named setting may be the change
    itself."""
    terms = parse_query(query) if query else []
    if trigger_type not in _CREATE_TRIGGERS and not any(
        t.operator and t.operator.startswith("CHANGES") for t in terms
    ):
        return query
    return add_named_settings(query, table, table_label, annotation, columns, first_words=True)


# Words that open many labels and say nothing of one ("Not started", "New hire").
_NO_LEAD = frozenset(stems("the a an of in on to for by with and or new no not open closed very"))


def first_word_settings(
    annotation: str, table_words: set[str], columns: list[Column]
) -> list[tuple[str, str]]:
    """Choices the annotation names by the first word of a longer label: "an IP
    observable" is `type=ip` (IP address), "a damaged-item RMA" `reason=damaged` (Damaged
    in transit). Only a word no other label of the table holds anywhere (a boolean's
    included), nor the table's own name: "a request goes to Pending" names the state
    Pending, not the approval Pending approval. On the record triggers of the gold flows
    (hand-written and synthetic), where such a setting's column is not tested otherwise,
    gold has it 105 times of 105 (thirty-sixth session)."""
    holders: dict[str, list[tuple[str, str | None, bool]]] = {}
    for column in columns:
        if column.type == "boolean":
            for word in stems(column.label or column.name):
                holders.setdefault(word, []).append((column.name, None, False))
            continue
        for choice in column.choices or []:
            label = label_stems(choice)
            for at, word in enumerate(label):
                holders.setdefault(word, []).append(
                    (column.name, choice.value, at == 0 and len(label) > 1)
                )
    found: list[tuple[str, str]] = []
    for word in dict.fromkeys(stems(annotation)):
        held = holders.get(word, [])
        if word in _NO_LEAD or word in table_words or len(held) != 1:
            continue
        name, value, leads = held[0]
        if leads and value is not None:
            found.append((name, value))
    return found


_VALUELESS = frozenset({"ISEMPTY", "ISNOTEMPTY"})


def add_named_settings(
    query: str | None,
    table: str,
    table_label: str | None,
    annotation: str,
    columns: list[Column],
    first_words: bool = False,
) -> str | None:
    """`query` with `column=value` added for each setting the annotation names
    unambiguously (`unambiguous_settings`; with `first_words`, a record trigger's, also
    those `first_word_settings` finds) on a column the query does not test yet. The
    model often writes the event or the main field and drops the qualifiers the words
    give. On the gold flows of train, dev and synthetic, a setting named this way has a
    term on its column in 806 of 812 trigger conditions, 341 of 344 look-up conditions,
    23 of 23 create_record values and 986 of 999 update_record values. A term whose
    value is the named one on a column that does not hold it (`source=url` for "is a
    URL") moves to the one that does; words a tested column already accounts for add
    nothing ("on hold awaiting the caller" is `hold_reason`, not also the state On
    Hold). An emptiness test on a column whose value the words name gives way to it
    ("w/ MacBook as laptop" written `laptop_modelISEMPTY`), and so does a LIKE of part of
    the value's label on another column ("of type Email address": `sourceLIKEemail`)."""
    terms = parse_query(query) if query else []
    tested = {t.field for t in terms if t.field}
    table_words = set(stems(f"{table} {table_label or ''}"))
    named = unambiguous_settings(annotation, table_words, columns)
    if first_words:
        named += [
            setting
            for setting in first_word_settings(annotation, table_words, columns)
            if setting[0] not in {column for column, _ in named}
        ]
    named_columns = {column for column, _ in named}
    by_name = {c.name: c for c in columns}
    parts = [(t.connector, t.raw) for t in terms]
    # words the tested columns and their values already account for ("on hold awaiting
    # the caller" is `hold_reason`, not also the state On Hold; "set the group to Network
    # Operations" is `assignment_group`, not also the category Network)
    accounted = {
        w for f in tested for w in stems(f"{f} {(by_name[f].label or '') if f in by_name else ''}")
    } | {w for t in terms if t.field for w in stems(t.value)}
    changed = False
    for column, value in named:
        if column in tested:
            # an emptiness test where the words name the value ("w/ MacBook as laptop":
            # `laptop_modelISEMPTY`) is the model's guess at it
            own = [i for i, t in enumerate(terms) if t.field == column]
            if all(terms[i].operator in _VALUELESS for i in own):
                parts[own[0]] = (terms[own[0]].connector, f"{column}={value}")
                changed = True
            continue
        words = _setting_words(by_name[column], value)
        # the named value written on a column that does not hold it ("is a URL":
        # `source=url` for `type=url`): the term moves to the column that does
        misplaced = next(
            (
                i
                for i, t in enumerate(terms)
                if t.field
                and "." not in t.field
                and t.field not in named_columns
                and (
                    (t.operator == "=" and set(stems(t.value)) == words)
                    # "of type Email address": `sourceLIKEemail`
                    or (t.operator == "LIKE" and set(stems(t.value)) < words)
                )
            ),
            None,
        )
        if misplaced is not None:
            parts[misplaced] = (terms[misplaced].connector, f"{column}={value}")
            changed = True
        elif not words & accounted:
            parts.append(("AND", f"{column}={value}"))
            changed = True
        tested.add(column)
    return join_parts(parts) if changed else query


def with_input(inputs: list[FlowInput], name: str, value: str) -> list[FlowInput]:
    """`inputs` with `name` set to `value`, appended when the model left it out."""
    if not any(i.name == name for i in inputs):
        return [*inputs, FlowInput(name=name, value=value)]
    return [i.model_copy(update={"value": value}) if i.name == name else i for i in inputs]


ColumnsOf = Callable[[str], list[Column]]


def field_column(table: str, field: str, columns_of: ColumnsOf) -> Column | None:
    """The column a (dot-walked) field ends on, or None where a part is unknown."""
    column: Column | None = None
    current: str | None = table
    for part in field.split("."):
        if current is None:
            return None
        column = next((c for c in columns_of(current) if c.name == part), None)
        if column is None:
            return None
        current = column.reference
    return column


def ground_trigger_condition(
    inputs: list[FlowInput],
    trigger_type: str | None,
    params: list[Param],
    annotation: str,
    catalog: CatalogView,
    columns_of: ColumnsOf,
) -> tuple[list[FlowInput], list[str]]:
    """A record trigger's inputs with their condition grounded in the annotation: a term on
    a column the words never name moved to the one they name (`ground_fields`),
    then the settings they name that it lacks added (`add_named_terms`); and the change,
    as `old -> new`, for the trace."""
    values = {i.name: i.value for i in inputs}
    table, condition = values.get("table"), values.get("condition")
    if not table or not any(p.name == "condition" for p in params):
        return inputs, []
    about = catalog.table(table)
    label, columns = (about.label if about else None), columns_of(table)
    grounded = condition
    if condition:
        grounded = ground_fields(condition, table, label, annotation, columns)
    grounded = add_named_terms(grounded, trigger_type, table, label, annotation, columns)
    if not grounded or grounded == condition:
        return inputs, []
    return with_input(inputs, "condition", grounded), [f"{condition} -> {grounded}"]


# A rule on a step's query: (query, table, table label, annotation, columns) -> the new
# query, or None for no change.
QueryRule = Callable[[str | None, str, str | None, str, list[Column]], str | None]


def ground_step_query(
    inputs: list[FlowInput],
    name: str,
    params: list[Param],
    annotation: str,
    catalog: CatalogView,
    columns_of: ColumnsOf,
    rule: QueryRule,
) -> tuple[list[FlowInput], list[str]]:
    """A step's inputs with its query input `name` rewritten by `rule` on the table its
    declared `table_input` holds; and the change for the trace."""
    param = next((p for p in params if p.name == name), None)
    values = {i.name: i.value for i in inputs}
    table = values.get(param.table_input) if param and param.table_input else None
    about = catalog.table(table) if table else None
    if about is None:
        return inputs, []
    query = values.get(name)
    grounded = rule(query, about.name, about.label, annotation, columns_of(about.name))
    if not grounded or grounded == query:
        return inputs, []
    return with_input(inputs, name, grounded), [f"{query} -> {grounded}"]


def _moved_fields(
    query: str | None, table: str, table_label: str | None, annotation: str, columns: list[Column]
) -> str | None:
    return ground_fields(query, table, table_label, annotation, columns) if query else None


def ground_step_fields(
    inputs: list[FlowInput],
    name: str,
    params: list[Param],
    annotation: str,
    catalog: CatalogView,
    columns_of: ColumnsOf,
) -> tuple[list[FlowInput], list[str]]:
    """A step's inputs with a term of its query input `name` on a column the annotation
    never names moved to the one setting it names (`ground_fields`), on the table its
    declared `table_input` holds; and the change for the trace. For update_record's
    values: "mark the claim accepted" written `u_reviewer=true` becomes
    `u_status=accepted`. Replayed on the shipped flows of all 184 dev cases (twenty-ninth
    session): 13 flows changed, 8 closer to gold, 1 further (full +0.0009 a case); it
    changes none of the 2,713 gold update_record values of train, dev and synthetic.
    Look-ups and creates were replayed too and lost (they get `add_step_settings`)."""
    return ground_step_query(inputs, name, params, annotation, catalog, columns_of, _moved_fields)


def add_step_settings(
    inputs: list[FlowInput],
    name: str,
    params: list[Param],
    annotation: str,
    catalog: CatalogView,
    columns_of: ColumnsOf,
) -> tuple[list[FlowInput], list[str]]:
    """A step's inputs with its query input `name` given the settings its annotation names
    (`add_named_settings`) on the table its declared `table_input` holds; and the change
    for the trace."""
    return ground_step_query(
        inputs, name, params, annotation, catalog, columns_of, add_named_settings
    )
