"""A record trigger's condition without the terms its words never name.

The small model pads a trigger's condition with terms it saw often in training:
"case closed -> send CSAT survey" gets `stateCHANGESTO3^channel=chat`, "Mirror every
billing case to Salesforce when it is created" gets `productISNOTEMPTY^category=billing`.
Each such term costs the flow three nodes of FlowSim (field, operator, value) and,
worse, narrows the flow to records the requirement never asked about. A term is kept
when the trigger's span (its annotation, the words the trigger came from) holds a word
of its field (each part of a dot-walk), of the column's label, of its value or of the
value's choice label, or names a priority the `P1` way; the other terms are dropped. A
condition none of whose terms is named stays as written (the model may know what the
words leave implicit), and so does a query with OR or a directive.

This runs after the grounding of choices and fields (graph/choice_grounding.py), whose
terms are named by construction, and before the change operator is settled
(graph/trigger_condition.py), so that when the model's only change was an unnamed term,
the named term left becomes the change.

Measured (issue 19, twenty-eighth session): replayed on the gold record triggers of train
and dev, it changes 19 of the 309 hand-written conditions (terms the experts left
implicit: `affected_hostISNOTEMPTY` on a containment) and none of the 1,214 synthetic ones;
replayed on the shipped flows of all 184 dev cases, full FlowSim +0.005 ± 0.002 (15 flows
closer, 3 further). Steps' conditions and values were replayed the same way and lost
(−0.002 and ±0): a step's span says what it does to its records, not which records
(graph/unnamed_step_terms.py drops what they leave unnamed with the exceptions that
needs).
The words of the table's own name and label are no evidence for a field (thirty-second
session): "When an escalation is approved" had kept `escalation_managerCHANGESTOtrue`
beside `state=approved`; 18 hand-written gold conditions change rather than 19, and on
dev's shipped flows 4 more changed, 3 closer to gold and 1 further.

A change to a value the words never name is a change (fifty-second session): "Once a
follow-up date is entered on an incident task" got `follow_upCHANGESTO-1`, "Upon any
change to the affected user" `affected_userCHANGESTOactive`; the experts write
`follow_upCHANGES`. Only for a text, reference or date column: a choice's value is often
said in other words ("implemented" for Review), a number in words ("a second time"), a
true or false as a state ("becomes inactive"). No record_update condition of the 1,155
gold flows (hand-written, synthetic, rephrased) changes.
"""

from __future__ import annotations

from flowgen.flow.catalog import CatalogView, Column
from flowgen.flow.encoded_query import Term, join_parts, parse_query
from flowgen.flow.model import FlowInput
from flowgen.graph.choice_grounding import (
    ColumnsOf,
    field_column,
    label_stems,
    stems,
    table_words,
    with_input,
)

# Words a field's parts hold that name nothing ("u_", "sys_id"; "the", "of" in labels).
NO_EVIDENCE = frozenset({"u", "sys", "id", "the", "a", "an", "of", "to", "is", "by", "on", "in"})


def field_words(field: str, column: Column | None) -> set[str]:
    """The words that name a field: its parts (each of a dot-walk) and its column's label."""
    label = (column.label or "") if column else ""
    return set(stems(f"{field.replace('.', ' ')} {label}"))


def term_words(table: str, field: str, value: str, columns_of: ColumnsOf) -> set[str]:
    """The words that name a term: its field's parts, the column's label, the value
    and its choice label, and `p1` for a priority of 1."""
    column = field_column(table, field, columns_of)
    words = field_words(field, column) | set(stems(value)) | {f"p{value}"}
    if column is not None:
        for choice in column.choices or []:
            if choice.value == value:
                words |= set(label_stems(choice))
    return words - NO_EVIDENCE


def named_terms(
    terms: list[Term],
    table: str,
    annotation: str,
    columns_of: ColumnsOf,
    table_label: str | None = None,
) -> list[bool]:
    """For each term, whether `annotation` names it (see above). The words of the
    table's name and label name the table, not a field: "When an escalation is approved"
    names no `escalation_manager` term."""
    said = set(stems(annotation)) - table_words(table, table_label)
    return [bool(t.field and term_words(table, t.field, t.value, columns_of) & said) for t in terms]


def drop_unnamed_terms(
    condition: str,
    table: str,
    annotation: str,
    columns_of: ColumnsOf,
    table_label: str | None = None,
) -> tuple[str, list[str]]:
    """`condition` without the terms `annotation` never names (`named_terms`), and the
    terms dropped."""
    terms = parse_query(condition)
    if any(t.field is None or t.connector != "AND" for t in terms):
        return condition, []
    named = named_terms(terms, table, annotation, columns_of, table_label)
    if all(named) or not any(named):
        return condition, []
    kept = [(t.connector, t.raw) for t, n in zip(terms, named, strict=True) if n]
    return join_parts(kept), [t.raw for t, n in zip(terms, named, strict=True) if not n]


# Columns whose changed-to value a requirement names in its own words, if at all.
_VALUE_IN_OTHER_WORDS = frozenset({"boolean", "integer", "duration", "choice"})


def unnamed_change_values(
    inputs: list[FlowInput], annotation: str, columns_of: ColumnsOf
) -> tuple[list[FlowInput], list[str]]:
    """A record trigger's inputs with each `fieldCHANGESTOvalue` whose value `annotation`
    never names made `fieldCHANGES` (see above), and the terms so made."""
    values = {i.name: i.value for i in inputs}
    table, condition = values.get("table"), values.get("condition")
    if not table or not condition:
        return inputs, []
    terms = parse_query(condition)
    said = set(stems(annotation))
    parts, made = [], []
    for term in terms:
        field = term.field or ""
        column = field_column(table, field, columns_of) if field else None
        if (
            term.operator == "CHANGESTO"
            and column is not None
            and not column.choices
            and column.type not in _VALUE_IN_OTHER_WORDS
            and term.value not in ("true", "false")
            and not set(stems(term.value)) & said
            # the words name the field: a field they do not name is the model's guess,
            # and its value may be the one the words meant ("negative sentiment")
            and (field_words(field, column) - NO_EVIDENCE) & said
        ):
            parts.append((term.connector, f"{field}CHANGES"))
            made.append(f"{term.raw} -> {field}CHANGES")
        else:
            parts.append((term.connector, term.raw))
    if not made:
        return inputs, []
    return with_input(inputs, "condition", join_parts(parts)), made


def drop_unnamed_trigger_terms(
    inputs: list[FlowInput], annotation: str, catalog: CatalogView, columns_of: ColumnsOf
) -> tuple[list[FlowInput], list[str]]:
    """A record trigger's inputs with its condition's unnamed terms dropped (see above),
    and the terms dropped; inputs without a table and a condition as they are."""
    values = {i.name: i.value for i in inputs}
    table, condition = values.get("table"), values.get("condition")
    if not table or not condition:
        return inputs, []
    about = catalog.table(table)
    label = about.label if about else None
    kept, dropped = drop_unnamed_terms(condition, table, annotation, columns_of, label)
    return (with_input(inputs, "condition", kept), dropped) if dropped else (inputs, [])
