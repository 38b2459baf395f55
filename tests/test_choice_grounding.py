"""Choice values grounded in the item's annotation (graph/choice_grounding.py), on the
shipped acme-itsm catalog."""

from __future__ import annotations

from pathlib import Path

import pytest
from flows import flow, generated, inputs_of, step

from flowgen.flow.catalog import load_catalog
from flowgen.flow.model import FlowInput
from flowgen.graph.choice_grounding import (
    add_named_settings,
    add_named_terms,
    ground_choices,
    ground_fields,
    ground_query,
)

REPO = Path(__file__).resolve().parent.parent
CATALOG = load_catalog(REPO / "catalogs" / "acme-itsm.yaml")


@pytest.mark.unit
@pytest.mark.parametrize(
    ("query", "table", "annotation", "grounded"),
    [
        # the model's habit (3, On Hold) where the words say Resolved (6)
        ("stateCHANGESTO3", "incident", "When an incident is resolved", "stateCHANGESTO6"),
        # the other terms, their connectors and pills stay as written
        (
            "stateCHANGESTO3^ORassigned_to={{trigger.current}}^active=true",
            "incident",
            "lookup incident tasks of a resolved incident",
            "stateCHANGESTO6^ORassigned_to={{trigger.current}}^active=true",
        ),
        # a set value as well as a condition; a label with a rank: "1 - Critical"
        ("state=-4", "change_request", "cancel the change", "state=4"),
        ("priority=3", "incident", "raise it to critical", "priority=1"),
        # the written choice is named: nothing changes
        ("stateCHANGESTO6", "incident", "once the incident is resolved", "stateCHANGESTO6"),
        # two choices named: the words do not decide
        ("state=3", "incident", "move resolved incidents to closed", "state=3"),
        # a label named only inside a longer one is not named: Very High, not High
        ("riskCHANGESTO3", "change_request", "risk is set to Very High", "riskCHANGESTO1"),
        ("riskCHANGESTO3", "change_request", "risk is set to High", "riskCHANGESTO2"),
        # both named apart: undecided
        ("risk=3", "change_request", "from High to Very High", "risk=3"),
        # the written label is in part named (Closed Complete): no contradiction
        ("state=3", "task", "close all of its open tasks", "state=3"),
        # cancel, canceled, cancelled are one word
        ("state=-4", "change_request", "it gets cancelled", "state=4"),
        # an event's noun in the formal register names the record so changed ...
        ("stateCHANGESTO3", "incident", "Upon resolution of an incident", "stateCHANGESTO6"),
        (
            "problem_stateCHANGESTO101",
            "problem",
            "Upon the resolution of a problem record",
            "problem_stateCHANGESTO106",
        ),
        # ... but the same noun naming a column or a table is no event
        ("state=7", "incident", "set the resolution code to Solved (Permanently)", "state=7"),
        # no choice named, a dot-walk, a boolean, a column that is no choice
        ("state=3", "incident", "when the caller replies", "state=3"),
        ("caller_id.active=false", "incident", "resolved", "caller_id.active=false"),
        ("active=true", "incident", "when it becomes inactive", "active=true"),
        ("short_description=Resolved", "incident", "resolved", "short_description=Resolved"),
    ],
)
def test_a_choice_the_words_contradict_becomes_the_one_they_name(
    query: str, table: str, annotation: str, grounded: str
) -> None:
    assert ground_query(query, table, annotation, CATALOG) == grounded


@pytest.mark.unit
def test_a_steps_condition_is_left_alone_a_triggers_is_grounded() -> None:
    """A lookup's span says what its step does with the records ("close the resolved
    ones" selects state=6 and sets nothing), so only the values a step sets and a
    trigger's condition are grounded."""
    lookup = CATALOG.step("look_up_records")
    trigger = CATALOG.trigger("record_update")
    assert lookup is not None and trigger is not None
    inputs = [
        FlowInput(name="table", value="incident"),
        FlowInput(name="conditions", value="state=3"),
    ]
    assert ground_choices(inputs, lookup.inputs, "close the resolved ones", CATALOG) == (
        inputs,
        [],
    )
    condition = [
        FlowInput(name="table", value="incident"),
        FlowInput(name="condition", value="stateCHANGESTO3"),
    ]
    grounded, _ = ground_choices(
        condition, trigger.inputs, "when an incident is resolved", CATALOG, trigger=True
    )
    assert grounded[1].value == "stateCHANGESTO6"


