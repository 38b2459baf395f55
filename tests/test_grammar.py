"""Grammars built from retrieval results accept what is offered and nothing else
(checked with xgrammar's own matcher; no model needed)."""

from __future__ import annotations

import pytest
from xgrammar.testing import _is_grammar_accept_string as accepts

from flowgen.engine.grammar import InputSpec, inputs_grammar, outline_grammar
from flowgen.flow.flowlogic import FLOW_LOGIC

REQUIREMENT = (
    "Every time a user becomes inactive, find all incidents assigned to them and assign "
    "them to their manager."
)
OUTLINE = outline_grammar(
    ["record_update", "daily"],
    ["look_up_records", "update_record"],
    list(FLOW_LOGIC),
    requirement=REQUIREMENT,
)
INPUTS = inputs_grammar(
    [
        InputSpec("table_name", "options", options=["incident", "problem"]),
        InputSpec("record", "pills", pills=["2.item", "trigger.current"]),
        InputSpec(
            "values",
            "query",
            fields=["assigned_to", "state", "work_notes"],
            choices_by_field={"state": ["1", "2", "6"]},
            pills=["trigger.current.manager"],
        ),
    ]
)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (
            "T record_update | Every time a user becomes inactive\n"
            "- look_up_records | find all incidents assigned to them\n"
            "- FOREACH | find all incidents\n"
            "  - update_record | assign them to their manager\n",
            True,
        ),
        ("REFUSE | not a workflow request\n", True),
        ("T record_update | inactive, find\n- FOREACH | manager.\n  - ENDFLOW | find\n", True),
        # spec §1 flow-logic rules are part of the grammar: no structure error is writable
        ("T daily | inactive\n- FOREACH | find\n", False),  # a block needs children
        ("T daily | inactive\n- ELSE | find\n  - ENDFLOW | find\n", False),  # ELSE after IF
        (
            "T daily | inactive\n- IF | find\n  - ENDFLOW | find\n- ELSE | them\n"
            "  - update_record | them\n",
            True,
        ),
        ("T daily | inactive\n- EXITLOOP | find\n", False),  # only inside a loop
        ("T daily | inactive\n- FOREACH | find\n  - EXITLOOP | find\n", True),
        ("T daily | inactive\n- CATCH | find\n  - ENDFLOW | find\n", False),
        ("T daily | inactive\n- PATH | find\n  - ENDFLOW | find\n", False),
        (
            "T daily | inactive\n- PARALLEL | find\n  - PATH | find\n    - ENDFLOW | find\n",
            False,  # PARALLEL needs two paths
        ),
        (
            "T daily | inactive\n- PARALLEL | find\n  - PATH | find\n    - ENDFLOW | find\n"
            "  - PATH | them\n    - update_record | them\n",
            True,
        ),
        ("T record_update | Every time a user leaves\n- FOREACH | find all incidents\n", False),
        ("T record_delete | inactive\n- FOREACH | find\n", False),  # trigger not offered
        ("T daily | inactive\n- close_incident | find\n", False),  # step not offered
        ("T daily | inactive\n", False),  # an outline has at least one step
    ],
)
def test_outline_grammar(text: str, ok: bool) -> None:
    assert accepts(OUTLINE, text) is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (
            "table_name = incident\nrecord = {{2.item}}\n"
            "values = assigned_to={{trigger.current.manager}}^state=6^work_notes=Reassigned\n",
            True,
        ),
        ("table_name = incident\n", True),
        ("", True),
        ("table_name = incidnet\n", False),  # not an offered table
        ("record = {{3.record}}\n", False),  # pill not in scope
        ("values = state=9\n", False),  # not a stored choice value
        ("values = stateIN1,6\n", True),
        ("values = colour=red\n", False),  # not a field of the table
        ("values = work_notes=see {{1.secret}}\n", False),  # braces only for offered pills
        ("record = {{2.item}}\ntable_name = incident\n", False),  # declaration order
        ("table_name = incident\ntable_name = problem\n", False),  # at most once
    ],
)
def test_inputs_grammar(text: str, ok: bool) -> None:
    assert accepts(INPUTS, text) is ok
