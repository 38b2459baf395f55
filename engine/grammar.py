"""Building EBNF grammars (xgrammar's dialect, root rule `root`) from what retrieval offered.

vLLM reads them as written (its xgrammar backend); the embedded engines' matcher,
llguidance, reads them through `to_lark`.

The grammar of a call lists exactly the names the installation has and retrieval
suggested, so the output can only name those: trigger and step names for an outline;
for a step's inputs, its declared input names, and per input the tables, columns, choice
values or data pills that are valid there.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

from flowgen.flow.model import SUBFLOW_TABLE_TYPES, SUBFLOW_TYPES


def literal(text: str) -> str:
    """An EBNF string literal (JSON escaping is what xgrammar's parser reads)."""
    return json.dumps(text, ensure_ascii=False)


# In our grammars a token is a string literal or a character class with its repetition;
# rule names, parentheses and the operators `| * + ?` read the same in Lark.
_GBNF_TERMINAL = re.compile(r'"(?:[^"\\]|\\.)*"|\[(?:[^\]\\]|\\.)*\](?:[*+?]|\{\d*,?\d*\})?')
_GBNF_RULE = re.compile(r"^(\w+) ::= ", re.MULTILINE)


def to_lark(grammar: str) -> str:
    """One of our grammars in the Lark dialect llguidance reads (the embedded engines'
    matcher). Written for the grammars this module builds, not for any GBNF: `name ::=`
    becomes `name:` (`root` is Lark's `start`), and a character class with its repetition
    becomes one regular expression, so free text is one lexeme, not a rule per character.
    llguidance's own general converter takes ~20 ms for a flow call's grammar in Python;
    this takes well under one (`tests/test_grammar.py` checks both accept the same)."""

    def terminal(match: re.Match[str]) -> str:
        token = match.group()
        return token if token[0] == '"' else "/" + token.replace("/", "\\/") + "/"

    def rule(match: re.Match[str]) -> str:
        name = match.group(1)
        return ("start" if name == "root" else name) + ": "

    return _GBNF_RULE.sub(rule, _GBNF_TERMINAL.sub(terminal, grammar))


def one_of(options: Iterable[str]) -> str:
    """Alternatives of literals, longest first; `options` must not be empty."""
    unique = sorted(set(options), key=lambda s: (-len(s), s))
    if not unique:
        raise ValueError("a choice needs at least one option")
    return "(" + " | ".join(literal(o) for o in unique) + ")"


# Free text on one line. Braces are excluded: a data pill can only be one of those offered.
TEXT = r"[^\n{}]*"
QUERY_TEXT = r"[^\n^{}]*"  # also no `^`, which separates query terms
# What an address input is: an email address (Send Email's recipients) or a phone number
# (Send SMS, WhatsApp).
AddressKind = Literal["email", "phone"]
# One literal address of each kind, bounded: free to write letters, a small model can go
# on without ever writing the `@` (test's soc-test-043 ran into the token limit).
ADDRESS_TEXT: dict[AddressKind, str] = {
    "email": '[A-Za-z0-9._%+-]{1,64} "@" [A-Za-z0-9.-]{1,64}',
    "phone": '"+"? [0-9] [0-9-]{5,19}',
}
OPERATORS = [
    *("=", "!=", "<", "<=", ">", ">=", "LIKE", "NOT LIKE", "STARTSWITH", "ENDSWITH"),
    *("CHANGESTO", "CHANGESFROM"),  # record-trigger conditions, e.g. activeCHANGESTOfalse
]
CHOICE_OPERATORS = ["=", "!=", "CHANGESTO", "CHANGESFROM"]
LIST_OPERATORS = ["IN", "NOT IN"]
UNARY_OPERATORS = ["ISEMPTY", "ISNOTEMPTY", "CHANGES"]
# Hand-written and synthetic conditions have at most 5 terms. Without a cap a small model
# can repeat `active=true^active=true^...` until its token budget ends, and the cut line
# is lost (an IF without its condition); the cap makes it end the line instead.
MAX_QUERY_TERMS = 6


# Flow logic without children, offered among the steps (PATH only inside PARALLEL and
# ASSIGNSUBFLOWOUTPUTS only in subflows are left out: they have rules of their own).
LEAF_LOGIC = ("WAITFORDURATION", "SETFLOWVARIABLES", "GOBACKTO", "ENDFLOW")
SUBFLOW_LOGIC = "ASSIGNSUBFLOWOUTPUTS"
# A subflow declares at most this many inputs and as many outputs (hand-written: 1-3).
MAX_DECLARATIONS = 8


@dataclass
class InputSpec:
    """What may follow `name = ` on one input line.

    kind: `options` (exactly one of `options`: tables, choice values), `pills` (one data
    pill), `query` (an encoded query over `fields`; choice fields take their stored values
    from `choices_by_field`; a reference field in `walks` may be dot-walked one hop, as in
    `caller_id.vip=true`; with no fields and a pill space, the fields are data pills, as
    in an IF condition), `text` (free text with pills) or `address` (an address of kind
    `address`, an email address or a phone number: a pill whose last field holds one, or
    a literal address; free text where no pill in scope ends at such an address).
    `records` asks for a pill holding a list (a FOREACH's items); `single` keeps lists
    out of a text's pills (a reference input takes one record, never a list). A
    `required` line must be written."""

    name: str
    kind: Literal["options", "pills", "query", "text", "address"]
    options: list[str] = field(default_factory=list)
    pills: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)
    choices_by_field: dict[str, list[str]] = field(default_factory=dict)
    walks: dict[str, WalkTarget] = field(default_factory=dict)
    required: bool = False
    records: bool = False
    single: bool = False
    address: AddressKind = "email"
    # a query of one term only, `<sole_field>=...` (a journal note, graph/journal_note.py)
    sole_field: str | None = None


