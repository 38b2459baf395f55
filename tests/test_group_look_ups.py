"""A look-up of the group a core step hands its work to (graph/group_look_ups.py)."""

from __future__ import annotations

from flows import flow, gold_cases, shipped_catalogs, step

from flowgen.flow.model import Flow
from flowgen.graph.group_look_ups import add_group_look_ups

REQUIREMENT = (
    "When a problem is opened, create a problem task for the root cause analysis and"
    " assign it to the Database group."
)
PROBLEM_OPENED = ("record_create", {"table": "problem"})


def outline(*steps: dict) -> Flow:
    return Flow.model_validate(
        flow(*steps, trigger=PROBLEM_OPENED, annotation="When a problem is opened")
    )


def test_the_group_is_looked_up_before_the_step_that_hands_it_work() -> None:
    itsm = shipped_catalogs()["acme-itsm"]
    task = step(
        1,
        "create_record",
        annotation="create a problem task for the root cause analysis and assign it to the"
        " Database group",
    )
    new, added = add_group_look_ups(outline(task), REQUIREMENT, itsm)
    assert added == ["the Database group"]
    assert [(c.order, c.definition, c.annotation) for c in new.components] == [
        (1, "look_up_record", "the Database group"),
        (2, "create_record", task["annotation"]),
    ]


def test_a_flow_that_looks_up_a_group_or_a_directory_group_stays() -> None:
    itsm = shipped_catalogs()["acme-itsm"]
    task = step(1, "create_record", annotation="assign it to the Database group")
    looked_up = outline(step(1, "look_up_record", annotation="the Database group"), task)
    assert add_group_look_ups(looked_up, REQUIREMENT, itsm)[1] == []
    # an Azure AD group is the directory's, not a ServiceNow group: a spoke step's words
    azure = "When a user joins, add them to the VPN Users group in Azure AD."
    added_to = step(1, "add_user_to_group", scope="sn_azure_ad_spoke",
                    annotation="add them to the VPN Users group in Azure AD")  # fmt: skip
    flat = Flow.model_validate(flow(added_to, trigger=("record_create", {"table": "sys_user"})))
    assert add_group_look_ups(flat, azure, itsm)[1] == []
    # words no step's span covers add nothing: where the look-up goes is unknown
    assert add_group_look_ups(outline(), REQUIREMENT, itsm)[1] == []


def test_gold_flows_it_changes() -> None:
    """Hand-written train and dev gold flows whose words hand work to a named group and
    that look none up: the two that write the group's name itself."""
    catalogs = shipped_catalogs()
    changed = []
    for case in gold_cases("handwritten", "synthetic"):
        assert case.flow is not None
        steps = [{k: v for k, v in c.items() if k != "inputs"} for c in case.flow["components"]]
        bare = Flow.model_validate({**case.flow, "components": steps})
        _, added = add_group_look_ups(bare, case.requirement, catalogs[case.installation])
        if added:
            changed.append(case.id)
    assert changed == ["itsm-dev-026", "soc-dev-long-06"]
