"""The record read again after a wait, before the IF that tests whether it still is as
it was (graph/re_reads.py)."""

from __future__ import annotations

import pytest
from flows import flow, gold_cases, logic, shipped_catalogs, step

from flowgen.flow.model import Flow
from flowgen.flow.validator import pill_roots
from flowgen.graph.re_reads import add_re_reads, by_number, re_read_table, re_read_test


def outline(*steps: dict) -> Flow:
    return Flow.model_validate(
        flow(*steps, trigger=("record_update", {"table": "sn_customerservice_case"}),
             annotation="When a case is resolved")
    )  # fmt: skip


@pytest.mark.unit
def test_a_test_right_after_a_wait_reads_the_record_again() -> None:
    """csm-dev-011 with adapter v11."""
    written = outline(
        logic(1, "WAITFORDURATION", annotation="wait two days"),
        logic(2, "IF", annotation="if the customer hasn't reopened it"),
        step(3, "update_record", 2, annotation="close it"),
    )
    new, added = add_re_reads(written)
    assert added == ["if the customer hasn't reopened it"]
    assert [(c.definition, c.block) for c in new.components] == [
        ("WAITFORDURATION", None),
        ("look_up_record", None),
        ("IF", None),
        ("update_record", 3),
    ]
    assert new.components[1].annotation == "if the customer hasn't reopened it"


@pytest.mark.unit
def test_tests_of_other_things_and_records_read_already_stay() -> None:
    other = outline(
        logic(1, "WAITFORDURATION", annotation="wait two days"),
        logic(2, "IF", annotation="if the contact prefers email"),
        step(3, "send_email", 2, annotation="remind them by email"),
    )
    assert add_re_reads(other)[1] == []
    read = outline(
        logic(1, "WAITFORDURATION", annotation="wait two days"),
        step(2, "look_up_record", annotation="look the case up again"),
        logic(3, "IF", annotation="if it is still resolved"),
        step(4, "update_record", 3, annotation="close it"),
    )
    assert add_re_reads(read)[1] == []


@pytest.mark.unit
def test_hand_written_gold_flows_read_the_record_again_already() -> None:
    """No hand-written train or dev flow changes (10 test a record's staying so right
    after a wait, each after reading it again); 49 synthetic ones test straight after
    the wait, a habit of the generator that wrote them."""
    changed = {
        name: sum(bool(add_re_reads(Flow.model_validate(c.flow))[1]) for c in gold_cases(name))
        for name in ("handwritten", "synthetic")
    }
    assert changed == {"handwritten": 0, "synthetic": 49}


@pytest.mark.unit
def test_the_record_read_again_is_the_triggers_found_by_its_number() -> None:
    """The look-up between the wait and the IF reads the trigger's table by the record's
    number (13 of 13 hand-written gold re-reads), and the IF tests that it found it."""
    catalog = shipped_catalogs()["globex-csm"]
    written = outline(
        logic(1, "WAITFORDURATION", annotation="wait two days"),
        logic(2, "IF", annotation="if the customer hasn't reopened it"),
        step(3, "update_record", 2, annotation="close it"),
    )
    new, _ = add_re_reads(written)
    pills = pill_roots(new, catalog, 2, "condition")
    assert re_read_table(new, 2, pills) == "sn_customerservice_case"
    assert re_read_table(new, 3, pills) is None  # the IF, not a look-up
    columns = catalog.columns("sn_customerservice_case")
    table, label = "sn_customerservice_case", "Case"
    assert by_number("state=6", table, label, "", columns) == (
        "number={{trigger.current.number}}^state=6"
    )
    assert by_number("number={{trigger.current.number}}", table, label, "", columns) is None
    assert re_read_test(new, 3, catalog) == {"condition": "{{2.record}}ISNOTEMPTY"}
    assert re_read_test(written, 2, catalog) is None  # no record read again before it


@pytest.mark.unit
def test_gold_re_reads_are_written_so() -> None:
    """Every hand-written train and dev IF right after a re-read whose words say the record
    is still so (10) tests `{{N.record}}ISNOTEMPTY`, and the re-reads (13) open with the
    trigger record's number but one (an RMA the flow created)."""
    tests = numbered = reads = 0
    for case in gold_cases("handwritten"):
        gold = Flow.model_validate(case.flow)
        catalog = shipped_catalogs()[case.installation]
        for comp in gold.components:
            given = re_read_test(gold, comp.order, catalog)
            if given is not None:
                tests += 1
                assert given == {"condition": next(i.value for i in comp.inputs or [])}
            pills = pill_roots(gold, catalog, comp.order, "condition")
            if re_read_table(gold, comp.order, pills):
                reads += 1
                query = next(i.value for i in comp.inputs or [] if i.name == "conditions")
                numbered += "{{trigger.current." in query.split("^")[0]
    assert tests >= 10 and reads >= 12 and numbered >= reads - 1
