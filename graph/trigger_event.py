"""The change a record-update trigger's words name, where the model's condition has none.

A record_update flow runs on every update of a record that matches its condition, so its
condition names the change it waits for (795 of 796 train conditions do). Two kinds of
words name it that the model often misses:

- A field changing with no value named: "when the contact on a case gets changed to
  another person" is `contactCHANGES`, "when the version of an application is changing"
  `versionCHANGES`; a field filled in, "being populated", "is set", "is assigned to
  someone", is also no longer empty: `reported_byCHANGES^reported_byISNOTEMPTY`. The
  model writes the state it saw most (`stateCHANGESTO6`): a change term on a column the
  words never name gives way to the one they do.
- A setting named as the event, where the condition changes nothing: "When a priority 1
  or 2 incident is resolved" was `priorityIN1,2`; the setting the words name as the
  event becomes the change, `stateCHANGESTO6` (a state moved to first, else the first
  setting named unambiguously after the record's noun: one said just before it
  qualifies the record), in place of a test of the same column that names no value
  (`findingISNOTEMPTY` for "is found malicious").
- The change written on what kind of record it is: "whenever a high-risk change gets
  approved" came out `riskCHANGESTO1^approval=approved`, "an incident in the Network
  category has its on-hold reason set to Awaiting Problem" `categoryCHANGESTOnetwork^
  ...`. A change on a setting said right before the record's noun, or right after it
  with "in" or "of", becomes a plain test where the words name another setting as the
  event, which takes the change (forty-eighth session; found on the rephrased train
  cases: 3 of their conditions so written, all closer to gold).

Gold: on the record-update triggers of the hand-written and synthetic train and dev flows
no rule changes a condition; with gold's change term taken out, each writes it back
where the words name it (thirty-third session, docs/results.md).
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import Term, join_parts, parse_query
from flowgen.graph.choice_grounding import (
    STATE_COLUMN,
    named_settings,
    occurrences,
    setting_words_in_order,
    stems,
    unambiguous_settings,
)
from flowgen.graph.trigger_condition import CHANGE_OPERATORS
from flowgen.graph.unnamed_terms import term_words

# Words between a field's label and its verb: "the contact gets changed", "has been set".
_LINKS = frozenset(stems("is are gets get got has have had been being was were be"))
_OF = frozenset(stems("of on for in"))
_IN_OF = frozenset(stems("in of"))
_ARTICLES = frozenset(stems("a an the"))
_FIELD = stems("field")
# A field changing to any value: `<column>CHANGES`.
_CHANGED = frozenset(stems("changes changed changing updated modified edited entered"))
# A field filled in: `<column>CHANGES^<column>ISNOTEMPTY`.
_FILLED = frozenset(stems("populated filled set provided"))
# "changed to another person": any new value, not one named
_ANY_VALUE = frozenset(stems("another different new someone somebody"))
# "is assigned to someone" is the assignee filled in; "to a group" the group.
_ASSIGNED_TO_PERSON = re.compile(
    r"\b(?:re)?assigned to (?:them|someone|somebody|a person|an agent|a user|an analyst|"
    r"anyone|an engineer)\b",
    re.I,
)
_ASSIGNED_TO_GROUP = re.compile(
    r"\b(?:re)?assigned to (?:a|another|a different|a new) group\b", re.I
)


def changed_fields(
    annotation: str, table_words: set[str], columns: list[Column]
) -> list[tuple[str, bool]]:
    """The columns the words say change with no value named, each with whether the words
    say it is filled in (see above), in the order named. A label, or a verb, within the
    table's own words names the record ("a requested item changes to Pending", "a
    high-risk change is approved"); "changes to contractor" names a value."""
    names = {c.name for c in columns}
    found: list[tuple[str, bool]] = []
    if _ASSIGNED_TO_PERSON.search(annotation) and "assigned_to" in names:
        found.append(("assigned_to", True))
    if _ASSIGNED_TO_GROUP.search(annotation) and "assignment_group" in names:
        found.append(("assignment_group", False))
    said = stems(annotation)
    for column in columns:
        label = stems(column.label or column.name)
        if not label or column.type == "boolean" or set(label) <= table_words:
            continue
        for start in occurrences(said, label):
            after = start + len(label)
            if said[after : after + 1] == _FIELD:
                after += 1
            if said[after : after + 1] and said[after] in _OF:
                # "the contact on a case gets changed", "the version of an application
                # in the CMDB is changing": the record named between
                ahead = said[after : after + 8]
                after += next((j for j, w in enumerate(ahead) if w in _LINKS), 0)
            while after < len(said) and said[after] in _LINKS:
                after += 1
            verb = said[after] if after < len(said) else ""
            if verb in table_words or verb not in _CHANGED | _FILLED:
                continue
            rest = said[after + 1 : after + 3]
            if rest[:1] == ["to"] and not set(rest[1:]) & _ANY_VALUE:
                continue
            if column.name not in {name for name, _ in found}:
                found.append((column.name, verb in _FILLED))
            break
    return found


