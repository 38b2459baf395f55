"""Dates the words give relative to today, on the date column they name
(graph/relative_dates.py): "opened more than 14 days ago" is
`opened_at<javascript:gs.daysAgoStart(14)`. Checked on the shipped catalogs and on the
gold look-ups and bulk updates of train and dev."""

from __future__ import annotations

import pytest
from flows import gold_steps, inputs_of, query_rule, shipped_catalogs

from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.graph.relative_dates import add_relative_date, said_when

CATALOGS = shipped_catalogs()
DATED_STEPS = (
    "look_up_records",
    "look_up_record",
    "update_multiple_records",
    "delete_multiple_records",
)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("span", "said"),
    [
        ("RMAs opened more than 14 days ago", ("<", "javascript:gs.daysAgoStart(14)")),
        ("closed more than seven years ago", ("<", "javascript:gs.daysAgoStart(2555)")),
        ("not updated in 2 weeks", ("<", "javascript:gs.daysAgoStart(14)")),
        ("users who hasnt logged in for 90 days", ("<", "javascript:gs.daysAgoStart(90)")),
        ("cases opened in the last 7 days", (">", "javascript:gs.daysAgoStart(7)")),
        ("not seen in the last 180 days", ("<", "javascript:gs.daysAgoStart(180)")),
        ("expires within the next 30 days", ("<", "javascript:gs.daysAgoEnd(-30)")),
        ("whose expiry date has passed", ("<", "javascript:gs.nowDateTime()")),
        # no relative date, or two of them: nothing said the rule can use
        ("find the open incidents", None),
        ("opened over 30 days ago and due in the next 7 days", None),
    ],
)
def test_the_words_give_an_age_a_horizon_or_a_date_gone_by(
    span: str, said: tuple[str, str] | None
) -> None:
    found = said_when(span)
    assert (found[:2] if found else None) == said


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "table", "span", "query", "dated"),
    [
        (
            "globex-csm",
            "x_globex_rma",
            "Find all RMAs still in the Requested state that were opened more than 14 days ago",
            "rma_state=requested",
            "rma_state=requested^opened_at<javascript:gs.daysAgoStart(14)",
        ),
        # the model's relative term on another date column gives way
        (
            "acme-itsm",
            "cmdb_ci_appl",
            "all applications whose end of support date falls within the next 90 days",
            "end_of_support={{trigger.run_start_time}}",
            "end_of_support<javascript:gs.daysAgoEnd(-90)",
        ),
        # how long a record has stayed as it is counts from its last update
        (
            "acme-itsm",
            "incident",
            "incidents on hold awaiting evidence for more than a week",
            "state=3",
            "state=3^sys_updated_on<javascript:gs.daysAgoStart(7)",
        ),
        # no date column named, or no relative date: left alone
        ("globex-csm", "x_globex_rma", "RMAs waiting more than 14 days", "active=true", None),
        ("acme-itsm", "incident", "look up their open incidents", "active=true", None),
    ],
)
def test_the_date_column_the_words_name_gets_the_term(
    installation: str, table: str, span: str, query: str | None, dated: str | None
) -> None:
    assert query_rule(add_relative_date, installation, table, span, query) == dated


@pytest.mark.unit
def test_gold_queries_get_their_dates_back_and_no_other_changes() -> None:
    """On the gold look-ups and bulk updates of the hand-written and synthetic train and
    dev flows (forty-second session): with their relative-date terms taken out, the rule
    writes 32 of 40 back exactly and 3 more with another script of the same date
    (`yearsAgoStart(7)`, `beginningOfToday()`); it adds a date to none of the 1,131
    without one."""
    back = same = added = 0
    for case, item in gold_steps("handwritten", "synthetic"):
        if item["definition"] not in DATED_STEPS:
            continue
        given = inputs_of(item)
        catalog = CATALOGS[case.installation]
        about = catalog.table(given.get("table") or given.get("table_name") or "")
        if about is None:
            continue
        query = given.get("conditions") or ""
        terms = parse_query(query) if query else []
        dated = [t for t in terms if "javascript:" in t.value]
        kept = join_parts([(t.connector, t.raw) for t in terms if t not in dated]) or None
        span, columns = item.get("annotation") or "", catalog.columns(about.name)
        found = add_relative_date(kept, about.name, about.label, span, columns)
        if not dated:
            added += found is not None
            continue
        if found is not None:
            back += 1
            same += {t.raw for t in parse_query(found)} == {t.raw for t in terms}
    assert added == 0
    assert back >= 35 and same >= 32