@dataclass
class WalkTarget:
    """The table a reference field of a query points to, with its own fields (not empty)."""

    table: str
    fields: list[str]
    choices_by_field: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True)
class PillColumn:
    name: str
    reference: str | None = None  # the table a reference column points to
    choices: tuple[str, ...] = ()
    address: AddressKind | None = None  # the kind of address it holds


# The most columns a dot-walk passes after its pill's root (gold walks at most four:
# `{{trigger.task_sla_record.task.assignment_group.manager.email}}`).
MAX_WALK = 4


@dataclass
class PillSpace:
    """The data pills of one call as a grammar over the catalog rather than a list:
    `roots` (pill text → (type, table)) then dot-walks through the reference columns of
    `columns` (table → its columns), so `{{trigger.current.assignment_group.manager.email}}`
    is offered without listing every path."""

    roots: dict[str, tuple[str, str | None]]
    columns: dict[str, list[PillColumn]]
    # roots that are themselves an address, with its kind (`trigger.from_address`: email)
    addresses: dict[str, AddressKind] = field(default_factory=dict)

    def walkable(self, table: str | None) -> bool:
        return table is not None and table in self.columns


def inputs_grammar(
    inputs: list[InputSpec] | None = None,
    *,
    variants: list[list[InputSpec]] | None = None,
    pills: PillSpace | None = None,
) -> str:
    """`name = value` lines, each input at most once, in declaration order.

    `variants` are alternative specs of the same step (one per table the model may pick,
    so that the fields offered after `table = X` are X's); `pills` replaces the per-input
    pill lists with the pill grammar of a `PillSpace`."""
    return _InputsGrammar(pills).build(variants if variants is not None else [inputs or []])


