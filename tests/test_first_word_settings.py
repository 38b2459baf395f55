"""A record trigger's condition gets the choices its span names by the first word of a
longer label (graph/choice_grounding.py's `first_word_settings`): "an IP observable" is
`type=ip` (IP address), "a damaged-item RMA" `reason=damaged` (Damaged in transit).
Checked on the shipped catalogs and on the gold record triggers of train and dev."""

from __future__ import annotations

import pytest
from flows import gold_cases, inputs_of, query_rule, shipped_catalogs

from flowgen.flow.catalog import Column
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.graph.choice_grounding import QueryRule, add_named_settings, add_named_terms

RECORD_TRIGGERS = ("record_update", "record_create")


def _trigger_rule(kind: str) -> QueryRule:
    """`add_named_terms` for a trigger of `kind`, as a rule on one query."""

    def rule(
        query: str | None, table: str, label: str | None, span: str, columns: list[Column]
    ) -> str | None:
        return add_named_terms(query, kind, table, label, span, columns)

    return rule


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "table", "kind", "span", "query", "grounded"),
    [
        (
            "initech-secops",
            "sn_ti_observable",
            "record_update",
            "When an IP observable is found malicious",
            "findingCHANGESTOmalicious",
            "findingCHANGESTOmalicious^type=ip",
        ),
        (
            "globex-csm",
            "x_globex_rma",
            "record_update",
            "When a damaged-item RMA gets refunded",
            "rma_stateCHANGESTOrefunded",
            "rma_stateCHANGESTOrefunded^reason=damaged",
        ),
        # a word another label holds too names neither: Pending is the state's whole label
        (
            "acme-itsm",
            "sc_request",
            "record_update",
            "When a request goes to Pending",
            "stateCHANGESTO-5",
            "stateCHANGESTO-5",
        ),
        # "very" opens Very High and says nothing alone
        (
            "acme-itsm",
            "change_request",
            "record_update",
            "When a very risky change moves to Implement",
            "stateCHANGESTO-1",
            "stateCHANGESTO-1",
        ),
        # an update trigger without its change: the named setting may be the change
        (
            "initech-secops",
            "sn_ti_observable",
            "record_update",
            "When an IP observable is found malicious",
            None,
            None,
        ),
    ],
)
def test_a_trigger_gets_the_choice_the_first_word_of_its_label_names(
    installation: str, table: str, kind: str, span: str, query: str | None, grounded: str | None
) -> None:
    assert query_rule(_trigger_rule(kind), installation, table, span, query) == grounded


@pytest.mark.unit
def test_steps_do_not_take_first_words() -> None:
    """Look-ups and updates keep the whole-label rule: no look-up on dev's shipped flows
    had a first-word setting to gain."""
    span = "find the IP observables on the incident"
    assert query_rule(add_named_settings, "initech-secops", "sn_ti_observable", span, None) is None


def _with_and_without(
    query: str | None, table: str, label: str | None, span: str, columns: list[Column]
) -> tuple[str | None, str | None]:
    """`add_named_settings` on a record trigger's condition without and with first words."""
    return (
        add_named_settings(query, table, label, span, columns),
        add_named_settings(query, table, label, span, columns, first_words=True),
    )


@pytest.mark.unit
def test_gold_trigger_conditions_keep_their_terms() -> None:
    """On the gold record triggers of train and dev no condition changes; with one term
    left out, the rule writes the condition back whole 7 times for hand-written ones and
    gets none wrong (the risk "High or Very High", written `risk<=2`, had been given back
    as Very High's value before "very" became a word that opens no label)."""
    catalogs = shipped_catalogs()
    changed = recovered = wrong = 0
    for case in gold_cases("handwritten", "synthetic"):
        trigger = (case.flow or {}).get("trigger") or {}
        inputs = inputs_of(trigger)
        catalog = catalogs.get(case.installation)
        table = inputs.get("table")
        if catalog is None or not table or trigger.get("type") not in RECORD_TRIGGERS:
            continue
        about = catalog.table(table)
        if about is None:
            continue
        where = (table, about.label, trigger.get("annotation") or "", catalog.columns(table))
        query = inputs.get("condition")
        before, after = _with_and_without(query, *where)
        changed += before != after
        terms = parse_query(query) if query else []
        if not terms or any(t.field is None for t in terms):
            continue
        for left_out in range(len(terms)):
            rest = join_parts([(t.connector, t.raw) for i, t in enumerate(terms) if i != left_out])
            before, after = _with_and_without(rest, *where)
            if before != after:
                whole = {t.raw for t in parse_query(after or "")} == {t.raw for t in terms}
                recovered += whole
                wrong += not whole
    assert changed == 0
    assert recovered >= 7 and wrong == 0
