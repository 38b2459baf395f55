"""A record trigger's condition drawn again when the greedy one names nothing the words
say.

The small model's greedy condition is sometimes a test it saw often in training on a field
the trigger's words never mention: `activeCHANGESTOtrue` for "acct country changed to
France", `dept_headCHANGES^dept_headISNOTEMPTY` for "when a user's department changes to
Platform". Its sampled answers often hold the test the words say (`countryCHANGESTOFrance`),
so where no term of the greedy condition is named by the span and at least one is not
(graph/unnamed_terms.py, `named_terms`), `TRIGGER_SAMPLES` answers are sampled on the same
conversation (its prompt is already processed: each costs only its ~20 decoded tokens) and
settled by the same rules as the greedy one. The sample kept is the one given most often
among those whose every term the words name, on the greedy answer's table or on one the
words name; where there is none the greedy answer stays. A term on a system field
(`sys_created_onLIKEadmin` for "sec inc created") or with a text the words never say
(`assigned_toLIKEadmin` for "When an access review is assigned") is named by the event's
verb alone, and such a sample is not kept. A true or false field said with its negation
("becomes inactive", "is deactivated") is named: `activeCHANGESTOfalse` is what the words
say, and draws nothing.

Measured (issue 19, fifty-third session; docs/results.md): on the 195 rephrased train
cases the greedy condition names nothing in 30 of the 169 trigger answers the model wrote,
a sample is kept in 10, and full FlowSim gains +0.0027 a flow from them; on dev's 184, 2
kept of 19 drawn.
Each drawing costs about 0.5 s. Without the gate a majority vote over the greedy answer
and the samples scored below the greedy answer alone.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from flowgen.flow.catalog import CatalogView
from flowgen.flow.encoded_query import Term, parse_query
from flowgen.flow.model import FlowInput
from flowgen.graph.choice_grounding import ColumnsOf, field_column, stems, table_words
from flowgen.graph.unnamed_terms import NO_EVIDENCE, field_words, named_terms

TRIGGER_SAMPLES = 5


def _table_and_terms(inputs: Sequence[FlowInput]) -> tuple[str, list[Term]]:
    """A record trigger's table and the field terms of its condition."""
    values = {i.name: i.value for i in inputs}
    table, condition = values.get("table") or "", values.get("condition") or ""
    return table, [t for t in parse_query(condition) if t.field] if condition else []


def _named(
    inputs: Sequence[FlowInput], annotation: str, catalog: CatalogView, columns_of: ColumnsOf
) -> tuple[int, int, str]:
    """How many terms of the trigger's condition `annotation` names, how many it does not,
    and the table."""
    table, terms = _table_and_terms(inputs)
    if not table or not terms:
        return 0, 0, table
    about = catalog.table(table)
    named = named_terms(terms, table, annotation, columns_of, about.label if about else None)
    named = [
        n or _said_negated(table, t.field or "", annotation, columns_of)
        for t, n in zip(terms, named, strict=True)
    ]
    return sum(named), len(named) - sum(named), table


# "inactive", "deactivated", "unlocked": a true or false field said with its negation.
_NEGATED = re.compile(r"\b(?:in|de|un|non-?|dis)([a-z]{4,})", re.I)


def _said_negated(table: str, field: str, annotation: str, columns_of: ColumnsOf) -> bool:
    """Whether the words say a true-or-false field negated ("becomes inactive" says
    `active`), which a word-for-word match misses."""
    column = field_column(table, field, columns_of)
    if column is None or column.type != "boolean":
        return False
    negated = [m.group(1).lower() for m in _NEGATED.finditer(annotation)]
    own = field_words(field, column) - NO_EVIDENCE
    return any(len(w) >= 4 and word.startswith(w) for w in own for word in negated)


def names_nothing(
    inputs: Sequence[FlowInput], annotation: str, catalog: CatalogView, columns_of: ColumnsOf
) -> bool:
    """Whether a record trigger's condition has terms and the words name none of them."""
    named, unnamed, _ = _named(inputs, annotation, catalog, columns_of)
    return named == 0 and unnamed > 0


# Operators whose term holds no value to be said.
_NO_VALUE = frozenset({"ISEMPTY", "ISNOTEMPTY", "CHANGES"})
# Columns whose value is said in other words ("inactive", "twice"); a choice's value is
# said by its label and is left alone as well. unnamed_terms has a wider set for its own
# question (which changed-to values the words may leave unsaid).
_SAID_AS_A_STATE_OR_NUMBER = frozenset({"boolean", "integer"})


def _said_plainly(inputs: Sequence[FlowInput], annotation: str, columns_of: ColumnsOf) -> bool:
    """Whether no term of the condition is on a system field or holds a text value the
    words never say."""
    table, terms = _table_and_terms(inputs)
    said = set(stems(annotation))
    for term in terms:
        field = term.field or ""
        if field.startswith("sys_"):
            return False
        column = field_column(table, field, columns_of)
        literal = term.value and "{{" not in term.value and term.operator not in _NO_VALUE
        if (
            literal
            and column is not None
            and not column.choices
            and column.type not in _SAID_AS_A_STATE_OR_NUMBER
            and not set(stems(term.value)) & said
        ):
            return False
    return True


def _table_named(table: str, annotation: str, catalog: CatalogView) -> bool:
    about = catalog.table(table)
    return bool(table_words(table, about.label if about else None) & set(stems(annotation)))


def chosen_sample(
    greedy: Sequence[FlowInput],
    samples: Sequence[Sequence[FlowInput]],
    annotation: str,
    catalog: CatalogView,
    columns_of: ColumnsOf,
) -> list[FlowInput] | None:
    """The sample to keep in place of `greedy` (see above), or None."""
    table = {i.name: i.value for i in greedy}.get("table")
    kept: list[list[FlowInput]] = []
    for sample in samples:
        named, unnamed, its_table = _named(sample, annotation, catalog, columns_of)
        if (
            named
            and not unnamed
            and (its_table == table or _table_named(its_table, annotation, catalog))
            and _said_plainly(sample, annotation, columns_of)
        ):
            kept.append(list(sample))
    if not kept:
        return None
    keys = [tuple((i.name, i.value) for i in sample) for sample in kept]
    votes = Counter(keys)
    return kept[max(range(len(kept)), key=lambda k: (votes[keys[k]], -k))]
