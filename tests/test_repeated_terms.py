"""Repeated terms of a generated query are dropped, the first kept."""

from __future__ import annotations

from flowgen.flow.model import FlowInput
from flowgen.graph.repeated_terms import drop_repeated_terms


def test_a_term_the_model_repeated_is_dropped_and_the_rest_kept_in_order() -> None:
    inputs = [
        FlowInput(name="table", value="incident"),
        FlowInput(name="conditions", value="active=true^priority=1^active=true^ORstate=2"),
        FlowInput(name="condition", value="stateCHANGESTO3^stateCHANGESTO3^risk_rating=1"),
    ]
    kept, dropped = drop_repeated_terms(inputs)
    assert [i.value for i in kept] == [
        "incident",
        "active=true^priority=1^ORstate=2",
        "stateCHANGESTO3^risk_rating=1",
    ]
    assert dropped == ["conditions: active=true", "condition: stateCHANGESTO3"]


def test_a_field_set_twice_keeps_its_first_value_a_condition_may_name_one_twice() -> None:
    inputs = [
        FlowInput(
            name="values",
            value="short_description={{trigger.current.description}}"
            "^description={{trigger.current.description}}"
            "^short_description={{trigger.current.short_description}}",
        ),
        FlowInput(name="conditions", value="state!=3^state!=7^ORstate=3"),
    ]
    kept, dropped = drop_repeated_terms(inputs)
    assert kept[0].value == (
        "short_description={{trigger.current.description}}"
        "^description={{trigger.current.description}}"
    )
    assert kept[1].value == "state!=3^state!=7^ORstate=3"  # no term repeats itself
    assert dropped == ["values: short_description={{trigger.current.short_description}}"]


def test_queries_without_repeats_and_other_inputs_are_left_as_written() -> None:
    inputs = [
        FlowInput(name="message", value="done^done"),  # free text, not a query
        FlowInput(name="values", value="work_notes=a^b^c"),
    ]
    kept, dropped = drop_repeated_terms(inputs)
    assert kept == inputs and dropped == []


def test_an_emptiness_test_beside_a_value_of_the_same_field_is_dropped() -> None:
    """`u_verdictCHANGESTOphishing` already says the verdict is not empty; a bare change
    (`assigned_toCHANGES`) or an OR keeps it."""
    inputs = [
        FlowInput(name="condition", value="u_verdictCHANGESTOphishing^u_verdictISNOTEMPTY"),
        FlowInput(name="conditions", value="assigned_toCHANGES^assigned_toISNOTEMPTY"),
        FlowInput(name="values", value="state=3^state=4"),
        FlowInput(name="conditions", value="state=1^ORstateISNOTEMPTY"),
    ]
    kept, dropped = drop_repeated_terms(inputs)
    assert [i.value for i in kept] == [
        "u_verdictCHANGESTOphishing",
        "assigned_toCHANGES^assigned_toISNOTEMPTY",
        "state=3",
        "state=1^ORstateISNOTEMPTY",
    ]
    assert dropped == ["condition: u_verdictISNOTEMPTY", "values: state=4"]
