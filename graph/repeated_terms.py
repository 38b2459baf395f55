"""Encoded queries without repeated terms.

The small model sometimes loops inside a query: `active=true^active=true^active=true`,
`short_description={{trigger.current.short_description}}` set four times in one
`values`. A term ANDed (or ORed) with itself changes nothing, and a field set twice in
`values` keeps only one value, so the copies say nothing but cost FlowSim a node each.
None of the 8,750 queries in the train, dev, test and ood gold flows repeats a term or
sets a field twice; 22 of test's 189 generated flows did (86 copies).

An emptiness test ANDed with a test of the same field's value says nothing more either
(`u_verdictCHANGESTOphishing^u_verdictISNOTEMPTY`): no condition of the train and dev
gold flows has one; 3 of dev's 184 generated flows did (thirty-third session).
"""

from __future__ import annotations

from flowgen.flow.encoded_query import QUERY_INPUTS, VALUE_INPUTS, Term, join_parts, parse_query
from flowgen.flow.model import FlowInput


def drop_repeated_terms(inputs: list[FlowInput]) -> tuple[list[FlowInput], list[str]]:
    """`inputs` with each query's repeated terms dropped, the first kept (and in
    `values`, a field's later assignments); and the terms dropped, for the trace."""
    kept_inputs: list[FlowInput] = []
    dropped: list[str] = []
    for given in inputs:
        if given.name not in QUERY_INPUTS:
            kept_inputs.append(given)
            continue
        terms = parse_query(given.value)
        seen: set[tuple[str, str]] = set()
        fields: set[str] = set()
        parts: list[tuple[str, str]] = []
        for term in terms:
            assigned = given.name in VALUE_INPUTS and term.field is not None
            if (term.connector, term.raw) in seen or (assigned and term.field in fields):
                dropped.append(f"{given.name}: {term.raw}")
                continue
            seen.add((term.connector, term.raw))
            if assigned:
                fields.add(str(term.field))
            parts.append((term.connector, term.raw))
        if given.name not in VALUE_INPUTS:
            implied = _implied_emptiness(terms)
            dropped += [f"{given.name}: {raw}" for raw in implied]
            parts = [p for p in parts if p[1] not in implied]
        value = join_parts(parts) if len(parts) < len(terms) else given.value
        kept_inputs.append(given.model_copy(update={"value": value}))
    return kept_inputs, dropped


# Tests that give a field a value, so that it is not empty.
_VALUED = frozenset(
    {"=", "CHANGESTO", "IN", "LIKE", "STARTSWITH", "ENDSWITH", ">", ">=", "<", "<="}
)


def _implied_emptiness(terms: list[Term]) -> set[str]:
    """The `<field>ISNOTEMPTY` terms of an all-AND condition whose field another term
    tests against a value."""
    if any(t.connector != "AND" for t in terms):
        return set()
    valued = {t.field for t in terms if t.operator in _VALUED and t.value}
    return {t.raw for t in terms if t.operator == "ISNOTEMPTY" and t.field in valued}