class _InputsGrammar:
    def __init__(self, space: PillSpace | None):
        self.space = space
        self.rules: list[str] = []
        self.available: dict[str, bool] = {}
        self.walk_rules: set[str] = set()  # one rule per walked-to table and value rule
        if space is not None:
            self._pill_rules(space)

    def build(self, variants: list[list[InputSpec]]) -> str:
        alternatives = []
        for v, specs in enumerate(variants):
            lines = []
            for i, spec in enumerate(specs):
                rule = f"v{v}i{i}"
                self.rules.append(f"{rule} ::= {self._value_rule(spec, rule)}")
                line = f'{literal(spec.name + " = ")} {rule} "\\n"'
                lines.append(f"({line})" if spec.required else f"({line})?")
            alternatives.append("(" + " ".join(lines) + ")" if lines else '""')
        root = "root ::= " + " | ".join(alternatives)
        return "\n".join([root, *self.rules])

    # -- pills ------------------------------------------------------------------------
    def _pill_rules(self, space: PillSpace) -> None:
        """pill (any), pone (any but a list), precord (a record), plist (a list of records),
        pcond (a pill as the field of a condition, with its operator and value)."""
        any_roots, one_roots, record_roots, list_roots, cond_roots = [], [], [], [], []
        for text, (type_, table) in sorted(space.roots.items()):
            lit = literal(text)
            walk = space.walkable(table) and type_ in ("record", "reference")
            any_roots.append(f"({lit} pw_{table}_{MAX_WALK}?)" if walk else lit)
            if type_ not in ("records", "array"):
                one_roots.append(any_roots[-1])
            if type_ in ("record", "reference"):
                record_roots.append(f"({lit} pr_{table}_{MAX_WALK}?)" if walk else lit)
                # `{{1.record}}ISNOTEMPTY` (was a record found?) or a field of it
                cond_roots.append(
                    f'({lit} (("}}}}" opv) | pc_{table}_{MAX_WALK}))'
                    if walk
                    else f'({lit} "}}}}" opv)'
                )
            elif type_ in ("records", "array"):
                list_roots.append(lit)
            else:
                cond_roots.append(f'({lit} "}}}}" opv)')
        self.available = {
            "pill": bool(any_roots),
            "pone": bool(one_roots),
            "precord": bool(record_roots),
            "plist": bool(list_roots),
            "pcond": bool(cond_roots),
        }
        self.rules.append('pill ::= "{{" (' + " | ".join(any_roots or ['"none"']) + ') "}}"')
        self.rules.append('pone ::= "{{" (' + " | ".join(one_roots or ['"none"']) + ') "}}"')
        self.rules.append('precord ::= "{{" (' + " | ".join(record_roots or ['"none"']) + ') "}}"')
        self.rules.append('plist ::= "{{" (' + " | ".join(list_roots or ['"none"']) + ') "}}"')
        self.rules.append('pcond ::= "{{" (' + " | ".join(cond_roots or ['"none" "}}"']) + ")")
        self.rules.append(f"qtext ::= {QUERY_TEXT}")
        self.rules.append("qval ::= qtext (pill qtext)*" if any_roots else "qval ::= qtext")
        self.rules.append(
            f"opv ::= ({one_of(OPERATORS)} qval) | {one_of(UNARY_OPERATORS)}"
            f" | ({one_of(LIST_OPERATORS)} qtext)"
        )
        # One rule per table and hop left, so a walk ends after MAX_WALK columns: a table
        # that references itself (sys_user.manager) would otherwise let a pill walk on
        # until the token limit (`manager.manager.manager...`). Only the rules a root can
        # reach are written (the grammar's size is its compile time).
        needed = _walks_needed(space)
        for table, columns in sorted(space.columns.items()):
            for col in columns:
                if col.choices:
                    self.rules.append(f"ch_{table}_{col.name} ::= " + _choice_ops(col.choices))
            for left in range(1, MAX_WALK + 1):
                if (table, left) not in needed:
                    continue
                walks, record_walks, conds = [], [], []
                for col in columns:
                    lit = literal(col.name)
                    ref = col.reference if space.walkable(col.reference) else None
                    on = f"{ref}_{left - 1}" if ref and left > 1 else None
                    walks.append(f"({lit} pw_{on}?)" if on else lit)
                    if col.reference:
                        record_walks.append(f"({lit} pr_{on}?)" if on else lit)
                    if col.choices:
                        conds.append(f'({lit} "}}}}" ch_{table}_{col.name})')
                    elif on:
                        conds.append(f'({lit} (("}}}}" opv) | pc_{on}))')
                    else:
                        conds.append(f'({lit} "}}}}" opv)')
                self.rules.append(f'pw_{table}_{left} ::= "." (' + " | ".join(walks) + ")")
                self.rules.append(
                    f'pr_{table}_{left} ::= "." (' + " | ".join(record_walks or ['"sys_id"']) + ")"
                )
                self.rules.append(f'pc_{table}_{left} ::= "." (' + " | ".join(conds) + ")")

    def _address_rules(self, space: PillSpace, kind: AddressKind) -> str:
        """The rule of a pill that ends at an address of `kind` (`p_email`, `p_phone`),
        walking reference columns only towards tables from which such an address column
        can be reached; written with the first input that asks for one (most calls have
        none)."""
        rule = f"p_{kind}"
        if rule in self.available:
            return rule
        # reach[n]: the tables from which such an address is at most n columns away
        ends_here = {t for t, cols in space.columns.items() if any(c.address == kind for c in cols)}
        reach = {1: ends_here}
        for left in range(2, MAX_WALK + 1):
            reach[left] = reach[left - 1] | {
                t
                for t, cols in space.columns.items()
                if any(c.reference in reach[left - 1] for c in cols)
            }
        roots, starts = [], []
        for text, (type_, table) in sorted(space.roots.items()):
            if space.addresses.get(text) == kind:
                roots.append(literal(text))
            elif type_ in ("record", "reference") and table in reach[MAX_WALK]:
                roots.append(f"({literal(text)} pa_{kind}_{table}_{MAX_WALK})")
                starts.append(table)
        self.available[rule] = bool(roots)
        self.rules.append(f'{rule} ::= "{{{{" (' + " | ".join(roots or ['"none"']) + ') "}}"')
        for table, left in sorted(_hops(space, starts, lambda ref, left: ref in reach[left - 1])):
            ends = []
            for col in space.columns[table]:
                if col.address == kind:
                    ends.append(literal(col.name))
                elif left > 1 and col.reference in reach[left - 1]:
                    ends.append(f"({literal(col.name)} pa_{kind}_{col.reference}_{left - 1})")
            self.rules.append(f'pa_{kind}_{table}_{left} ::= "." (' + " | ".join(ends) + ")")
        return rule

    def _pill(self, spec: InputSpec, which: str = "pill") -> str | None:
        if self.space is not None:
            return which if self.available[which] else None
        if spec.pills:
            return f'("{{{{" {one_of(spec.pills)} "}}}}")'
        return None

    # -- values -----------------------------------------------------------------------
    def _value_rule(self, spec: InputSpec, rule: str) -> str:
        if spec.kind == "options":
            return one_of(spec.options) if spec.options else TEXT
        if spec.kind == "pills":
            pill = self._pill(spec, "plist" if spec.records else "precord")
            return pill or TEXT
        if spec.kind == "address":
            address = None
            if self.space is not None:
                address = self._pill(spec, self._address_rules(self.space, spec.address))
            elif spec.pills:
                address = self._pill(spec)
            if address is not None and spec.address == "phone":
                # A text may go to several numbers (two hand-written recipients list two).
                address = f'({address} ("," {address}){{0,3}})'
            if address is not None:
                return f"({address} | {ADDRESS_TEXT[spec.address]})"
            # With no address in scope the only address left to write is a made-up one:
            # the input stays free text, as any other.
        pill = self._pill(spec, "pone" if spec.single else "pill")
        if spec.kind in ("text", "address"):
            if pill is None:
                return TEXT
            self.rules.append(f"{rule}t ::= {TEXT}")
            return f"({rule}t ({pill} {rule}t)*)"
        return self._query_rule(spec, rule, pill)

    def _query_rule(self, spec: InputSpec, rule: str, pill: str | None) -> str:
        if self.space is not None:
            value = "qval"
        else:
            self.rules.append(f"{rule}v ::= {QUERY_TEXT}" + (f" | {pill}" if pill else ""))
            value = f"{rule}v"
        if spec.sole_field:
            return f'({literal(spec.sole_field)} "=" {value})'
        terms = _field_terms(spec.fields, spec.choices_by_field, value)
        for name, target in sorted(spec.walks.items()):
            # shared by every variant that walks to the table with the same value rule
            walk_rule = f"wq_{value}_{target.table}"
            if walk_rule not in self.walk_rules:
                self.walk_rules.add(walk_rule)
                walked = _field_terms(target.fields, target.choices_by_field, value)
                self.rules.append(f"{walk_rule} ::= " + " | ".join(walked))
            terms.append(f'({literal(name)} "." {walk_rule})')
        if not spec.fields:
            if self.available.get("pcond"):
                terms.append("pcond")  # no table: the fields are data pills, as in an IF
            else:
                terms.append(f"([a-z0-9_.]+ {one_of(OPERATORS)} {value})")
                terms.append(f"([a-z0-9_.]+ {one_of(UNARY_OPERATORS)})")
        self.rules.append(f"{rule}q ::= " + " | ".join(terms))
        return f'({rule}q ("^" "OR"? {rule}q){{0,{MAX_QUERY_TERMS - 1}}})'


