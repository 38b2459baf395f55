"""A setting of the record one reference away, named by its label
(graph/referenced_settings.py): on the shipped catalogs and on the gold conditions."""

from __future__ import annotations

import pytest
from flows import gold_cases, shipped_catalogs

from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.graph.referenced_settings import add_referenced_settings

CATALOGS = shipped_catalogs()
CASE = "sn_customerservice_case"


def _added(installation: str, table: str, span: str, query: str | None) -> str | None:
    catalog = CATALOGS[installation]
    about = catalog.table(table)
    assert about is not None
    words = f"{table} {about.label or ''} {about.description or ''}"
    return add_referenced_settings(query, table, words, span, catalog.columns)


@pytest.mark.unit
@pytest.mark.parametrize(
    ("installation", "table", "span", "query", "added"),
    [
        (
            "globex-csm",
            CASE,
            "whenever the sentiment on a platinum account's case turns negative",
            "sentimentCHANGESTOnegative",
            "sentimentCHANGESTOnegative^account.customer_tier=platinum",
        ),
        (
            "globex-csm",
            CASE,
            "When a case comes in by email from a contact who prefers WhatsApp",
            "channel=email",
            "channel=email^contact.preferred_channel=whatsapp",
        ),
        # tested already: nothing to add
        (
            "globex-csm",
            CASE,
            "When a gold or platinum case closes",
            "stateCHANGESTO3^account.customer_tierINgold,platinum",
            None,
        ),
        # the table's own words ("a phishing email" is the report itself)
        (
            "initech-secops",
            "u_phishing_report",
            "When somebody reports a phishing email",
            "u_security_incidentISNOTEMPTY",
            None,
        ),
        # another record's state, or a label inside a longer one, is no qualifier
        (
            "acme-itsm",
            "sc_task",
            "Every time a catalog task moves to Closed Complete",
            "stateCHANGESTO3",
            None,
        ),
    ],
)
def test_a_setting_one_reference_away(
    installation: str, table: str, span: str, query: str, added: str | None
) -> None:
    assert _added(installation, table, span, query) == added


@pytest.mark.unit
def test_gold_conditions_get_their_referenced_setting_back_and_no_other() -> None:
    """Each `reference.column=value` term of the hand-written gold record triggers left
    out in turn: most come back, none as another term; an intact condition gets none."""
    left = back = wrong = intact = 0
    for case in gold_cases("handwritten"):
        trigger = (case.flow or {}).get("trigger") or {}
        if case.installation not in CATALOGS:
            continue
        if not str(trigger.get("type", "")).startswith("record_"):
            continue
        values = {i["name"]: i["value"] for i in trigger.get("inputs", [])}
        table, condition = values.get("table"), values.get("condition")
        if not table or not condition or CATALOGS[case.installation].table(table) is None:
            continue
        span = trigger.get("annotation") or ""
        intact += _added(case.installation, table, span, condition) is not None
        terms = parse_query(condition)
        for i, term in enumerate(terms):
            if not (term.field and "." in term.field and term.operator == "="):
                continue
            rest = join_parts([(t.connector, t.raw) for j, t in enumerate(terms) if j != i])
            got = _added(case.installation, table, span, rest or None)
            left += 1
            back += bool(got) and term.raw in (got or "").split("^")
            wrong += bool(got) and term.raw not in (got or "").split("^")
    assert intact == 0
    assert wrong == 0
    assert left >= 20 and back / left > 0.5, (back, left)
