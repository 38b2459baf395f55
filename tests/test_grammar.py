"""Grammars built from retrieval results accept what is offered and nothing else, read
the same by the two matchers that run them: xgrammar (vLLM's) and llguidance through
`to_lark` (the embedded engines'). No model needed: llguidance matches bytes here."""

from __future__ import annotations

from functools import cache

import llguidance
import pytest
from xgrammar.testing import _is_grammar_accept_string as xgrammar_accepts

from flowgen.engine.grammar import (
    MAX_QUERY_TERMS,
    InputSpec,
    PillColumn,
    PillSpace,
    WalkTarget,
    inputs_grammar,
    outline_grammar,
    to_lark,
)
from flowgen.flow.flowlogic import FLOW_LOGIC


class _Bytes:
    """A tokenizer whose tokens are the 256 bytes and an end token: llguidance then
    matches text exactly as written, without a model's vocabulary."""

    eos_token_id = 256
    bos_token_id = None
    tokens = [bytes([i]) for i in range(256)] + [b"<end>"]

    def __call__(self, text: bytes) -> list[int]:
        return list(text)


@cache
def _byte_tokenizer() -> llguidance.LLTokenizer:
    return llguidance.LLTokenizer(llguidance.TokenizerWrapper(_Bytes()))


def llguidance_accepts(grammar: str, text: str) -> bool:
    matcher = llguidance.LLMatcher(
        _byte_tokenizer(), llguidance.LLMatcher.grammar_from_lark(to_lark(grammar)), log_level=0
    )
    assert not matcher.is_error(), matcher.get_error()
    return matcher.consume_tokens(list(text.encode())) and matcher.is_accepting()


def accepts(grammar: str, text: str) -> bool:
    """Whether the grammar accepts `text`, asserting that both matchers agree."""
    verdict = xgrammar_accepts(grammar, text)
    assert llguidance_accepts(grammar, text) == verdict, f"the matchers disagree on {text!r}"
    return verdict


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


def test_a_block_holds_at_most_max_block_steps_items() -> None:
    from flowgen.engine.grammar import MAX_BLOCK_STEPS

    def outline(top: int, nested: int) -> str:
        steps = "- update_record | them\n" * (top - 1)
        inner = "  - update_record | them\n" * nested
        return f"T daily | inactive\n{steps}- FOREACH | find\n{inner}"

    assert accepts(OUTLINE, outline(MAX_BLOCK_STEPS, MAX_BLOCK_STEPS))
    assert not accepts(OUTLINE, outline(MAX_BLOCK_STEPS + 1, 1))
    assert not accepts(OUTLINE, outline(2, MAX_BLOCK_STEPS + 1))


def test_an_outline_written_again_after_feedback_cannot_refuse() -> None:
    args = (["record_update"], ["update_record"], list(FLOW_LOGIC))
    no_refusal = outline_grammar(*args, requirement=REQUIREMENT, allow_refusal=False)
    assert accepts(OUTLINE, "REFUSE | not a workflow\n")
    assert not accepts(no_refusal, "REFUSE | not a workflow\n")
    assert accepts(no_refusal, "T record_update | inactive\n- update_record | them\n")


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