def _walks_needed(space: PillSpace) -> set[tuple[str, int]]:
    """(table, hops left) of each walk rule some pill can reach from its root."""
    starts = [
        table
        for type_, table in space.roots.values()
        if table is not None and type_ in ("record", "reference") and space.walkable(table)
    ]
    return _hops(space, starts, lambda ref, left: space.walkable(ref))


def _hops(
    space: PillSpace, starts: list[str], onward: Callable[[str, int], bool]
) -> set[tuple[str, int]]:
    """(table, hops left) reached from the root tables `starts` (MAX_WALK hops left), a
    reference column leading on to its table where `onward(table, hops left)` says so."""
    todo = [(table, MAX_WALK) for table in starts]
    reached: set[tuple[str, int]] = set()
    while todo:
        table, left = todo.pop()
        if (table, left) in reached:
            continue
        reached.add((table, left))
        if left > 1:
            todo += [
                (c.reference, left - 1)
                for c in space.columns[table]
                if c.reference is not None and onward(c.reference, left)
            ]
    return reached


def _field_terms(
    fields: list[str], choices_by_field: dict[str, list[str]], value: str
) -> list[str]:
    """Query terms over a table's own fields: choice fields take their stored values."""
    terms = [
        f"({literal(name)} {_choice_ops(values)})"
        for name, values in sorted(choices_by_field.items())
        if values
    ]
    other = [f for f in fields if not choices_by_field.get(f)]
    if other:
        terms.append(f"({one_of(other)} {one_of(OPERATORS)} {value})")
    if fields:
        terms.append(f"({one_of(fields)} {one_of(UNARY_OPERATORS)})")
    return terms