def add_change_event(
    query: str | None, table: str, table_label: str | None, annotation: str, columns: list[Column]
) -> str | None:
    """A record-update trigger's condition with the change its words name (see above), or
    None for no change."""
    terms = parse_query(query) if query else []
    parts = [(t.connector, t.raw) for t in terms]
    said = set(stems(annotation))

    def own_columns(name: str) -> list[Column]:
        return columns if name == table else []

    def mentioned(term: Term) -> bool:
        return bool(term_words(table, term.field or "", term.value, own_columns) & said)

    changed = changed_fields(annotation, set(stems(f"{table} {table_label or ''}")), columns)
    for column, filled in changed:
        wanted = [f"{column}CHANGES"] + ([f"{column}ISNOTEMPTY"] if filled else [])
        own = [i for i, t in enumerate(terms) if t.field == column]
        if any(terms[i].operator in CHANGE_OPERATORS for i in own):
            # "changes" with a value the words never give: any change
            for i in own:
                if terms[i].operator == "CHANGESTO" and not set(stems(terms[i].value)) & said:
                    parts[i] = (terms[i].connector, wanted[0])
            continue
        guessed = next(
            (
                i
                for i, t in enumerate(terms)
                if t.operator in CHANGE_OPERATORS and t.field and not mentioned(t)
            ),
            None,
        )
        if guessed is not None:
            parts[guessed] = (terms[guessed].connector, wanted.pop(0))
        parts += [("AND", w) for w in wanted if w not in [p for _, p in parts]]
    new_terms = parse_query(join_parts(parts)) if parts else []
    changes = [i for i, t in enumerate(new_terms) if t.operator in CHANGE_OPERATORS]
    if not changes:
        parts = _named_event(parts, new_terms, table, table_label, annotation, columns)
    elif len(changes) == 1:
        parts = _qualifier_unchanged(
            parts, new_terms, changes[0], table, table_label, annotation, columns
        )
    new = join_parts(parts) if parts else None
    return new if new != query else None


def _qualifier_unchanged(
    parts: list[tuple[str, str]],
    terms: list[Term],
    index: int,
    table: str,
    table_label: str | None,
    annotation: str,
    columns: list[Column],
) -> list[tuple[str, str]]:
    """`parts` with a change written on a setting that qualifies the record made a plain
    test, where the words name another setting as the event: "a high-risk change gets
    approved" was `riskCHANGESTO1^approval=approved`, "an incident in the Network category
    has its on-hold reason set to Awaiting Problem" `categoryCHANGESTOnetwork^...`; the
    change goes to the event (`_named_event`). Left as it is where they name none."""
    term = terms[index]
    by_name = {c.name: c for c in columns}
    column = by_name.get(term.field or "")
    if term.operator != "CHANGESTO" or column is None:
        return parts
    said = stems(annotation)
    table_words = set(stems(f"{table} {table_label or ''}"))
    nouns = {i for i, w in enumerate(said) if w in table_words}
    # the value the model wrote, or the one of that column the words name ("a high-risk
    # change" where the model wrote Very High)
    values = {term.value} | {
        v for c, v in named_settings(annotation, table_words, columns) if c == column.name
    }
    if not any(_qualifies(said, nouns, column, value) for value in values):
        return parts
    plain = [*parts[:index], (parts[index][0], f"{term.field}={term.value}"), *parts[index + 1 :]]
    moved = _named_event(
        plain, parse_query(join_parts(plain)), table, table_label, annotation, columns
    )
    if not any(t.operator in CHANGE_OPERATORS for t in parse_query(join_parts(moved))):
        return parts
    return moved