# -- data pills as a grammar over the catalog -------------------------------------------------
SPACE = PillSpace(
    roots={
        "trigger.current": ("record", "incident"),
        "1.records": ("records", "incident"),
        "2.item": ("record", "incident"),
        "1.count": ("integer", None),
    },
    columns={
        "incident": [
            PillColumn("number"),
            PillColumn("state", choices=("1", "2", "6")),
            PillColumn("caller_id", reference="sys_user"),
            PillColumn("assignment_group", reference="sys_user_group"),
        ],
        "sys_user": [PillColumn("email"), PillColumn("manager", reference="sys_user")],
        "sys_user_group": [PillColumn("name"), PillColumn("manager", reference="sys_user")],
    },
)
PILLED = inputs_grammar(
    [
        InputSpec("items", "pills", records=True),
        InputSpec("record", "pills", required=True),
        InputSpec("condition", "query"),
        InputSpec("ah_to", "text"),
    ],
    pills=SPACE,
)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("record = {{2.item}}\n", True),
        ("items = {{1.records}}\nrecord = {{trigger.current}}\n", True),
        ("record = {{trigger.current.assignment_group.manager}}\n", True),  # a reference
        ("record = {{trigger.current.number}}\n", False),  # a string is not a record
        ("record = {{1.records}}\n", False),  # a list is not one record
        ("items = {{2.item}}\nrecord = {{2.item}}\n", False),  # FOREACH needs a list
        ("ah_to = {{trigger.current.assignment_group.manager.email}}\n", False),  # record first
        ("record = {{2.item}}\nah_to = {{trigger.current.caller_id.manager.email}}\n", True),
        ("record = {{2.item}}\nah_to = {{trigger.current.caller_id.phone}}\n", False),
        ("record = {{2.item}}\nah_to = Dear {{2.item.caller_id.email}}, hi\n", True),
        ("record = {{2.item}}\ncondition = {{trigger.current.state}}=6\n", True),
        ("record = {{2.item}}\ncondition = {{trigger.current.state}}=9\n", False),  # not stored
        ("record = {{2.item}}\ncondition = {{1.count}}>0^{{2.item.number}}ISNOTEMPTY\n", True),
        ("record = {{2.item}}\ncondition = {{3.item.state}}=6\n", False),  # not in scope
        ("record = {{2.item}}\ncondition = {{2.item}}ISNOTEMPTY\n", True),  # was one found?
        ("record = {{2.item}}\ncondition = {{1.records}}ISNOTEMPTY\n", False),  # a list
        # a walk ends after MAX_WALK (4) columns: sys_user.manager leads back to sys_user
        ("record = {{2.item}}\nah_to = {{2.item.caller_id.manager.manager.email}}\n", True),
        ("record = {{2.item.caller_id.manager.manager.manager}}\n", True),
        ("record = {{2.item.caller_id.manager.manager.manager.manager}}\n", False),
        (
            "record = {{2.item}}\nah_to = {{2.item.caller_id.manager.manager.manager.email}}\n",
            False,
        ),
        ("record = {{2.item}}\ncondition = {{2.item.caller_id.manager.manager.email}}=x\n", True),
        (
            "record = {{2.item}}\n"
            "condition = {{2.item.caller_id.manager.manager.manager.email}}=x\n",
            False,
        ),
    ],
)
def test_pill_grammar(text: str, ok: bool) -> None:
    assert accepts(PILLED, text) is ok


REFERENCED = inputs_grammar(
    [InputSpec("building", "text", required=True, single=True), InputSpec("body", "text")],
    pills=SPACE,
)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("building = {{2.item}}\n", True),
        ("building = {{trigger.current.caller_id}}\n", True),
        ("building = Lisbon Campus\n", True),
        ("building = {{1.records}}\n", False),  # one record, never a list
        ("building = {{2.item}}\nbody = {{1.records}}\n", True),  # text takes any pill
    ],
)
def test_a_reference_input_takes_no_list(text: str, ok: bool) -> None:
    assert accepts(REFERENCED, text) is ok