def _choice_ops(values: Iterable[str]) -> str:
    one = one_of(values)
    return (
        f'(({one_of(CHOICE_OPERATORS)} {one}) | ({one_of(LIST_OPERATORS)} {one} ("," {one})*)'
        f" | {one_of(UNARY_OPERATORS)})"
    )


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


# A flow asked for in one sentence has a handful of steps (at most 7 in the 500
# hand-written flows); the base model without an adapter goes on writing steps until the
# token limit (21 and 28 on two dev requests), each step one more populateInputs call.
MAX_BLOCK_STEPS = 12


def outline_grammar(
    triggers: list[str],
    steps: list[str],
    flow_logic: list[str],
    max_depth: int = 3,
    requirement: str | None = None,
    allow_refusal: bool = True,
    allow_flow: bool = True,
    max_block_steps: int = MAX_BLOCK_STEPS,
    tables: list[str] | None = None,
    subflow_only: bool = False,
) -> str:
    """A refusal line (unless `allow_refusal` is off), or a trigger line then indented
    step lines, each with ` | span` (unless `allow_flow` is off: only a refusal).

        T record_update | Every time a user becomes inactive
        - look_up_records | find all incidents assigned to them
        - FOREACH | find all incidents
          - update_record | assign them to their manager

    The flow-logic rules of spec §1 are part of the grammar, so an outline cannot have a
    structure error: every block has children, ELSEIF/ELSE follow an IF, CATCH a TRY,
    PARALLEL holds two or more PATHs, EXITLOOP/SKIPITERATION only inside a loop,
    blocks nest at most `max_depth` deep, each holds at most `max_block_steps` items. With
    `requirement`, every annotation is a span of it.

    With ASSIGNSUBFLOWOUTPUTS in `flow_logic`, a subflow may be written instead: `T none`,
    its declared inputs then outputs (`  input <name> (<type>[ of <table>]) | span`, the
    table one of `tables` when given), then items among which ASSIGNSUBFLOWOUTPUTS is a
    leaf; it is a leaf nowhere else. Without it the grammar is that of ordinary flows;
    with `subflow_only` (a subflow was asked for in so many words) only the subflow form.
    """
    allowed = set(flow_logic)
    leaves = [*steps, *(n for n in LEAF_LOGIC if n in allowed)]
    loop_leaves = [n for n in ("EXITLOOP", "SKIPITERATION") if n in allowed]
    annotation = span_rules(requirement, "ann") if requirement else [f"ann ::= {TEXT}"]
    subflow = SUBFLOW_LOGIC in allowed
    flow = f'flow ::= "T " {one_of(triggers) if triggers else literal("none")} span items_0_0'
    if subflow:
        flow = "flow ::= subflow" if subflow_only else flow + " | subflow"
    rules = [
        "root ::= "
        + " | ".join(name for name, on in (("refusal", allow_refusal), ("flow", allow_flow)) if on),
        f'refusal ::= "REFUSE | " {TEXT} "\\n"',
        flow,
        'span ::= " | " ann "\\n"',
        f"leaf ::= {one_of(leaves) if leaves else literal('ENDFLOW')}",
        f"loopleaf ::= {one_of(loop_leaves)}" if loop_leaves else "loopleaf ::= leaf",
        *annotation,
    ]
    if subflow:
        rules += _subflow_rules(tables)
    variants = [("", "leaf")] + ([("s", "sleaf")] if subflow else [])
    for prefix, leaf in variants:
        rules += _item_rules(
            allowed, loop_leaves, max_depth, max_block_steps, prefix=prefix, leaf=leaf
        )
    return "\n".join(rules)


