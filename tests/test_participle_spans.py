"""A step's span that is only a passive clause's participle takes the clause
(graph/participle_spans.py)."""

from __future__ import annotations

from flows import flow, gold_cases, step

from flowgen.flow.model import Flow
from flowgen.graph.participle_spans import widen_participle_spans

SPEC = (
    "Upon creation of a priority 1 incident, two activities are to be carried out. On the"
    " one hand, a Slack war room channel is to be created bearing the incident number, and"
    " the short description is to be posted there. On the other hand, the on-call engineer"
    " is to be paged."
)


def _outline(*steps: dict) -> Flow:
    trigger = ("record_create", {"table": "incident"})
    return Flow.model_validate(
        flow(*steps, trigger=trigger, annotation="Upon creation of a priority 1 incident")
    )


def test_a_participle_span_takes_its_clause() -> None:
    written = _outline(
        step(1, "create_channel", annotation="created"),
        step(2, "post_message", annotation="posted there"),
        step(3, "create_pagerduty_incident", annotation="the on-call engineer is to be paged"),
    )
    new, changed = widen_participle_spans(written, SPEC)
    assert [c.annotation for c in new.components] == [
        "a Slack war room channel is to be created bearing the incident number",
        "the short description is to be posted there",
        "the on-call engineer is to be paged",
    ]
    assert len(changed) == 2


def test_what_it_leaves_alone() -> None:
    # an active verb, and a participle with no auxiliary before it
    active = "When a case closes, email the contact and post it to Slack; linked records stay."
    written = _outline(
        step(1, "send_email", annotation="email the contact"),
        step(2, "post_message", annotation="linked records"),
    )
    assert widen_participle_spans(written, active)[1] == []
    # a clause holding another step's span
    shared = "A channel is to be created and the team invited to it, then it is posted."
    both = _outline(
        step(1, "create_channel", annotation="created"),
        step(2, "invite_users_to_channel", annotation="the team invited to it"),
    )
    assert widen_participle_spans(both, shared)[1] == []


def test_gold_spans_barely_change() -> None:
    """The hand-written and synthetic train and dev gold flows: a handful of spans at most."""
    changed = [
        case.id
        for case in gold_cases("handwritten", "synthetic")
        if widen_participle_spans(Flow.model_validate(case.flow), case.requirement)[1]
    ]
    assert len(changed) <= 5, changed