ADDRESSED_SPACE = PillSpace(
    roots={**SPACE.roots, "trigger.from_address": ("string", None)},
    columns={
        **SPACE.columns,
        "sys_user": [
            PillColumn("email", address="email"),
            PillColumn("phone", address="phone"),
            PillColumn("manager", reference="sys_user"),
        ],
    },
    addresses={"trigger.from_address": "email", "1.phone": "phone"},
)
ADDRESSED = inputs_grammar([InputSpec("ah_to", "address", required=True)], pills=ADDRESSED_SPACE)
TEXTED = inputs_grammar(
    [InputSpec("recipients", "address", required=True, address="phone")],
    pills=PillSpace(
        roots={**ADDRESSED_SPACE.roots, "1.phone": ("string", None)},
        columns=ADDRESSED_SPACE.columns,
        addresses=ADDRESSED_SPACE.addresses,
    ),
)


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("ah_to = {{trigger.current.caller_id.email}}\n", True),
        ("ah_to = {{2.item.assignment_group.manager.manager.email}}\n", True),
        ("ah_to = {{trigger.from_address}}\n", True),
        ("ah_to = hr-ops@acme.com\n", True),
        ("ah_to = {{trigger.current.number}}\n", False),  # not an address
        ("ah_to = {{trigger.current.caller_id.phone}}\n", False),
        ("ah_to = {{trigger.current.caller_id}}\n", False),  # a record, not its address
        ("ah_to = {{1.count}}\n", False),
        ("ah_to = the caller's manager\n", False),
        ("ah_to = Dear {{2.item.caller_id.email}}, hi\n", False),
        (f"ah_to = {'x' * 65}@acme.com\n", False),  # bounded: a runaway must write the @
    ],
)
def test_an_address_input_takes_a_pill_ending_in_an_address_or_a_literal_one(
    text: str, ok: bool
) -> None:
    assert accepts(ADDRESSED, text) is ok


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("recipients = {{trigger.current.caller_id.phone}}\n", True),
        ("recipients = {{2.item.assignment_group.manager.phone}}\n", True),
        ("recipients = {{1.phone}}\n", True),
        ("recipients = +15550100\n", True),
        ("recipients = 555-0100\n", True),
        ("recipients = {{1.phone}},{{trigger.current.caller_id.manager.phone}}\n", True),
        ("recipients = {{2.item.caller_id.manager.manager.phone}}\n", True),
        ("recipients = {{2.item.caller_id.manager.manager.manager.phone}}\n", False),  # 5 hops
        ("recipients = {{trigger.current.caller_id.email}}\n", False),  # an email address
        ("recipients = {{trigger.current.caller_id}}\n", False),  # a record
        ("recipients = {{trigger.from_address}}\n", False),
        ("recipients = the on-call engineer\n", False),
        (f"recipients = +{'1' * 30}\n", False),  # bounded
    ],
)
def test_a_phone_input_takes_a_pill_ending_in_a_phone_number_or_a_literal_one(
    text: str, ok: bool
) -> None:
    assert accepts(TEXTED, text) is ok


def test_with_no_address_in_scope_an_address_input_is_free_text() -> None:
    """A literal would be made up: the input reads as before, any pill or text."""
    grammar = inputs_grammar(
        [InputSpec("ah_to", "address", required=True)],
        pills=PillSpace(roots={"trigger.run_start_time": ("datetime", None)}, columns={}),
    )
    assert accepts(grammar, "ah_to = {{trigger.run_start_time}}\n")
    assert accepts(grammar, "ah_to = the security team\n")


def test_table_variants_offer_the_fields_of_the_table_chosen() -> None:
    def variant(table: str, fields: list[str]) -> list[InputSpec]:
        return [
            InputSpec("table", "options", [table], required=True),
            InputSpec("conditions", "query", fields=fields),
        ]

    grammar = inputs_grammar(
        variants=[variant("incident", ["priority"]), variant("sys_user", ["active"])]
    )
    assert accepts(grammar, "table = incident\nconditions = priority=1\n")
    assert accepts(grammar, "table = sys_user\nconditions = activeCHANGESTOfalse\n")
    assert not accepts(grammar, "table = incident\nconditions = active=true\n")
    assert not accepts(grammar, "conditions = priority=1\n")  # table is required


def test_query_fields_dot_walk_one_hop_through_reference_columns() -> None:
    user = WalkTarget("sys_user", ["vip", "email", "manager"], {"vip": ["true", "false"]})
    grammar = inputs_grammar(
        [
            InputSpec(
                "condition",
                "query",
                fields=["priority", "caller_id"],
                walks={"caller_id": user},
            )
        ]
    )
    assert accepts(grammar, "condition = priority=1^caller_id.vip=true\n")
    assert accepts(grammar, "condition = caller_id.emailLIKEacme.com\n")
    assert accepts(grammar, "condition = caller_idISEMPTY\n")
    assert not accepts(grammar, "condition = caller_id.vip=maybe\n")  # not a stored value
    assert not accepts(grammar, "condition = caller_id.phone=1\n")  # no such column
    assert not accepts(grammar, "condition = priority.vip=true\n")  # not a reference
    assert not accepts(grammar, "condition = caller_id.manager.vip=true\n")  # one hop only


def test_a_query_holds_at_most_max_query_terms_terms() -> None:
    grammar = inputs_grammar([InputSpec("condition", "query", fields=["active"])])
    terms = ["active=true"] * MAX_QUERY_TERMS
    assert accepts(grammar, "condition = " + "^".join(terms) + "\n")
    assert not accepts(grammar, "condition = " + "^".join([*terms, "active=true"]) + "\n")


