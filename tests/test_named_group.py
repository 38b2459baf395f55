"""A look-up of the group its words name (graph/named_group.py): the names read, the gold
look-ups it must agree with, and through the graph."""

from __future__ import annotations

import pytest
from flows import flow, generated, gold_steps, inputs_of, shipped_catalogs, step

from flowgen.flow.model import FlowInput
from flowgen.graph.named_group import GROUP_TABLE, look_up_named_group, named_group

CATALOGS = shipped_catalogs()


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "name"),
    [
        ("the Escalation Management group", "Escalation Management"),
        ("look up the CAB group", "CAB"),
        ("the Networking EMEA queue", "Networking EMEA"),
        ("find the Identity and Access team", "Identity and Access"),
        # no capitalised name: the words do not say which group
        ("the network group", None),
        ("look up the group", None),
        ("Look up their manager", None),
    ],
)
def test_the_group_a_span_names(span: str, name: str | None) -> None:
    assert named_group(span) == name


@pytest.mark.unit
def test_gold_look_ups_of_a_named_group_read_it_by_name() -> None:
    """The hand-written gold look_up_records of train and dev whose span names a group:
    all but one look it up by that name, and the rule leaves that one ("the VIP group"
    for `name=VIP Support`) as written."""
    seen, agree = 0, 0
    for case, comp in gold_steps("handwritten"):
        name = named_group(comp.get("annotation") or "")
        if comp["definition"] != "look_up_record" or name is None:
            continue
        seen += 1
        agree += inputs_of(comp) == {"table": GROUP_TABLE, "conditions": f"name={name}"}
        written = [FlowInput(**i) for i in comp["inputs"]]
        catalog = CATALOGS[case.installation]
        assert look_up_named_group(written, comp["annotation"], catalog)[1] == []
    assert seen >= 30
    assert agree >= seen - 1, (agree, seen)


def test_the_graph_looks_up_the_named_group(synced_store) -> None:
    """Through the graph with a replayed answer that read the group's name as a table."""
    answered = flow(
        step(
            1,
            "look_up_record",
            annotation="look up the Change Advisory Board group",
            table="change_request",
            conditions="active=true",
        ),
        trigger=("record_create", {"table": "change_request"}),
        annotation="When a change request is created",
    )
    result = generated(
        synced_store,
        answered,
        "When a change request is created, look up the Change Advisory Board group",
    )
    assert result is not None
    lookup = inputs_of(result["components"][0])
    assert lookup == {"table": GROUP_TABLE, "conditions": "name=Change Advisory Board"}