def _qualifies(said: list[str], nouns: set[int], column: Column, value: str) -> bool:
    """Whether the words say a setting as what kind of record it is, not as its event:
    right before the record's noun ("a malware incident", "a high-risk change", the
    column's label between), or right after it with "in" or "of" ("an incident in the
    Network category", "a change request of type Normal")."""
    label = setting_words_in_order(column, value)
    own = stems(column.label or column.name)
    for i in occurrences(said, label):
        end = i + len(label)
        if said[end : end + len(own)] == own:
            end += len(own)
        if end in nouns:
            return True
        # after the noun: "<noun> in the <label>", "<noun> of type <label>"
        j = i - len(own) if said[max(0, i - len(own)) : i] == own else i
        while j > 0 and said[j - 1] in _ARTICLES:
            j -= 1
        if j > 1 and said[j - 1] in _IN_OF and j - 2 in nouns:
            return True
    return False


def _named_event(
    parts: list[tuple[str, str]],
    terms: list[Term],
    table: str,
    table_label: str | None,
    annotation: str,
    columns: list[Column],
) -> list[tuple[str, str]]:
    """`parts` with the change the words name as the record's event: a state they name
    it moves to ("moves to Contain", where Contain is also the flag Contained), else the
    first setting named unambiguously after the record's own noun (one said before it, or
    right after it with "in" or "of", qualifies the record: "a malware incident is
    resolved", `_qualifies`). A plain `=` test of it turns into the change, a test of its
    column that names no value gives way to it, else it is added; "downgraded from
    platinum" is a change from."""
    table_words = set(stems(f"{table} {table_label or ''}"))
    said = stems(annotation)
    by_name = {c.name: c for c in columns}

    def first_said(setting: tuple[str, str]) -> int:
        label = setting_words_in_order(by_name[setting[0]], setting[1])
        return min(occurrences(said, label), default=len(said))

    nouns = {i for i, w in enumerate(said) if w in table_words}

    def qualifies(setting: tuple[str, str]) -> bool:
        return _qualifies(said, nouns, by_name[setting[0]], setting[1])

    moved_to = [
        (len(setting_words_in_order(by_name[column], value)), column, value)
        for column, value in named_settings(annotation, table_words, columns)
        if _said_after(annotation, by_name[column], value, _TO)
    ]
    # the longest label said wins ("Closed Skipped" over the problem state Closed); a tie
    # names no one state
    longest = [(c, v) for size, c, v in moved_to if size == max(moved_to)[0]] if moved_to else []
    named = (longest if len(longest) == 1 else []) or [
        setting
        for setting in unambiguous_settings(annotation, table_words, columns)
        if not qualifies(setting)
    ]
    if not named:
        return parts
    # the record's state is what an event changes; else the setting said first
    column, value = min(named, key=lambda s: (not STATE_COLUMN.search(s[0]), first_said(s)))
    from_ = _said_after(annotation, by_name[column], value, _FROM)
    operator = "CHANGESFROM" if from_ else "CHANGESTO"
    change = f"{column}{operator}{value}"
    own = [i for i, t in enumerate(terms) if t.field == column]
    if any(terms[i].operator == "=" and terms[i].value == value for i in own):
        i = next(i for i in own if terms[i].operator == "=" and terms[i].value == value)
        return [*parts[:i], (parts[i][0], change), *parts[i + 1 :]]
    if own and any(terms[i].operator in ("=", "!=", "IN", "NOT IN") for i in own):
        return parts  # the column's value is already given otherwise; leave it
    valueless = [i for i in own if terms[i].operator in ("ISNOTEMPTY", "ISEMPTY")]
    if valueless:
        i = valueless[0]
        return [*parts[:i], (parts[i][0], change), *parts[i + 1 :]]
    return [*parts, ("AND", change)]


_TO = (
    r"(?:\b(?:changes?|changed|set|moves?|moved|goes|gone|went|gets|transitions?|updated)"
    r"\s+(?:in)?to|->)"
)
_FROM = r"\bfrom"


def _said_after(annotation: str, column: Column, value: str, before: str) -> bool:
    """Whether the words say a setting's label right after `before` ("to", "from")."""
    label = next((c.label or c.value for c in column.choices or [] if c.value == value), "")
    if not label:
        return False
    return bool(re.search(rf"{before}\s+{re.escape(label)}\b", annotation, re.I))
