"""The journal field an update's words write to: "with a work note" is `work_notes`, "add
a comment thanking them" `comments`, "record the reputation in the report notes" the
report's own Notes column (`u_notes`), "mark it as spam in the close notes"
`close_notes`.

The small model often writes the state its words also ask for and leaves the note out
("just close the review with a work note": `state=3`), or writes another field in its
place ("Copy that report's message ID into the observable's notes": `score=1`). Where an
update_record's span names a journal field its answer lacks, a second call on the same
conversation (its prompt already processed) writes the note under a grammar that admits
only that term and the inputs the model already chose; the note goes last, as gold puts
it (21 of the 23 hand-written updates with more than one term; a note alone in the other
870), after the model's terms the words name (those they never name were written in the
note's place). Forcing the note into the first answer instead made the model pad it with
terms it had not meant to write before it reached the note.

The field: a column whose whole label of two words or more, ending in "notes" or
"comments", the words name ("close notes", "fix notes"); else "work note(s)" is
`work_notes`, "comment(s)" `comments`, and a bare "note(s)" the table's column labelled
Notes, or `work_notes` where it has none. Gold: of the update_record steps of the
hand-written and synthetic train and dev flows whose words name a journal field this
way, 893 of 894 write it (the other quotes "the close notes" in a comment).
"""

from __future__ import annotations

import re

from flowgen.engine.grammar import InputSpec, PillSpace, inputs_grammar
from flowgen.flow.catalog import Column, Param
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.flow.model import FlowInput
from flowgen.graph.choice_grounding import ColumnsOf, occurrences, stems, with_input
from flowgen.graph.unnamed_terms import named_terms

_JOURNAL_WORDS = frozenset(stems("note notes comment comments"))
_WORK_NOTES = re.compile(r"\bwork[ -]?notes?\b", re.I)
_COMMENTS = re.compile(r"\bcomments?\b", re.I)
_NOTES = re.compile(r"\bnotes?\b", re.I)


def journal_column(annotation: str, columns: list[Column]) -> str | None:
    """The journal column the words write to (see above), or None."""
    said = stems(annotation)
    by_name = {c.name: c for c in columns}
    labelled = [
        (len(label), c.name)
        for c in columns
        if len(label := stems(c.label or "")) > 1
        and label[-1] in _JOURNAL_WORDS
        and occurrences(said, label)
    ]
    if labelled:
        return max(labelled)[1]
    if _WORK_NOTES.search(annotation) and "work_notes" in by_name:
        return "work_notes"
    if _COMMENTS.search(annotation) and "comments" in by_name:
        return "comments"
    if _NOTES.search(annotation):
        notes = [c.name for c in columns if (c.label or "").strip().lower() == "notes"]
        if notes:
            return notes[0]
        if "work_notes" in by_name:
            return "work_notes"
    return None


def lacks_note(inputs: list[FlowInput], annotation: str, columns_of: ColumnsOf) -> str | None:
    """The journal column an update's words write to that its values leave out, or None."""
    values = {i.name: i.value for i in inputs}
    table = values.get("table_name")
    if not table or "{{" in table:
        return None
    journal = journal_column(annotation, columns_of(table))
    written = parse_query(values["values"]) if values.get("values") else []
    return None if journal is None or any(t.field == journal for t in written) else journal


def note_grammar(
    params: list[Param], inputs: list[FlowInput], journal: str, space: PillSpace | None
) -> str:
    """The grammar of the same answer with the note alone for values: every other input
    as the model wrote it, then `values = <journal>=...`."""
    written = {i.name: i.value for i in inputs}
    specs = [
        InputSpec("values", "query", sole_field=journal, required=True)
        if p.name == "values"
        else InputSpec(p.name, "options", [written[p.name]], required=True)
        for p in params
        if p.name == "values" or p.name in written
    ]
    return inputs_grammar(variants=[specs], pills=space)


def with_note(
    inputs: list[FlowInput],
    note: str,
    table_label: str | None,
    annotation: str,
    columns_of: ColumnsOf,
) -> list[FlowInput]:
    """The update's inputs with the `note` term last, after the model's terms the words
    name (the table's own words name no field of it)."""
    values = {i.name: i.value for i in inputs}
    table = values.get("table_name") or ""
    terms = parse_query(values["values"]) if values.get("values") else []
    anded = all(t.field is not None and t.connector == "AND" for t in terms)
    named = named_terms(terms, table, annotation, columns_of, table_label)
    kept = [(t.connector, t.raw) for t, n in zip(terms, named, strict=True) if n or not anded]
    return with_input(inputs, "values", join_parts([*kept, ("AND", note)]))