def _subflow_rules(tables: list[str] | None) -> list[str]:
    """`T none`, the declarations, then the subflow's own items (`sitems_*`)."""
    plain = [t for t in SUBFLOW_TYPES if t not in SUBFLOW_TABLE_TYPES]
    table = one_of(tables) if tables else "[a-z0-9_]+"
    n = MAX_DECLARATIONS
    return [
        f'subflow ::= "T none" span sin{{0,{n}}} sout{{0,{n}}} sitems_0_0',
        'sin ::= "  input " sname " (" stype ")" span',
        'sout ::= "  output " sname " (" stype ")" span',
        "sname ::= [a-z] [a-z0-9_]{0,39}",
        f'stype ::= {one_of(plain)} | ({one_of(SUBFLOW_TABLE_TYPES)} (" of " {table})?)',
        f"sleaf ::= leaf | {literal(SUBFLOW_LOGIC)}",
    ]


def _item_rules(
    allowed: set[str],
    loop_leaves: Sequence[str],
    max_depth: int,
    max_block_steps: int,
    prefix: str = "",
    leaf: str = "leaf",
) -> list[str]:
    """The nested item lines: `{prefix}items_<depth>_<in a loop>` for each depth."""
    rules: list[str] = []
    for depth in range(max_depth + 1):
        dash = literal("  " * depth + "- ")
        for in_loop in (0, 1):
            here = f"{depth}_{in_loop}"
            inner = f"{prefix}items_{depth + 1}_{in_loop}"
            units = [f"({dash} {leaf} span)"]
            if in_loop and loop_leaves:
                units.append(f"({dash} loopleaf span)")

            def block(name: str, body: str, dash: str = dash) -> str:
                return f"({dash} {literal(name)} span {body})"

            if depth < max_depth:
                if "IF" in allowed:
                    chain = block("IF", inner)
                    if "ELSEIF" in allowed:
                        chain += f" {block('ELSEIF', inner)}*"
                    if "ELSE" in allowed:
                        chain += f" {block('ELSE', inner)}?"
                    units.append(f"({chain})")
                for loop in ("FOREACH", "DOUNTIL"):
                    if loop in allowed:
                        units.append(block(loop, f"{prefix}items_{depth + 1}_1"))
                if "TRY" in allowed:
                    catch = f" {block('CATCH', inner)}?" if "CATCH" in allowed else ""
                    units.append(f"({block('TRY', inner)}{catch})")
                if {"PARALLEL", "PATH"} <= allowed and depth + 1 < max_depth:
                    path = f"{prefix}path_{depth + 1}_{in_loop}"
                    rules.append(
                        f"{path} ::= "
                        + block(
                            "PATH",
                            f"{prefix}items_{depth + 2}_{in_loop}",
                            literal("  " * (depth + 1) + "- "),
                        )
                    )
                    units.append(block("PARALLEL", f"{path} {path}+"))
            rules.append(
                f"{prefix}items_{here} ::= (" + " | ".join(units) + f"){{1,{max_block_steps}}}"
            )
    return rules
