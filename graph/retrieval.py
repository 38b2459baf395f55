"""Retrieval of what each model call is offered, through the catalog tools.

The outline call is offered trigger and step suggestions for the requirement; an inputs
call, for one item, its declared inputs, the candidate tables with their relevant
columns and stored values, and the data pills in scope. Each offer also yields the
grammar that limits the answer to exactly what it offers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from flowgen.engine.grammar import (
    AddressKind,
    InputSpec,
    PillColumn,
    PillSpace,
    WalkTarget,
    inputs_grammar,
)
from flowgen.flow.catalog import CatalogView, Column, Param
from flowgen.flow.flowlogic import FLOW_LOGIC, subflow_output_params
from flowgen.flow.model import Flow
from flowgen.flow.validator import PillRoot, pill_roots
from flowgen.graph.named_record import named_record, named_trigger_record
from flowgen.graph.named_table import (
    kind_labels,
    labelled_tables,
    named_table,
    ruled_out_trigger_tables,
)
from flowgen.graph.re_reads import re_read_table
from flowgen.graph.trigger_cues import named_trigger
from flowgen.tools.catalog_tools import Tools

# The outline offers every flow-logic kind but ASSIGNSUBFLOWOUTPUTS, which admits the
# subflow form (`T none` and its declarations; engine.grammar) and is offered only when
# the requirement asks for a subflow: a flow that merely runs one ("run the onboarding
# subflow") is an ordinary flow, and the outline prompt stays the one the adapter saw.
OUTLINE_FLOW_LOGIC = [name for name in FLOW_LOGIC if name != "ASSIGNSUBFLOWOUTPUTS"]
SUBFLOW_ASKED = re.compile(
    r"^\W*sub-?flow\b"  # "Subflow: given a user, ..."
    r"|\b(?:a|an|one|reusable)\s+(?:reusable\s+|new\s+)?sub-?flows?\b",  # "create a subflow"
    re.IGNORECASE,
)


def asks_for_subflow(requirement: str) -> bool:
    return SUBFLOW_ASKED.search(requirement) is not None


TRIGGER_K = 6
STEP_K = 14
CLAUSE_K = 6
MAX_CLAUSES = 16
TABLE_K = 3
COLUMN_K = (8, 4)  # columns shown of the most likely table, and of the others
COLUMN_TABLES = 2  # tables whose columns an inputs turn shows (a third added no recall on dev)
QUERY_TYPES = ("condition", "values")
# Steps that may work on a record the span names through the trigger's (graph/named_record.py).
RECORD_NAMING_STEPS = frozenset({"update_record"})
# Steps whose table a one-word label in their span names (graph/named_table.py): the
# look-ups, and the steps that create, update or delete records of a table they are
# given. On the hand-written train and dev gold, a one-word label names gold's table for
# 27 of 28 creates and 30 of 31 bulk updates and deletes (two-word labels alone: 14 and
# 8 of them); on the synthetic ones, 542 of 542.
LOOK_UPS = frozenset({"look_up_records", "look_up_record"})
ONE_WORD_LABELS = LOOK_UPS | {"create_record", "update_multiple_records", "delete_multiple_records"}
WALK_HOPS = 3  # dot-walks offered up to three reference hops from a pill
# Inputs that take an address, and its kind: Send Email's recipients (ServiceNow's Send
# Email action), Send SMS's and WhatsApp's numbers. Offered any pill, adapter v11 sent 15
# of dev's 56 emails to `{{trigger.current.number}}`, `{{trigger.run_start_time}}` and the
# like, and texts to `{{trigger.run_start_time}}` and to records; every hand-written
# recipient is an address of its kind. (`recipients` is an input of Send SMS alone in
# the catalogs; Look Up Email has an output of that name.)
ADDRESS_INPUTS: dict[str, AddressKind] = {
    "ah_to": "email",
    "ah_cc": "email",
    "ah_bcc": "email",
    "recipients": "phone",
    "to_number": "phone",
}


def address_kind(name: str) -> AddressKind | None:
    """The kind of address a column or pill of this name holds: `email`,
    `assignee_email`, `from_address` an email address (not `ip_address` or
    `delivery_address`); `phone`, `mobile_phone` a phone number."""
    if name.endswith(("email", "emails")) or name == "from_address":
        return "email"
    if name == "phone" or name.endswith("_phone"):
        return "phone"
    return None


def clauses(requirement: str) -> list[str]:
    """The requirement cut at punctuation and connectives: each clause usually holds one
    step, and searching clauses finds steps a search of the whole sentence ranks low."""
    parts = re.split(r"[.;,:\n]+|\b(?:then|and then|and|also|otherwise|after that)\b", requirement)
    return [p.strip() for p in parts if len(p.split()) >= 2]


@dataclass
class OutlineOffer:
    """The suggestions shown in the prompt, and the installation's names the grammar
    chooses from (never one the installation lacks): the outline admits the core steps
    whether shown or not, so a core step retrieval ranked too low can still be chosen."""

    triggers: list[dict[str, Any]]
    steps: list[dict[str, Any]]
    all_triggers: list[str]
    all_steps: list[str]
    # The platform's own steps among them (scope global): admitted whether shown or not.
    core_steps: list[str] = field(default_factory=list)
    flow_logic: list[str] = field(default_factory=lambda: list(OUTLINE_FLOW_LOGIC))
    all_tables: list[str] = field(default_factory=list)  # a subflow input's table
    # The trigger the requirement names in so many words (graph/trigger_cues.py): the
    # only one the outline grammar admits then.
    named_trigger: str | None = None


def outline_offer(
    tools: Tools, requirement: str, extra_steps: list[str] | None = None
) -> OutlineOffer:
    """Triggers for the whole requirement; steps fused (reciprocal rank) over the whole
    requirement and each clause, each clause's best step always among them, and one more
    step offered for each clause past the fourth. A long requirement asks for more steps
    than one short list holds: with 14 names and 8 clauses searched, 74% of its gold
    steps were offered on dev's long cases, and the model wrote an unoffered one 4 times
    in 23 (it wrote `update_record` instead); with these rules 95%, for about 9 more
    names on long requirements only. `extra_steps` are added as they are (the
    perfect-RAG ablation offers the gold steps)."""
    parts = clauses(requirement)[:MAX_CLAUSES]
    # One embedding batch for the searches below instead of one model call each.
    tools.embed_queries(steps=[requirement, *parts], others=[requirement])
    triggers = tools.search_triggers(query=requirement, k=TRIGGER_K)
    k = STEP_K + max(0, len(parts) - 4)
    rankings = [tools.search_steps(query=requirement, k=k)]
    for clause in parts:
        rankings.append(tools.search_steps(query=clause, k=CLAUSE_K))
    fused: dict[str, float] = {}
    by_name: dict[str, dict[str, Any]] = {}
    for ranking in rankings:
        for rank, step in enumerate(ranking):
            fused[step["name"]] = fused.get(step["name"], 0.0) + 1.0 / (10 + rank)
            by_name.setdefault(step["name"], step)
    best_of_clauses = {ranking[0]["name"] for ranking in rankings[1:] if ranking}
    ranked = sorted(fused, key=lambda n: -fused[n])
    others = [n for n in ranked if n not in best_of_clauses]
    kept = best_of_clauses | set(others[: max(0, k - len(best_of_clauses))])
    names = [n for n in ranked if n in kept]  # in fused order, as training showed them
    for name in extra_steps or []:
        if name not in names and name not in FLOW_LOGIC:
            definition = tools.get_step(name=name)
            if definition is not None:
                by_name[name] = definition
                names.append(name)
    subflow = asks_for_subflow(requirement)
    flow_logic = list(OUTLINE_FLOW_LOGIC) + (["ASSIGNSUBFLOWOUTPUTS"] if subflow else [])
    all_triggers = tools.list_names(kind="triggers")
    return OutlineOffer(
        triggers=triggers,
        steps=[by_name[n] for n in names],
        all_triggers=all_triggers,
        all_steps=tools.list_names(kind="steps"),
        core_steps=tools.list_names(kind="core_steps"),
        all_tables=tools.list_names(kind="tables"),
        flow_logic=flow_logic,
        named_trigger=None if subflow else named_trigger(requirement, all_triggers),
    )


@dataclass
class InputsOffer:
    """Everything one populateInputs call is shown, and its grammar."""

    params: list[Param]
    tables: list[dict[str, Any]]  # candidate tables: name, label
    columns: dict[str, list[Column]]  # per candidate table, the columns shown
    pills: list[PillRoot]
    grammar: str
    named_table: str | None = None  # the table the words name, the only one admitted
    named_record: str | None = None  # the record pill they name, the only one admitted
    space: PillSpace | None = None  # the pills in scope, for a grammar built after the offer

    @property
    def empty(self) -> bool:
        return not self.params


def declared_inputs(catalog: CatalogView, flow: Flow, order: int) -> list[Param] | None:
    """Declared inputs of the trigger (order 0; none for a subflow) or step `order`;
    ASSIGNSUBFLOWOUTPUTS takes one per declared subflow output; None for flow logic
    that takes any input name (SETFLOWVARIABLES), left empty by the generator."""
    if order == 0:
        trigger = catalog.trigger(flow.trigger_type) if flow.trigger_type else None
        return list(trigger.inputs) if trigger else []
    comp = flow.component(order)
    if comp is None:
        return []
    if comp.category == "flowlogic" and comp.definition == "ASSIGNSUBFLOWOUTPUTS":
        return subflow_output_params(flow)
    if comp.category == "flowlogic":
        logic = FLOW_LOGIC.get(comp.definition)
        return logic.params if logic else []
    step = catalog.step(comp.definition)
    return list(step.inputs) if step else []


@dataclass
class RetrievalCache:
    """What the inputs calls of one run remember between nodes: answers that do not
    change during a run (columns come from the run's catalog view, cached there). Not
    checkpointed: a resumed run, often in a new process whose embedder has no cached
    vectors, fills it again, and its offers are the same."""

    # Annotations already embedded (every item's annotation at once, up front).
    embedded: set[str] = field(default_factory=set)


class InputsRetriever:
    """Builds the `InputsOffer`s of one node through its tools."""

    def __init__(self, tools: Tools, cache: RetrievalCache) -> None:
        self.tools = tools
        self.cache = cache
        self.catalog = tools.catalog()

    def offer(self, flow: Flow, order: int, requirement: str) -> InputsOffer:
        params = declared_inputs(self.catalog, flow, order) or []
        if order == 0:
            annotation = (flow.trigger.annotation if flow.trigger else None) or requirement
            pills: list[PillRoot] = []
        else:
            comp = flow.component(order)
            annotation = (comp.annotation if comp else None) or requirement
            pills = pill_roots(flow, self.catalog, order, "condition")
        if annotation not in self.cache.embedded:  # every item's annotation up front
            batch = [a or requirement for _, _, a in flow.annotated_items()] + [annotation]
            self.tools.embed_queries(others=batch)
            self.cache.embedded.update(batch)
        item = flow.component(order) if order else None
        tables: list[dict[str, Any]] = []
        if any(p.type == "table" for p in params):
            tables = self._candidate_tables(annotation, pills, params)
        # An update of the record its words name through the trigger's record, or of the
        # trigger's own record named (graph/named_record.py): that table and record only,
        # its columns shown first.
        record = None
        if item is not None and item.definition in RECORD_NAMING_STEPS:
            every = labelled_tables(self.catalog)
            record = named_record(annotation, pills, every, self.catalog)
            record = record or named_trigger_record(annotation, pills, every)
        if record is not None and record[0] not in [t["name"] for t in tables]:
            tables.append({"name": record[0], "label": self._label(record[0])})
        shown: dict[str, list[Column]] = {}
        if any(p.type in QUERY_TYPES for p in params):
            # Columns only where a condition or values can name them, and only of the
            # tables most likely meant: every column line costs ~10 prompt tokens, and
            # the grammar admits every column of the chosen table anyway.
            ranked = _column_tables(tables, pills, params)
            if record is not None:
                ranked = [record[0], *[t for t in ranked if t != record[0]]]
            for rank, name in enumerate(ranked[:COLUMN_TABLES]):
                shown[name] = self._shown_columns(name, annotation, COLUMN_K[min(rank, 1)])
        space = self._pill_space(pills)
        # A table named by its label in the span is the only one the grammar admits
        # (graph/named_table.py), for a record trigger and for a step whose table no
        # record input decides; the prompt shows the offer as retrieved.
        # A look-up's or a create's table is named by a one-word label as well ("find the
        # open cases on it", "open a problem for it"); a trigger's is not, but "a malware
        # incident" names the security incident by its kind.
        record_bound = any(p.type == "record" for p in params)
        min_words = 1 if item is not None and item.definition in ONE_WORD_LABELS else 2
        named = None
        if not record_bound and tables:
            # Named among every table of the installation, as the rule was measured;
            # a table retrieval missed joins the candidates ("sec inc" found `incident`,
            # `sc_request` and `change_request`), its columns shown first.
            every = labelled_tables(self.catalog)
            kinds = partial(kind_labels, self.catalog)
            named = named_table(annotation, every, min_words, kinds)
            if named is not None and named not in [t["name"] for t in tables]:
                tables.append({"name": named, "label": self._label(named)})
                shown = self._shown_first(shown, named, annotation)
            elif named is None:
                named = named_table(annotation, tables, min_words, kinds)
        if record is not None:
            named = record[0]
        # A record read again after a wait is the trigger's (graph/re_reads.py): that
        # table only, its columns shown first.
        again = re_read_table(flow, order, pills) if item is not None else None
        if again is not None:
            named = again
            if again not in [t["name"] for t in tables]:
                tables.append({"name": again, "label": self._label(again)})
            if again not in shown:
                shown = self._shown_first(shown, again, annotation)
        chosen = [t for t in tables if t["name"] == named] if named else tables
        if order == 0 and not named and str(flow.trigger_type).startswith("record_"):
            # the words rule some candidates out ("when someone changes department" is
            # no change request): the grammar admits the others, where any are left
            out = ruled_out_trigger_tables(annotation, tables)
            chosen = [t for t in chosen if t["name"] not in out] or chosen
        variants = self._variants(params, chosen, pills, order)
        if record is not None:
            pill = record[1]
            variants = [
                [
                    InputSpec(s.name, "options", [pill], required=s.required)
                    if s.name == "record"
                    else s
                    for s in specs
                ]
                for specs in variants
            ]
        if item is not None and item.definition == "ASSIGNSUBFLOWOUTPUTS":
            # an output's value: a pill (of any type) or a literal such as `true`
            variants = [[InputSpec(p.name, "text") for p in params]]
        grammar = inputs_grammar(variants=variants, pills=space)
        return InputsOffer(
            params, tables, shown, pills, grammar, named, record[1] if record else None, space
        )

    # -- retrieval ---------------------------------------------------------------------
    def _candidate_tables(
        self, annotation: str, pills: list[PillRoot], params: list[Param]
    ) -> list[dict[str, Any]]:
        found = self.tools.search_tables(query=annotation, k=TABLE_K)
        names = [t["name"] for t in found]
        labels = {t["name"]: t.get("label") for t in found}
        for extra in [p.reference for p in params] + [r.table for r in pills]:
            if extra and extra not in names and self.catalog.table(extra) is not None:
                names.append(extra)
                table = self.catalog.table(extra)
                labels[extra] = table.label if table else None
        return [{"name": n, "label": labels.get(n)} for n in names[: TABLE_K + 2]]

    def _shown_first(
        self, shown: dict[str, list[Column]], table: str, annotation: str
    ) -> dict[str, list[Column]]:
        """`shown` with `table`'s columns first and the others cut to fit; nothing shown
        stays nothing (no input takes a query)."""
        if not shown:
            return shown
        first = self._shown_columns(table, annotation, COLUMN_K[0])
        return {table: first, **dict(list(shown.items())[: COLUMN_TABLES - 1])}

    def _shown_columns(self, table: str, annotation: str, k: int) -> list[Column]:
        """The k columns most relevant to the annotation, with their choice values."""
        hits = self.tools.search_columns(table=table, query=annotation, k=k)
        by_name = {c.name: c for c in self.tools.columns(table)}
        return [by_name[h["name"]] for h in hits if h["name"] in by_name]

    def _pill_space(self, pills: list[PillRoot]) -> PillSpace:
        columns: dict[str, list[PillColumn]] = {}
        frontier = [r.table for r in pills if r.table and r.type in ("record", "reference")]
        for _ in range(WALK_HOPS + 1):
            next_frontier = []
            for table in frontier:
                if table in columns or self.catalog.table(table) is None:
                    continue
                cols = self.tools.columns(table)
                columns[table] = [
                    PillColumn(
                        c.name,
                        c.reference,
                        tuple(ch.value for ch in c.choices or []),
                        address=address_kind(c.name),
                    )
                    for c in cols
                ]
                next_frontier += [c.reference for c in cols if c.reference]
            frontier = next_frontier
        roots = {r.text: (r.type, r.table) for r in pills}
        addresses = {
            r.text: kind
            for r in pills
            if r.type not in ("record", "reference", "records", "array")
            and (kind := address_kind(r.text.rpartition(".")[2])) is not None
        }
        return PillSpace(roots=roots, columns=columns, addresses=addresses)

    # -- grammar -----------------------------------------------------------------------
    def _variants(
        self, params: list[Param], tables: list[dict[str, Any]], pills: list[PillRoot], order: int
    ) -> list[list[InputSpec]]:
        """One spec list per table the model may pick for the first table input, so the
        fields offered after `table = X` are X's own."""
        table_param = next((p for p in params if p.type == "table"), None)
        if table_param is None or not tables:
            return [[self._spec(p, None, pills, order) for p in params]]
        variants = []
        for table in tables:
            specs = []
            for p in params:
                if p is table_param:
                    specs.append(InputSpec(p.name, "options", [table["name"]], required=p.required))
                else:
                    bound = table["name"] if p.table_input == table_param.name else None
                    specs.append(self._spec(p, bound, pills, order))
            variants.append(specs)
        return variants

    def _spec(self, p: Param, table: str | None, pills: list[PillRoot], order: int) -> InputSpec:
        required = p.required
        if p.type in ("condition", "values"):
            table = table or p.reference
            if table is None:
                return InputSpec(p.name, "query", required=required)  # fields are pills
            cols = self.tools.columns(table)
            return InputSpec(
                p.name,
                "query",
                fields=[c.name for c in cols],
                choices_by_field=_choices_by_field(cols),
                walks=self._walks(cols),
                required=required,
            )
        if p.type == "table":
            return InputSpec(p.name, "options", self._table_names(), required=required)
        if p.choices:
            return InputSpec(p.name, "options", [c.value for c in p.choices], required=required)
        if p.type == "boolean":
            return InputSpec(p.name, "options", ["true", "false"], required=required)
        if p.name == "step" and p.type == "string" and order:  # GOBACKTO
            return InputSpec(p.name, "options", [str(o) for o in range(1, order)] or ["1"])
        if p.name in ADDRESS_INPUTS:
            return InputSpec(p.name, "address", required=required, address=ADDRESS_INPUTS[p.name])
        if p.type == "record":
            # a record pill, or (none in scope) a literal sys_id: never a list, which the
            # validator rejects and no inputs round can fix (send_email's optional record
            # after a lookup took `{{1.records}}` on test)
            return InputSpec(p.name, "pills", required=required)
        lists = any(r.type in ("records", "array") for r in pills)
        if (p.type in ("records", "array") or p.name == "items") and lists:
            return InputSpec(p.name, "pills", required=required, records=True)
        # A reference takes one record: a list pill there is a catalog error no inputs
        # round fixes (book_meeting_room's building given `{{3.records}}` on ood).
        return InputSpec(p.name, "text", required=required, single=p.type == "reference")

    def _walks(self, cols: list[Column]) -> dict[str, WalkTarget]:
        """One hop through each reference column, as in `caller_id.vip=true`."""
        walks = {}
        for c in cols:
            target = self.tools.columns(c.reference) if c.reference else []
            if c.reference and target:
                walks[c.name] = WalkTarget(
                    c.reference, [t.name for t in target], _choices_by_field(target)
                )
        return walks

    def _table_names(self) -> list[str]:
        return self.tools.list_names(kind="tables")

    def _label(self, name: str) -> str | None:
        table = self.catalog.table(name)
        return table.label if table else None


def _column_tables(
    tables: list[dict[str, Any]], pills: list[PillRoot], params: list[Param]
) -> list[str]:
    """The tables whose columns to show, most likely first: with a table input, the
    candidates as retrieval ranked them, except that a table some record pill in scope
    holds comes first when the item also takes a record (update_record on the loop's
    item); without one (an IF), the tables of the record pills, latest first."""
    record_tables = [r.table for r in reversed(pills) if r.table and r.type == "record"]
    names = [t["name"] for t in tables]
    if not names:
        ordered = record_tables
    elif any(p.type == "record" for p in params):
        ordered = [t for t in record_tables if t in names] + names
    else:
        ordered = names
    return list(dict.fromkeys(ordered))


def _choices_by_field(cols: list[Column]) -> dict[str, list[str]]:
    """The values each field of a query may take: a choice column's stored values, and a
    boolean's `true` and `false` (the model had written `escalatedCHANGESTOnegative`,
    the sentiment choice's value; gold writes all 1,294 of its boolean terms so)."""
    found = {c.name: [ch.value for ch in c.choices] for c in cols if c.choices}
    found.update({c.name: ["true", "false"] for c in cols if c.type == "boolean"})
    return found