# -- subflows: `T none`, declarations, ASSIGNSUBFLOWOUTPUTS only there ---------------------------
SUB_REQUIREMENT = (
    "Create a subflow that takes an incident and a message, posts the message as a work note, "
    "notifies the assignee, and returns whether the email was sent."
)
SUB_ARGS = (["record_update", "daily"], ["add_work_note", "send_email"])
SUBFLOW_OUTLINE = outline_grammar(
    *SUB_ARGS, list(FLOW_LOGIC), requirement=SUB_REQUIREMENT, tables=["incident", "problem"]
)
HEAD = (
    "T none | Create a subflow\n"
    "  input incident (reference of incident) | takes an incident\n"
    "  input message (string) | a message\n"
    "  output email_sent (boolean) | returns whether the email was sent\n"
)
STEPS = "- add_work_note | posts the message as a work note\n- send_email | notifies the assignee\n"
ASSIGN = "- ASSIGNSUBFLOWOUTPUTS | returns whether the email was sent\n"


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        (HEAD + STEPS + ASSIGN, True),
        ("T none | Create a subflow\n" + STEPS + ASSIGN, True),  # declarations are optional
        (HEAD.replace("reference of incident", "reference") + STEPS + ASSIGN, True),
        (HEAD.replace("(string)", "(records of problem)") + STEPS + ASSIGN, True),
        (
            "T none | Create a subflow\n- IF | notifies the assignee\n  " + ASSIGN,
            True,  # ASSIGNSUBFLOWOUTPUTS anywhere in a subflow
        ),
        (HEAD.replace("of incident", "of sys_user") + STEPS + ASSIGN, False),  # table not offered
        (HEAD.replace("(string)", "(string of incident)") + STEPS + ASSIGN, False),
        (HEAD.replace("(boolean)", "(truthy)") + STEPS + ASSIGN, False),  # unknown type
        (HEAD.replace("| a message", "| a parcel") + STEPS + ASSIGN, False),  # not a span
        (  # outputs before inputs
            "T none | Create a subflow\n"
            "  output email_sent (boolean) | returns whether the email was sent\n"
            "  input message (string) | a message\n" + STEPS,
            False,
        ),
        (HEAD, False),  # a subflow has at least one step
        ("T daily | Create a subflow\n" + STEPS + ASSIGN, False),  # only in a subflow
        (HEAD.replace("T none", "T daily") + STEPS, False),  # declarations only in a subflow
        ("T none | Create a subflow\n" + STEPS + "  " + ASSIGN, False),  # not inside a step
    ],
)
def test_outline_grammar_of_a_subflow(text: str, ok: bool) -> None:
    assert accepts(SUBFLOW_OUTLINE, text) is ok


def test_without_assign_subflow_outputs_the_grammar_has_no_subflow_form() -> None:
    ordinary = [n for n in FLOW_LOGIC if n != "ASSIGNSUBFLOWOUTPUTS"]
    grammar = outline_grammar(*SUB_ARGS, ordinary, requirement=SUB_REQUIREMENT)
    assert "subflow ::=" not in grammar and "sitems" not in grammar
    assert not accepts(grammar, HEAD + STEPS)
    assert not accepts(grammar, "T none | Create a subflow\n" + STEPS)
    assert accepts(grammar, "T daily | Create a subflow\n" + STEPS)
    # the ordinary rules are the same with or without the subflow form
    with_subflow = outline_grammar(*SUB_ARGS, list(FLOW_LOGIC), requirement=SUB_REQUIREMENT)
    assert set(grammar.splitlines()) - set(with_subflow.splitlines()) == {
        grammar.splitlines()[2]  # `flow ::= ...`, which gains `| subflow`
    }


def test_both_matchers_read_quotes_slashes_and_non_ascii_alike() -> None:
    requirement = 'When a "VIP" café/bar request arrives, notify Zoë — naïvely [urgent]'
    grammar = outline_grammar(["record_create"], ["send_email"], [], requirement=requirement)
    assert accepts(grammar, 'T record_create | When a "VIP" café/bar\n- send_email | Zoë\n')
    assert not accepts(grammar, "T record_create | When a VIP\n- send_email | Zoë\n")
    text = inputs_grammar([InputSpec("subject", "text")])
    assert accepts(text, "subject = a/b [x] «ü» \\ done\n")
