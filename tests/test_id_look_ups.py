"""The look-up a spoke step's id can only come from (graph/id_look_ups.py): CrowdStrike's
containment steps get Get Device Details before them where the outline has none; and the
list a step's record input is one of (a copied attachment, listed and looped over)."""

from __future__ import annotations

import pytest
from flows import flow, gold_cases, gold_steps, logic, step

from flowgen.flow.catalog import load_catalog
from flowgen.flow.model import Flow
from flowgen.graph.id_look_ups import add_id_look_ups, add_list_sources, id_look_up, list_source
from flowgen.shipped import catalogs

SECOPS = load_catalog(catalogs()["initech-secops"])
CROWDSTRIKE = "sn_crowdstrike_spoke"
INCIDENT = ("record_create", {"table": "sn_si_incident"})


@pytest.mark.unit
def test_a_containment_gets_the_device_look_up_before_it_in_its_block() -> None:
    """soc-dev-013 with adapter v11: `contain_host | contain host` alone."""
    answered = Flow.model_validate(
        flow(
            logic(1, "IF", annotation="when severity goes high"),
            step(2, "contain_host", 1, scope=CROWDSTRIKE, annotation="contain host"),
            step(3, "update_record", annotation="mark it contained"),
            trigger=INCIDENT,
        )
    )
    looked_up, added = add_id_look_ups(answered, SECOPS)
    assert added == ["2: get_device_details for contain_host"]
    assert [(c.order, c.block, c.definition, c.annotation) for c in looked_up.components] == [
        (1, None, "IF", "when severity goes high"),
        (2, 1, "get_device_details", "host"),
        (3, 1, "contain_host", "contain host"),
        (4, None, "update_record", "mark it contained"),
    ]
    assert looked_up.components[1].scope == CROWDSTRIKE
    assert add_id_look_ups(looked_up, SECOPS) == (looked_up, [])


@pytest.mark.unit
def test_an_outline_that_looks_the_device_up_or_needs_no_id_is_left_alone() -> None:
    found = Flow.model_validate(
        flow(
            step(1, "get_device_details", scope=CROWDSTRIKE, annotation="look up the host"),
            step(2, "contain_host", scope=CROWDSTRIKE, annotation="contain it"),
            step(3, "lift_containment", scope=CROWDSTRIKE, annotation="lift it after a day"),
            trigger=INCIDENT,
        )
    )
    assert add_id_look_ups(found, SECOPS) == (found, [])
    # A channel's id comes from the step that creates it, not from a look-up.
    invite = SECOPS.step("invite_users_to_channel")
    assert invite is not None and id_look_up(invite, SECOPS) is None


@pytest.mark.unit
def test_no_gold_flow_lacks_the_look_up() -> None:
    """Every hand-written train and dev flow with a containment step looks the device up
    first, so the rule changes none of them."""
    contained = 0
    for _, comp in gold_steps("handwritten"):
        if comp["definition"] in ("contain_host", "lift_containment"):
            contained += 1
    assert contained >= 16
    for case in gold_cases("handwritten", "synthetic"):
        if case.installation != "initech-secops" or case.flow is None:
            continue
        answered = Flow.model_validate(case.flow)
        assert add_id_look_ups(answered, SECOPS)[1] == [], case.id


ITSM = load_catalog(catalogs()["acme-itsm"])


@pytest.mark.unit
def test_a_copy_of_attachments_lists_them_first_and_loops_over_them() -> None:
    """itsm-dev-032 with adapter v11: `copy_attachment | copy any attachments from its
    parent incident onto it` alone, with no attachment to pass it."""
    answered = Flow.model_validate(
        flow(
            step(1, "copy_attachment", annotation="copy any attachments from its parent"),
            trigger=("record_create", {"table": "incident"}),
        )
    )
    listed, added = add_list_sources(answered, ITSM)
    assert added == ["1: get_attachments_on_record for copy_attachment"]
    assert [(c.order, c.block, c.definition) for c in listed.components] == [
        (1, None, "get_attachments_on_record"),
        (2, None, "FOREACH"),
        (3, 2, "copy_attachment"),
    ]
    assert add_list_sources(listed, ITSM) == (listed, [])
    copier = ITSM.step("copy_attachment")
    lister = list_source(copier, ITSM) if copier else None
    assert lister is not None and lister.name == "get_attachments_on_record"


@pytest.mark.unit
def test_every_gold_copy_of_attachments_lists_them_first() -> None:
    """5 hand-written train and dev flows copy attachments, each after listing them and
    inside a loop over them; the rule changes no hand-written or synthetic gold flow."""
    copies = sum(c["definition"] == "copy_attachment" for _, c in gold_steps("handwritten"))
    assert copies >= 5
    for case in gold_cases("handwritten", "synthetic"):
        catalog = load_catalog(catalogs()[case.installation])
        assert add_list_sources(Flow.model_validate(case.flow), catalog)[1] == [], case.id
