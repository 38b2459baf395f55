"""Building EBNF grammars (xgrammar's dialect, root rule `root`) from what retrieval offered.

The grammar of a call lists exactly the names the installation has and retrieval
suggested, so the output can only name those: trigger and step names for an outline;
for a step's inputs, its declared input names, and per input the tables, columns, choice
values or data pills that are valid there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal


def literal(text: str) -> str:
    """An EBNF string literal (JSON escaping is what xgrammar's parser reads)."""
    return json.dumps(text, ensure_ascii=False)


def one_of(options: Iterable[str]) -> str:
    """Alternatives of literals, longest first; `options` must not be empty."""
    unique = sorted(set(options), key=lambda s: (-len(s), s))
    if not unique:
        raise ValueError("a choice needs at least one option")
    return "(" + " | ".join(literal(o) for o in unique) + ")"


# Free text on one line. Braces are excluded: a data pill can only be one of those offered.
TEXT = r"[^\n{}]*"
QUERY_TEXT = r"[^\n^{}]*"  # also no `^`, which separates query terms
OPERATORS = ["=", "!=", "<", "<=", ">", ">=", "LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH"]
CHOICE_OPERATORS = ["=", "!=", "CHANGESTO", "CHANGESFROM"]
LIST_OPERATORS = ["IN", "NOT IN"]
UNARY_OPERATORS = ["ISEMPTY", "ISNOTEMPTY", "CHANGES"]


@dataclass
class InputSpec:
    """What may follow `name = ` on one input line.

    kind: `options` (exactly one of `options`: tables, choice values), `pills` (one of
    `pills`), `query` (an encoded query over `fields`; choice fields take their stored
    values from `choices_by_field`, others free text or a pill) or `text` (free text
    with pills)."""

    name: str
    kind: Literal["options", "pills", "query", "text"]
    options: list[str] = field(default_factory=list)
    pills: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    choices_by_field: dict[str, list[str]] = field(default_factory=dict)


def inputs_grammar(inputs: list[InputSpec]) -> str:
    """`name = value` lines, each input at most once, in declaration order."""
    rules: list[str] = []
    lines = []
    for i, spec in enumerate(inputs):
        rules.append(f"v{i} ::= {_value_rule(spec, i, rules)}")
        lines.append(f'({literal(spec.name + " = ")} v{i} "\\n")?')
    root = "root ::= " + (" ".join(lines) if lines else '""')
    return "\n".join([root, *rules])


def _value_rule(spec: InputSpec, i: int, rules: list[str]) -> str:
    pill = f'("{{{{" {one_of(spec.pills)} "}}}}")' if spec.pills else None
    if spec.kind == "options":
        return one_of(spec.options) if spec.options else TEXT
    if spec.kind == "pills":
        return pill or TEXT
    if spec.kind == "text":
        if pill is None:
            return TEXT
        rules.append(f"t{i} ::= {TEXT}")
        return f"(t{i} ({pill} t{i})*)"
    rules.append(f"q{i}value ::= {QUERY_TEXT}" + (f" | {pill}" if pill else ""))
    terms = []
    for name, values in sorted(spec.choices_by_field.items()):
        one = one_of(values)
        terms.append(f"({literal(name)} {one_of(CHOICE_OPERATORS)} {one})")
        terms.append(f'({literal(name)} {one_of(LIST_OPERATORS)} {one} ("," {one})*)')
    other = [f for f in spec.fields if f not in spec.choices_by_field]
    field_rule = one_of(other) if other else ("[a-z0-9_.]+" if not spec.fields else None)
    if field_rule:
        terms.append(f"({field_rule} {one_of(OPERATORS)} q{i}value)")
    any_field = one_of(spec.fields) if spec.fields else "[a-z0-9_.]+"
    terms.append(f"({any_field} {one_of(UNARY_OPERATORS)})")
    rules.append(f"q{i}term ::= " + " | ".join(terms))
    return f'(q{i}term ("^" "OR"? q{i}term)*)'


def span_rules(requirement: str, name: str = "span") -> list[str]:
    """Rules matching exactly the contiguous stretches of `requirement`'s tokens (words and
    punctuation marks, with the original spacing between them): an annotation is a span of
    the requirement by construction. One rule per token keeps the grammar linear in size."""
    tokens = list(re.finditer(r"\w+|[^\w\s]", requirement))
    if not tokens:
        return [f"{name} ::= {TEXT}"]
    rules = []
    for i, token in enumerate(tokens):
        rest = ""
        if i + 1 < len(tokens):
            gap = requirement[token.end() : tokens[i + 1].start()]
            gap = " " if gap and gap.isspace() else gap  # newlines become one space
            rest = f" ({literal(gap)} {name}_{i + 1})?" if gap else f" ({name}_{i + 1})?"
        rules.append(f"{name}_{i} ::= {literal(token.group())}{rest}")
    starts = " | ".join(f"{name}_{i}" for i in range(len(tokens)))
    return [f"{name} ::= {starts}", *rules]


def outline_grammar(
    triggers: list[str],
    steps: list[str],
    flow_logic: list[str],
    max_depth: int = 3,
    requirement: str | None = None,
) -> str:
    """A refusal line, or a trigger line then indented step lines, each with ` | span`.

        T record_update | Every time a user becomes inactive
        - look_up_records | find all incidents assigned to them
        - FOREACH | find all incidents
          - update_record | assign them to their manager

    With `requirement`, every annotation must be a span of it.
    """
    names = one_of([*steps, *flow_logic])
    annotation = span_rules(requirement, "ann") if requirement else [f"ann ::= {TEXT}"]
    rules = [
        "root ::= refusal | flow",
        f'refusal ::= "REFUSE | " {TEXT} "\\n"',
        f'flow ::= "T " {one_of(triggers) if triggers else literal("none")} span item+',
        'span ::= " | " ann "\\n"',
        f"name ::= {names}",
        "item ::= " + " | ".join(f'"{"  " * d}- " name span' for d in range(max_depth + 1)),
        *annotation,
    ]
    return "\n".join(rules)
