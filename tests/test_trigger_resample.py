"""A record trigger's condition is sampled again only where the greedy one names nothing
the words say, and a sample is kept only where the words name all of it
(graph/trigger_resample.py), on the shipped catalogs."""

from __future__ import annotations

import pytest
from flows import replayed, updates_its_record

from flowgen.flow.catalog import load_catalog
from flowgen.flow.model import FlowInput
from flowgen.graph.trigger_resample import chosen_sample, names_nothing
from flowgen.shipped import catalogs

CATALOG = load_catalog(catalogs()["globex-csm"])
ACCOUNT = "customer_account"
SPAN = "acct country changed to France"


def trigger(table: str, condition: str | None) -> list[FlowInput]:
    inputs = [FlowInput(name="table", value=table)]
    return inputs + ([FlowInput(name="condition", value=condition)] if condition else [])


@pytest.mark.unit
@pytest.mark.parametrize(
    ("condition", "drawn_again"),
    [
        ("activeCHANGESTOtrue", True),  # a field the words never say
        ("countryCHANGESTOFrance", False),  # the field they say
        ("countryCHANGESTOGermany^activeCHANGESTOtrue", False),  # one term named is enough
        (None, False),  # no condition: nothing the model claimed
    ],
)
def test_only_a_condition_naming_nothing_is_drawn_again(
    condition: str | None, drawn_again: bool
) -> None:
    inputs = trigger(ACCOUNT, condition)
    assert names_nothing(inputs, SPAN, CATALOG, CATALOG.columns) is drawn_again


@pytest.mark.unit
def test_the_sample_kept_is_the_most_given_of_those_the_words_name_whole() -> None:
    greedy = trigger(ACCOUNT, "activeCHANGESTOtrue")
    samples = [
        trigger(ACCOUNT, "activeCHANGESTOfalse"),  # names nothing
        trigger(ACCOUNT, "countryCHANGESTOFrance^activeCHANGESTOtrue"),  # not whole
        trigger(ACCOUNT, "countryCHANGESTOGermany"),
        trigger(ACCOUNT, "countryCHANGESTOFrance"),
        trigger(ACCOUNT, "countryCHANGESTOFrance"),
    ]
    kept = chosen_sample(greedy, samples, SPAN, CATALOG, CATALOG.columns)
    assert kept == trigger(ACCOUNT, "countryCHANGESTOFrance")


@pytest.mark.unit
def test_a_sample_on_another_table_the_words_do_not_name_is_not_kept() -> None:
    greedy = trigger(ACCOUNT, "activeCHANGESTOtrue")
    samples = [trigger("customer_contact", "countryCHANGESTOFrance")]
    assert chosen_sample(greedy, samples, SPAN, CATALOG, CATALOG.columns) is None


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "greedy", "sample"),
    [
        # a text the words never say, on a field their event's verb names
        ("When an access review is assigned", "stateCHANGESTO7", "assigned_toLIKEadmin"),
        # a system field
        ("When an access review is created", "priority=1", "sys_created_onLIKEadmin"),
    ],
)
def test_a_sample_named_by_the_events_verb_alone_is_not_kept(
    span: str, greedy: str, sample: str
) -> None:
    secops = load_catalog(catalogs()["initech-secops"])
    review = "x_initech_access_review"
    assert names_nothing(trigger(review, greedy), span, secops, secops.columns)
    kept = chosen_sample(
        trigger(review, greedy), [trigger(review, sample)], span, secops, secops.columns
    )
    assert kept is None


@pytest.mark.unit
@pytest.mark.parametrize(
    "span", ["Every time a user becomes inactive", "When a user is deactivated"]
)
def test_a_true_or_false_field_said_negated_is_named(span: str) -> None:
    itsm = load_catalog(catalogs()["acme-itsm"])
    inputs = trigger("sys_user", "activeCHANGESTOfalse")
    assert not names_nothing(inputs, span, itsm, itsm.columns)


def test_samples_not_kept_leave_the_greedy_answer_in_the_engine_last(synced_store) -> None:
    """Through the graph: a condition naming nothing ("a VIP user raises an incident" as
    `priority=2`) draws five samples; none kept, the greedy answer is asked once more,
    so the engine's prefix cache holds it for the next item's call as without samples."""
    span = "Whenever a VIP user raises an incident"
    answered = updates_its_record(
        ("record_create", {"table": "incident", "condition": "priority=2"}),
        span,
        "bump it to priority 2",
        "priority=2",
    )
    _, replay = replayed(synced_store, answered, f"{span}, bump it to priority 2")
    calls = replay.requests
    asked = [i for i, r in enumerate(calls) if "## Trigger record_create" in r.messages[-1].content]
    assert [calls[i].seed for i in asked] == [None, 1, 2, 3, 4, 5, None]
    assert calls[asked[-1]].messages == calls[asked[0]].messages
    # The next item's call goes on from the greedy answer's conversation.
    following = calls[asked[-1] + 1]
    assert following.seed is None
    assert following.messages[: len(calls[asked[0]].messages)] == calls[asked[0]].messages
