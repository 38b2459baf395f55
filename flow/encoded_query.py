"""ServiceNow encoded queries (`active=true^priority<=2^ORurgency=1`), split into terms.

Used for trigger and step conditions, `values`/`field_values` of create and update
steps, by the validator (fields and choice values must exist) and by FlowSim (queries
are decomposed into field/operator/value subtrees).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Inputs holding encoded queries (spec §4): conditions, and the field values a step sets.
CONDITION_INPUTS = frozenset({"condition", "conditions", "email_conditions"})
VALUE_INPUTS = frozenset({"values", "fields", "field_values"})
QUERY_INPUTS = CONDITION_INPUTS | VALUE_INPUTS

# Longest first, so `<=` wins over `<` and `CHANGESTO` over `CHANGES`.
OPERATORS: tuple[str, ...] = tuple(
    sorted(
        {
            "=",
            "!=",
            "<",
            "<=",
            ">",
            ">=",
            "IN",
            "NOT IN",
            "LIKE",
            "NOT LIKE",
            "STARTSWITH",
            "ENDSWITH",
            "ISEMPTY",
            "ISNOTEMPTY",
            "ANYTHING",
            "EMPTYSTRING",
            "CHANGES",
            "CHANGESTO",
            "CHANGESFROM",
            "VALCHANGES",
            "BETWEEN",
            "SAMEAS",
            "NSAMEAS",
            "INSTANCEOF",
            "DYNAMIC",
            "ON",
            "NOTON",
            "DATEPART",
            "RELATIVEGT",
            "RELATIVELT",
            "MORETHAN",
            "LESSTHAN",
            "GT_FIELD",
            "LT_FIELD",
            "GT_OR_EQUALS_FIELD",
            "LT_OR_EQUALS_FIELD",
        },
        key=len,
        reverse=True,
    )
)
# Operators whose value is a stored choice value (or a comma-separated list of them).
VALUE_OPERATORS = frozenset({"=", "!=", "IN", "NOT IN", "CHANGESTO", "CHANGESFROM"})
# Query parts that are not `field<OP>value` terms but are legal in an encoded query.
DIRECTIVES = re.compile(r"^(EQ|ORDERBY(DESC)?[a-z0-9_.]+|GROUPBY[a-z0-9_.]+)$")

# `^ORpriority=1` is an OR term but `^ORDERBYnumber` is an AND-ed directive: OR and NQ
# are connectors only when a field (lowercase) or a pill follows.
_CONNECTOR = re.compile(r"\^(OR|NQ)(?=[a-z0-9_{])|\^")
_TERM = re.compile(
    r"^(?P<field>\{\{[^{}]*\}\}|[a-z0-9_]+(?:\.[a-z0-9_]+)*)"
    r"(?P<op>" + "|".join(re.escape(op) for op in OPERATORS) + r")"
    r"(?P<value>.*)$",
    re.DOTALL,
)


@dataclass(frozen=True)
class Term:
    connector: str  # "AND" for the first term and `^`, else "OR" or "NQ"
    field: str | None  # None when the part is not a `field<OP>value` term
    operator: str | None
    value: str
    raw: str

    @property
    def is_directive(self) -> bool:
        return self.field is None and bool(DIRECTIVES.match(self.raw))


def split_parts(query: str) -> list[tuple[str, str]]:
    """`a=1^ORb=2` -> [("AND", "a=1"), ("OR", "b=2")]; empty parts are dropped."""
    parts: list[tuple[str, str]] = []
    connector, start = "AND", 0
    for m in _CONNECTOR.finditer(query):
        if _inside_pill(query, m.start()):
            continue
        parts.append((connector, query[start : m.start()]))
        connector, start = (m.group(1) or "AND"), m.end()
    parts.append((connector, query[start:]))
    return [(c, p) for c, p in parts if p]


def join_parts(parts: list[tuple[str, str]]) -> str:
    """The inverse of `split_parts`: [("AND", "a=1"), ("OR", "b=2")] -> `a=1^ORb=2`."""
    query = ""
    for connector, part in parts:
        query += part if not query else ("^" if connector == "AND" else f"^{connector}") + part
    return query


def _inside_pill(text: str, pos: int) -> bool:
    return text.rfind("{{", 0, pos) > text.rfind("}}", 0, pos)


def parse_query(query: str) -> list[Term]:
    terms = []
    for connector, part in split_parts(query):
        m = _TERM.match(part)
        if m:
            terms.append(Term(connector, m["field"], m["op"], m["value"], part))
        else:
            terms.append(Term(connector, None, None, "", part))
    return terms
