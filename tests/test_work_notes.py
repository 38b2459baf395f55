"""A work note added on its own is the installation's Add Work Note step
(graph/work_notes.py)."""

from __future__ import annotations

from flows import flow, gold_cases, shipped_catalogs, step

from flowgen.flow.model import Flow
from flowgen.graph.outline_repair import repair_outline
from flowgen.graph.work_notes import ADDS_A_NOTE, name_work_notes


def outline(*steps: dict) -> Flow:
    return Flow.model_validate(flow(*steps, annotation="When an incident is created"))


def test_an_update_that_adds_a_work_note_becomes_the_step_where_the_catalog_has_it() -> None:
    catalogs = shipped_catalogs()
    written = outline(
        step(1, "update_record", annotation="just add a work note that it was reviewed"),
        step(2, "update_record", annotation="send it back to Assess with a work note"),
    )
    new, renamed = name_work_notes(written, catalogs["acme-itsm"])
    assert renamed == ["1: update_record -> add_work_note"]
    assert [c.definition for c in new.components] == ["add_work_note", "update_record"]
    # an installation without the step writes its work notes with update_record
    assert name_work_notes(written, catalogs["globex-csm"])[1] == []


def test_gold_spans_that_open_by_adding_a_work_note() -> None:
    """Hand-written train and dev gold steps on acme-itsm whose span opens so: all but one
    are `add_work_note` (the other, itsm-train-006, is an update of `work_notes`)."""
    found = [
        comp["definition"]
        for case in gold_cases("handwritten")
        if case.installation == "acme-itsm"
        for comp in (case.flow or {}).get("components", [])
        if ADDS_A_NOTE.match((comp.get("annotation") or "").strip())
    ]
    assert sorted(found) == ["add_work_note"] * 9 + ["update_record"]


def test_a_work_note_the_words_ask_for_and_no_step_covers_is_the_step_too() -> None:
    """graph/uncovered_asks.py adds the update, the outline repairs name it."""
    requirement = "When an incident is created, email the caller and add a work note to it."
    written = outline(step(1, "send_email", annotation="email the caller"))
    new, changes = repair_outline(written, shipped_catalogs()["acme-itsm"], requirement=requirement)
    assert changes["uncovered_asks_added"] == ["update_record | add a work note to it"]
    assert [c.definition for c in new.components] == ["send_email", "add_work_note"]
