"""The change operators of a record trigger's condition, set by what the trigger is.

A record_update flow runs on every update of a record that matches its condition: with
`u_verdict=phishing` it runs again at each later edit of a phishing report, which is
never what "when a report's verdict is set to phishing" asks; the change is
`u_verdictCHANGESTOphishing`. A record_create flow runs once, on insert, where nothing
"changes to" anything: `attack_vectorCHANGESTOweb` there means `attack_vector=web`. The
corpus agrees: of 796 record_update conditions in train, 795 name a change (CHANGESTO,
CHANGESFROM or CHANGES), and none of 566 record_create conditions does. The small model
mixes them up (13 of dev's 124 flows); the operator is set here, the field and value
kept. Replayed over those flows: 8 closer to gold, 1 further (docs/results.md).
"""

from __future__ import annotations

from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.flow.model import FlowInput

CHANGE_OPERATORS = ("CHANGESTO", "CHANGESFROM", "CHANGES")


def settle_change_operators(
    trigger: str | None, inputs: list[FlowInput]
) -> tuple[list[FlowInput], str | None]:
    """The trigger's inputs with its condition's operators set (see above), and the
    change made (for the trace) as `old -> new`, or None."""
    settled: list[FlowInput] = []
    change = None
    for given in inputs:
        value = given.value
        if given.name == "condition":
            value = _settled(trigger, value)
            if value != given.value:
                change = f"{given.value} -> {value}"
        settled.append(given.model_copy(update={"value": value}))
    return settled, change


def _settled(trigger: str | None, query: str) -> str:
    terms = parse_query(query)
    parts = [term.raw for term in terms]
    if trigger == "record_create":
        parts = [
            f"{t.field}={t.value}" if t.operator == "CHANGESTO" and t.value else t.raw
            for t in terms
        ]
    elif trigger == "record_update" and not any(t.operator in CHANGE_OPERATORS for t in terms):
        # the first plain `field=value` is the change meant ("is set to", "becomes")
        first = next(
            (
                i
                for i, t in enumerate(terms)
                if t.operator == "=" and t.field and "{{" not in t.field + t.value and t.value
            ),
            None,
        )
        if first is not None:
            term = terms[first]
            parts[first] = f"{term.field}CHANGESTO{term.value}"
    if parts == [term.raw for term in terms]:
        return query
    return join_parts([(t.connector, part) for t, part in zip(terms, parts, strict=True)])