@pytest.mark.unit
def test_the_table_a_query_reads_is_its_params_table_input() -> None:
    step = CATALOG.step("update_record")
    assert step is not None
    inputs = [
        FlowInput(name="table_name", value="change_request"),
        FlowInput(name="record", value="{{trigger.current}}"),
        FlowInput(name="values", value="state=-4^work_notes=Cancelled"),
    ]
    grounded, changes = ground_choices(inputs, step.inputs, "cancel the change", CATALOG)
    assert [i.value for i in grounded] == [
        "change_request",
        "{{trigger.current}}",
        "state=4^work_notes=Cancelled",
    ]
    assert changes == ["state=-4^work_notes=Cancelled -> state=4^work_notes=Cancelled"]
    # change_task's state has no Canceled: the same words leave it alone
    inputs[0] = FlowInput(name="table_name", value="change_task")
    inputs[2] = FlowInput(name="values", value="state=3")
    assert ground_choices(inputs, step.inputs, "cancel the change", CATALOG) == (inputs, [])


@pytest.mark.unit
@pytest.mark.parametrize(
    ("query", "table", "annotation", "grounded"),
    [
        # a column the words never name, where they name one setting of another
        (
            "stateCHANGESTO4",
            "change_request",
            "When a change request is approved",
            "approvalCHANGESTOapproved",
        ),
        (
            "stateCHANGESTO2",
            "incident",
            "When a major incident is accepted",
            "major_incident_stateCHANGESTOaccepted",
        ),
        # a boolean named, and named negated
        (
            "stateCHANGESTO24",
            "sn_hr_core_case",
            "If an HR case is marked sensitive",
            "sensitiveCHANGESTOtrue",
        ),
        (
            "activeCHANGESTOtrue",
            "sys_user",
            "Every time a user becomes inactive",
            "activeCHANGESTOfalse",
        ),
        # the value written is the one the words say
        (
            "activeCHANGESTOfalse",
            "sys_user",
            "When a user is inactive (active set to false)",
            "activeCHANGESTOfalse",
        ),
        # other terms and connectors stay
        (
            "priority=1^ORstateCHANGESTO4",
            "change_request",
            "a priority 1 change is approved",
            "priority=1^ORapprovalCHANGESTOapproved",
        ),
        # the written term is named ("priority 1"): it stays
        ("priority=1", "incident", "When a priority 1 incident is put on hold", "priority=1"),
        # two settings named ("high" is a risk and an impact): the words do not decide
        ("state=-5", "change_request", "a high risk, high impact change", "state=-5"),
        # nothing named; the named column already tested (its value is ground_query's)
        ("state=2", "incident", "when the caller replies", "state=2"),
        ("approval=requested", "change_request", "once it is approved", "approval=requested"),
    ],
)
def test_a_trigger_term_on_an_unnamed_column_moves_to_the_named_one(
    query: str, table: str, annotation: str, grounded: str
) -> None:
    label = CATALOG.table(table).label  # type: ignore[union-attr]
    assert ground_fields(query, table, label, annotation, CATALOG.columns(table)) == grounded


