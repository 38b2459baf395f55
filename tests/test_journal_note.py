"""The journal field an update's words write to (graph/journal_note.py), the grammar of
the call that writes a note the answer left out, and where the note goes."""

from __future__ import annotations

import pytest
from flows import gold_cases, inputs_of, shipped_catalogs
from test_grammar import accepts

from flowgen.flow.catalog import Param
from flowgen.flow.model import FlowInput
from flowgen.graph.journal_note import journal_column, lacks_note, note_grammar, with_note

CATALOGS = shipped_catalogs()


def _column(installation: str, table: str, span: str) -> str | None:
    return journal_column(span, CATALOGS[installation].columns(table))


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "table", "span", "column"),
    [
        (
            "initech-secops",
            "x_initech_access_review",
            "just close the review with a work note",
            "work_notes",
        ),
        (
            "initech-secops",
            "u_phishing_report",
            "record the reputation in the report notes",
            "u_notes",
        ),
        (
            "initech-secops",
            "sn_ti_observable",
            "Copy that report's message ID into the observable's notes",
            "notes",
        ),
        (
            "globex-csm",
            "sn_customerservice_case",
            "cancel it, mark it as spam in the close notes",
            "close_notes",
        ),
        ("acme-itsm", "incident", "add a comment thanking them", "comments"),
        # a table without a Notes column keeps its notes in the work notes
        ("acme-itsm", "incident", "note the outage on it", "work_notes"),
        ("acme-itsm", "incident", "close it", None),
    ],
)
def test_an_update_writes_the_journal_its_words_name(
    installation: str, table: str, span: str, column: str | None
) -> None:
    assert _column(installation, table, span) == column


@pytest.mark.unit
def test_gold_updates_write_the_journal_their_words_name() -> None:
    """Every update_record of the hand-written and synthetic train and dev flows whose
    words name a journal field writes it (893 of 894), last where it writes more."""
    named = missed = not_last = 0
    for case in gold_cases("handwritten", "synthetic"):
        catalog = CATALOGS[case.installation]
        for comp in case.flow["components"]:
            values = inputs_of(comp)
            table = values.get("table_name")
            if comp["definition"] != "update_record" or not catalog.table(table or ""):
                continue
            column = journal_column(comp.get("annotation") or "", catalog.columns(table or ""))
            if column is None:
                continue
            named += 1
            fields = [t.split("=")[0] for t in (values.get("values") or "").split("^")]
            missed += column not in fields
            not_last += column in fields and fields[-1] != column
    assert named >= 890 and missed <= 1 and not_last <= 2, (named, missed, not_last)


REVIEW = "x_initech_access_review"
SECOPS = CATALOGS["initech-secops"]


def _update(values: str, table: str = REVIEW) -> list[FlowInput]:
    return [
        FlowInput(name="table_name", value=table),
        FlowInput(name="record", value="{{trigger.current}}"),
        FlowInput(name="values", value=values),
    ]


@pytest.mark.unit
def test_a_note_left_out_is_asked_for_with_the_rest_of_the_answer_fixed() -> None:
    span = "just close the review with a work note"
    assert lacks_note(_update("state=3"), span, SECOPS.columns) == "work_notes"
    assert lacks_note(_update("state=3^work_notes=Kept"), span, SECOPS.columns) is None
    assert lacks_note(_update("state=3"), "close the review", SECOPS.columns) is None
    params = [Param(name=n, type="string") for n in ("table_name", "record", "values")]
    grammar = note_grammar(params, _update("state=3"), "work_notes", None)
    answer = f"table_name = {REVIEW}\nrecord = {{{{trigger.current}}}}\nvalues = work_notes="
    assert accepts(grammar, answer + "Admin access kept\n")
    assert not accepts(grammar, answer + "Kept^state=3\n")
    assert not accepts(grammar, answer.replace(REVIEW, "incident") + "Kept\n")


@pytest.mark.unit
def test_the_note_goes_last_after_the_terms_the_words_name() -> None:
    span = "record the reputation in the report notes and mark it clean"
    noted = with_note(
        _update("u_verdict=clean^u_security_incidentISNOTEMPTY", "u_phishing_report"),
        "u_notes=VirusTotal reputation: {{1.reputation}}",
        "Phishing Report",
        span,
        SECOPS.columns,
    )
    assert inputs_of({"inputs": [i.model_dump() for i in noted]})["values"] == (
        "u_verdict=clean^u_notes=VirusTotal reputation: {{1.reputation}}"
    )
