"""Subflows (issue 19): the validator's and the pill space's view of a subflow's declared
inputs and outputs, and the synthetic subflow recipe (valid, behind a flag)."""

from __future__ import annotations

import random
from typing import Any

import pytest
from conftest import REPO
from flows import logic, step

from flowgen.flow.catalog import load_catalog
from flowgen.flow.flowlogic import subflow_output_params
from flowgen.flow.model import Flow
from flowgen.flow.validator import pill_roots, validate_flow
from flowgen.training.authoring import parse_authored
from flowgen.training.synthetic import (
    SUBFLOW_RECIPES,
    _spans_ok,
    subflow_note_and_notify,
    synthesize,
)
from flowgen.training.synthetic import Skip as SkipRecipe

INSTALLATIONS = ["acme-itsm", "globex-csm", "initech-secops"]


def subflow(*components: dict[str, Any], outputs: list[dict[str, str]] | None = None) -> dict:
    return {
        "name": "Notify on an incident",
        "trigger": {"annotation": "Create a subflow"},
        "inputs": {
            "items": [
                {"name": "incident", "type": "reference", "reference": "incident"},
                {"name": "tasks", "type": "records", "reference": "incident_task"},
                {"name": "message", "type": "string"},
            ]
        },
        "outputs": {"items": outputs or [{"name": "email_sent", "type": "boolean"}]},
        "components": list(components),
    }


def codes(flow: dict, catalog) -> list[str]:
    return [e.code for e in validate_flow(flow, catalog).errors]


def test_subflow_inputs_are_pills_of_their_declared_type(catalog) -> None:
    flow = Flow.model_validate(subflow(step(1, "log", log_message="x")))
    roots = {r.text: (r.type, r.table) for r in pill_roots(flow, catalog, 1)}
    assert roots == {
        "subflow_inputs.incident": ("reference", "incident"),
        "subflow_inputs.tasks": ("records", "incident_task"),
        "subflow_inputs.message": ("string", None),
    }
    ordinary = Flow.model_validate({**subflow(step(1, "log")), "trigger": {"type": "daily"}})
    assert not any(r.text.startswith("subflow_inputs") for r in pill_roots(ordinary, catalog, 1))


def test_subflow_input_pills_are_checked_like_other_pills(catalog) -> None:
    ok = subflow(
        step(
            1,
            "add_work_note",
            record="{{subflow_inputs.incident}}",
            work_note="{{subflow_inputs.message}}",
        ),
        logic(2, "FOREACH", items="{{subflow_inputs.tasks}}"),
        step(
            3, "log", 2, log_message="{{2.item.number}} {{subflow_inputs.incident.caller_id.email}}"
        ),
        logic(4, "ASSIGNSUBFLOWOUTPUTS", email_sent="true"),
    )
    assert codes(ok, catalog) == []
    walk = subflow(step(1, "log", log_message="{{subflow_inputs.incident.no_such_column}}"))
    assert codes(walk, catalog) == ["pill_unknown_field"]
    loop = subflow(
        logic(1, "FOREACH", items="{{subflow_inputs.incident}}"), step(2, "log", 1, log_message="x")
    )
    assert codes(loop, catalog) == ["pill_type_mismatch"]
    one = subflow(step(1, "add_work_note", record="{{subflow_inputs.tasks}}", work_note="x"))
    assert codes(one, catalog) == ["pill_type_mismatch"]
    undeclared = subflow(step(1, "log", log_message="{{subflow_inputs.nothing}}"))
    assert codes(undeclared, catalog) == ["pill_unknown_output"]


def test_assign_subflow_outputs_takes_one_input_per_declared_output(catalog) -> None:
    flow = subflow(
        logic(1, "ASSIGNSUBFLOWOUTPUTS", email_sent="true", extra="1"),
        outputs=[{"name": "email_sent", "type": "boolean"}, {"name": "note", "type": "string"}],
    )
    assert codes(flow, catalog) == ["unknown_input"]  # `extra` is not a declared output
    params = subflow_output_params(Flow.model_validate(flow))
    assert [(p.name, p.type) for p in params] == [("email_sent", "boolean"), ("note", "string")]
    ordinary = {**flow, "trigger": {"type": "daily"}}
    assert "subflow_outputs_outside_subflow" in codes(ordinary, catalog)
    assert subflow_output_params(Flow.model_validate(ordinary)) is None


@pytest.mark.parametrize("installation", INSTALLATIONS)
def test_the_subflow_recipe_makes_valid_annotated_subflows(installation: str) -> None:
    catalog = load_catalog(REPO / "catalogs" / f"{installation}.yaml")
    rng = random.Random(11)
    made = 0
    for _ in range(40):
        try:
            draft = subflow_note_and_notify(rng, catalog)
        except (SkipRecipe, IndexError):
            continue
        flow = parse_authored(draft.flow, catalog, name="s")
        assert flow is not None and flow.is_subflow, draft.flow
        report = validate_flow(flow, catalog)
        assert report.ok, (draft.flow, [str(e) for e in report.errors])
        requirement = draft.requirement[0].upper() + draft.requirement[1:]
        assert _spans_ok(flow, requirement), (requirement, draft.flow)
        assert flow.components[-1].definition == "ASSIGNSUBFLOWOUTPUTS"
        assert len(flow.input_params) == 2 and len(flow.output_params) == 1
        made += 1
    assert made >= 30


def test_subflow_recipes_are_drawn_only_behind_the_flag(catalog) -> None:
    plain, report = synthesize(catalog, 60, seed=4)
    assert not set(report.per_recipe) & set(SUBFLOW_RECIPES)
    assert not any(c.flow and c.flow["trigger"].get("type") is None for c in plain)
    assert [c.requirement for c in synthesize(catalog, 60, seed=4)[0]] == [
        c.requirement for c in plain
    ]
    with_subflows, report = synthesize(catalog, 300, seed=4, subflows=True)
    assert report.per_recipe.get("subflow_note_and_notify", 0) > 0
    assert not report.dropped.get("subflow_note_and_notify")
    subflows = [c for c in with_subflows if "defines_subflow" in c.features]
    assert len(subflows) == report.per_recipe["subflow_note_and_notify"]


def test_assignsubflowoutputs_is_offered_only_when_a_subflow_is_asked_for() -> None:
    from flowgen.graph.retrieval import asks_for_subflow

    assert asks_for_subflow("Create a subflow that takes an incident and a message")
    assert asks_for_subflow("Subflow: given a user, reassign their incidents")
    assert asks_for_subflow("I need a reusable subflow for major incidents")
    # Running a subflow is an ordinary flow's step.
    assert not asks_for_subflow("When a hire is ready, run the onboard new hire subflow for them")
    assert not asks_for_subflow("run the contain compromised account subflow for that user")