@pytest.mark.unit
@pytest.mark.parametrize(
    ("query", "trigger", "table", "annotation", "grounded"),
    [
        # the qualifier the words give, dropped by the model, added (as written on gold)
        (
            "parent.parent=true",
            "record_create",
            "incident",
            "When a new incident comes in by phone",
            "parent.parent=true^contact_type=phone",
        ),
        (
            None,
            "record_create",
            "incident",
            "When a new incident comes in by phone",
            "contact_type=phone",
        ),
        # an update trigger holding its change: the qualifier filters beside it
        (
            "stateCHANGESTO6",
            "record_update",
            "incident",
            "When a phone incident is resolved",
            "stateCHANGESTO6^contact_type=phone",
        ),
        # an update trigger without a change: the named setting may be the event itself
        (
            "contact_type=phone",
            "record_update",
            "incident",
            "When a phone incident is resolved",
            "contact_type=phone",
        ),
        # the named value on a column that does not hold it: the term moves
        (
            "category=phone",
            "record_create",
            "incident",
            "When a new incident comes in by phone",
            "contact_type=phone",
        ),
        # the column is tested already, with another value: ground_query's business
        (
            "stateCHANGESTO6^contact_type=email",
            "record_update",
            "incident",
            "When a phone incident is resolved",
            "stateCHANGESTO6^contact_type=email",
        ),
        # "high" names a risk and an impact: no evidence for either
        (None, "record_create", "change_request", "a high risk, high impact change", None),
        # the words a tested column accounts for ("on hold" is the hold reason's)
        (
            "hold_reasonCHANGESTO1",
            "record_update",
            "incident",
            "If an incident has been on hold awaiting the caller",
            "hold_reasonCHANGESTO1",
        ),
    ],
)
def test_a_setting_the_trigger_words_name_is_added_to_its_condition(
    query: str | None, trigger: str, table: str, annotation: str, grounded: str | None
) -> None:
    label = CATALOG.table(table).label  # type: ignore[union-attr]
    columns = CATALOG.columns(table)
    assert add_named_terms(query, trigger, table, label, annotation, columns) == grounded


@pytest.mark.unit
@pytest.mark.parametrize(
    ("query", "annotation", "grounded"),
    [
        ("active=true", "look up the active phone incidents", "active=true^contact_type=phone"),
        (None, "find the network incidents", "category=network"),
        # the word belongs to a value already written: it names a group, not a category
        (
            "assignment_group=Network Operations",
            "set the assignment group to Network Operations",
            "assignment_group=Network Operations",
        ),
    ],
)
def test_a_step_query_gets_the_settings_its_span_names(
    query: str | None, annotation: str, grounded: str
) -> None:
    label = CATALOG.table("incident").label  # type: ignore[union-attr]
    columns = CATALOG.columns("incident")
    assert add_named_settings(query, "incident", label, annotation, columns) == grounded


@pytest.mark.unit
@pytest.mark.parametrize(
    ("values", "annotation", "grounded"),
    [
        # a term on a column the words never name moves to the setting they name
        ("priority=2", "put the incident on hold", "state=3"),
        ("urgency=1^work_notes=Escalated", "mark it resolved", "state=6^work_notes=Escalated"),
        # a pill on a reference column names a record: it stays
        (
            "assignment_group={{1.record}}",
            "put it in the network queue",
            "assignment_group={{1.record}}",
        ),
        # a flag the words clear keeps the value written
        ("active=false", "remove the active flag", "active=false"),
        # the named column already set: left to value grounding
        ("state=7", "put the incident on hold", "state=7"),
    ],
)
def test_an_update_term_on_an_unnamed_column_moves_to_the_named_one(
    values: str, annotation: str, grounded: str
) -> None:
    label = CATALOG.table("incident").label  # type: ignore[union-attr]
    columns = CATALOG.columns("incident")
    assert ground_fields(values, "incident", label, annotation, columns) == grounded


def test_the_inputs_node_adds_the_settings_the_words_name(synced_store) -> None:
    """Through the graph: the model's answers (replayed) leave out what the words say;
    the flow the generator returns has it, on the trigger and on a look-up."""
    from flowgen.flow.model import Flow
    from flowgen.graph.generator import FlowGenerator
    from flowgen.training.replay import ReplayEngine

    requirement = (
        "When a new incident comes in by phone, find the open network incidents assigned"
        " to its caller and add a work note to each"
    )
    answered = Flow.model_validate(
        {
            "name": "phone incidents",
            "trigger": {
                "type": "record_create",
                "annotation": "When a new incident comes in by phone",
                "inputs": [
                    {"name": "table", "value": "incident"},
                    {"name": "condition", "value": "parentISNOTEMPTY"},
                ],
            },
            "components": [
                {
                    "order": 1,
                    "category": "action",
                    "definition": "look_up_records",
                    "scope": "global",
                    "annotation": "find the open network incidents assigned to its caller",
                    "inputs": [
                        {"name": "table", "value": "incident"},
                        {
                            "name": "conditions",
                            "value": "assigned_to={{trigger.current.caller_id}}^active=true",
                        },
                    ],
                }
            ],
        }
    )
    result = FlowGenerator(
        "acme-itsm",
        store=synced_store,
        engine=ReplayEngine(answered, check_grammar=False),
        checkpoints=False,
        guard=None,
    ).generate(requirement)
    assert result.flow is not None
    trigger = {i["name"]: i["value"] for i in result.flow["trigger"]["inputs"]}
    # `contact_type=phone` added; `parentISNOTEMPTY`, which no word of the trigger's span
    # names, then dropped (graph/unnamed_terms.py)
    assert trigger["condition"] == "contact_type=phone"
    lookup = {i["name"]: i["value"] for i in result.flow["components"][0]["inputs"]}
    assert lookup["conditions"] == (
        "assigned_to={{trigger.current.caller_id}}^active=true^category=network"
    )


def test_the_inputs_node_moves_an_update_to_the_field_its_words_name(synced_store) -> None:
    """Through the graph: the replayed update sets a column its span never names; the
    flow the generator returns sets the one it names (`ground_step_fields`)."""
    answered = flow(
        step(
            1,
            "update_record",
            annotation="put the incident on hold with a note",
            table_name="incident",
            record="{{trigger.current}}",
            values="priority=2^work_notes=Waiting for the vendor",
        ),
        trigger=("record_create", {"table": "incident"}),
        annotation="When an incident is created",
    )
    result = generated(
        synced_store,
        answered,
        "When an incident is created, put the incident on hold with a note",
    )
    assert result is not None
    update = inputs_of(result["components"][0])
    assert update["values"] == "state=3^work_notes=Waiting for the vendor"


@pytest.mark.unit
def test_a_word_shared_by_several_settings_names_the_one_whose_column_it_names() -> None:
    """ "high" names priority 2, impact 1, urgency 1 and severity 1 on a security incident:
    "high severity" is severity 1, and so is "high" alone, severity being the table's own
    rating where the others are the generic ranked ones (`_own_rating`); on an incident,
    whose ratings are all ranked, "high" alone names nothing. A flag's label is its
    setting ("Contain" stays ambiguous between the state and `contained`)."""
    secops = load_catalog(REPO / "catalogs" / "initech-secops.yaml")
    columns = secops.columns("sn_si_incident")
    label = "Security Incident"
    said = "mark the linked security incident high severity"
    assert ground_fields("state=10", "sn_si_incident", label, said, columns) == "severity=1"
    assert ground_fields("state=10", "sn_si_incident", label, "mark it high", columns) == (
        "severity=1"
    )
    itsm = load_catalog(REPO / "catalogs" / "acme-itsm.yaml").columns("incident")
    assert ground_fields("state=2", "incident", "Incident", "mark it high", itsm) == "state=2"
    moved = "move the incident to Contain"
    assert add_named_settings("state=18", "sn_si_incident", label, moved, columns) == "state=18"


@pytest.mark.unit
def test_a_label_said_only_inside_a_longer_one_names_nothing_of_its_own() -> None:
    """ "feature request case" names the category Feature request, not the approval
    Requested as well: the shared word no longer makes both ambiguous."""
    csm = load_catalog(REPO / "catalogs" / "globex-csm.yaml")
    columns = csm.columns("sn_customerservice_case")
    said = "feature request case created"
    assert add_named_terms(
        None, "record_create", "sn_customerservice_case", "Case", said, columns
    ) == ("category=feature_request")
