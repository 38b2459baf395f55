"""The flow validator (spec §2): structure rules, then rules that need the catalog.

`validate_flow` never raises on bad input: every problem becomes a `FlowError` with a
code, the component's `order` and a message that says what to change.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from flowgen.flow.catalog import CatalogView, Column, Param, related_tables
from flowgen.flow.encoded_query import VALUE_OPERATORS, parse_query
from flowgen.flow.errors import FlowError
from flowgen.flow.flowlogic import (
    FLOW_LOGIC,
    FOLLOWS,
    LOOP_CONTROL,
    LOOPS,
    subflow_output_params,
)
from flowgen.flow.model import Component, Flow, FlowInput
from flowgen.flow.parsing import FlowLoad, load_flow
from flowgen.flow.pills import Pill, PillSyntaxError, find_pills, is_pill, parse_pill

Stage = Literal["outline", "full"]
QUERY_TYPES = ("condition", "values")


@dataclass
class ValidationReport:
    flow: Flow | None
    errors: list[FlowError] = field(default_factory=list)
    unparseable: bool = False

    @property
    def refusal(self) -> bool:
        """`"flow": null`: the generator declined; not an error."""
        return self.flow is None and not self.errors

    @property
    def has_structure_error(self) -> bool:
        return any(e.kind == "structure" for e in self.errors)

    @property
    def has_catalog_error(self) -> bool:
        return any(e.kind == "catalog" for e in self.errors)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_flow(
    raw: str | bytes | dict[str, Any] | Flow | None,
    catalog: CatalogView | None = None,
    *,
    stage: Stage = "full",
) -> ValidationReport:
    """Check a flow; catalog rules run only when a catalog is given.

    `stage="outline"` skips the rules about inputs a later stage fills in (required
    inputs), so an outline can be checked before populateInputs runs.
    """
    loaded: FlowLoad = load_flow(raw)
    if loaded.flow is None:
        if not loaded.problems:
            return ValidationReport(None)
        errors = []
        for problem in loaded.problems:
            path, _, message = problem.partition(": ")
            errors.append(FlowError(code=loaded.code, order=None, path=path, message=message))
        return ValidationReport(None, errors, unparseable=loaded.unparseable)
    checker = _Checker(loaded.flow, catalog, stage)
    checker.run()
    return ValidationReport(loaded.flow, checker.errors)


@dataclass(frozen=True)
class PillRoot:
    """A data pill a component may use, and what it holds: `type` is a catalog type
    (`record`, `records`, `integer`, ...); `table` the records' table when known."""

    text: str  # e.g. "trigger.current", "1.records", "2.item"
    type: str
    table: str | None


def pill_roots(
    flow: Flow, catalog: CatalogView, order: int, input_name: str = ""
) -> list[PillRoot]:
    """The pills (outputs of the trigger, a subflow's declared inputs, and outputs of
    earlier in-scope steps) step `order` may use.

    The same scope rules as the validator's, so a generator offering only these pills
    cannot produce an out-of-scope or later-step pill."""
    checker = _Checker(flow, catalog, "full")
    checker.check_orders()
    comp = checker.by_order.get(order)
    if comp is None:
        return []

    def ignore(code: str, message: str) -> None:
        pass

    roots: list[PillRoot] = []
    trigger = catalog.trigger(flow.trigger_type) if flow.trigger_type else None
    for out in trigger.outputs if trigger else []:
        value = checker.resolve_trigger(parse_pill(f"trigger.{out.name}"), "", ignore)
        if value is not None:
            roots.append(PillRoot(f"trigger.{out.name}", value.type, value.table))
    if flow.is_subflow:
        for param in flow.input_params:
            value = checker.resolve_subflow_input(parse_pill(f"subflow_inputs.{param.name}"))
            roots.append(
                PillRoot(
                    f"subflow_inputs.{param.name}",
                    value.type if value else param.type or "string",
                    value.table if value else None,
                )
            )
    for source in flow.components:
        inside_own_loop = comp.definition == "DOUNTIL" and order in checker.ancestors(source)
        if source.order >= order and not inside_own_loop:
            continue
        if not checker.in_scope(comp, source, input_name):
            continue
        if source.category == "flowlogic":
            logic = FLOW_LOGIC.get(source.definition)
            names = list(logic.outputs) if logic else []
        else:
            step = catalog.step(source.definition)
            names = [o.name for o in step.outputs] if step else []
        for name in names:
            pill = parse_pill(f"{source.order}.{name}")
            value = checker.resolve_step_output(source, pill, "", ignore)
            if value is not None:
                roots.append(PillRoot(pill.raw, value.type, value.table))
    return roots


@dataclass(frozen=True)
class _Value:
    """What a pill resolves to: a catalog type and, for records, the table."""

    type: str
    table: str | None = None
    column: Column | None = None


class _Checker:
    def __init__(self, flow: Flow, catalog: CatalogView | None, stage: Stage):
        self.flow = flow
        self.catalog = catalog
        self.stage = stage
        self.errors: list[FlowError] = []
        self.by_order: dict[int, Component] = {}
        self.index: dict[int, int] = {}

    # -- reporting ---------------------------------------------------------------------
    def error(self, code: str, comp: Component | None, message: str, path: str = "") -> None:
        if not path:
            path = "trigger" if comp is None else f"components[{self.index.get(comp.order, '?')}]"
        self.errors.append(
            FlowError(code=code, order=comp.order if comp else None, path=path, message=message)
        )

    # -- driver ------------------------------------------------------------------------
    def run(self) -> None:
        orders_ok = self.check_orders()
        if orders_ok:
            self.check_blocks()
            self.check_flow_logic()
        for comp in self.flow.components:
            self.check_component_catalog(comp)
        self.check_trigger()
        if orders_ok:
            self.check_pills()

    # -- structure ---------------------------------------------------------------------
    def check_orders(self) -> bool:
        ok = True
        for i, comp in enumerate(self.flow.components):
            self.index.setdefault(comp.order, i)
            self.by_order.setdefault(comp.order, comp)
            if comp.order != i + 1 and ok:
                self.error(
                    "order_sequence",
                    comp,
                    f"components[{i}] has order {comp.order}; orders must run 1..N in list "
                    f"order, so this one should be {i + 1}",
                    path=f"components[{i}].order",
                )
                ok = False
        return ok

    def parent(self, comp: Component) -> Component | None:
        return self.by_order.get(comp.block) if comp.block is not None else None

    def ancestors(self, comp: Component) -> list[int]:
        """Orders of the blocks enclosing `comp`, innermost first."""
        chain: list[int] = []
        block = comp.block
        while block is not None and block in self.by_order and block not in chain:
            chain.append(block)
            block = self.by_order[block].block
        return chain

    def check_blocks(self) -> None:
        for comp in self.flow.components:
            if comp.block is None:
                continue
            path = f"components[{comp.order - 1}].block"
            parent = self.by_order.get(comp.block)
            if parent is None or comp.block >= comp.order:
                self.error(
                    "block_unknown",
                    comp,
                    f"block {comp.block} is not an earlier component; `block` is the "
                    "order of the enclosing IF/FOREACH/... that comes before this step",
                    path,
                )
                continue
            logic = FLOW_LOGIC.get(parent.definition) if parent.category == "flowlogic" else None
            if logic is None or not logic.is_block:
                self.error(
                    "block_not_container",
                    comp,
                    f"block {comp.block} is {parent.definition}, which cannot hold "
                    "steps; only IF, ELSEIF, ELSE, FOREACH, DOUNTIL, PARALLEL, PATH, "
                    "TRY and CATCH can",
                    path,
                )
                continue
            previous = self.by_order[comp.order - 1]
            if previous.order != comp.block and comp.block not in self.ancestors(previous):
                self.error(
                    "order_not_depth_first",
                    comp,
                    f"step {comp.order} belongs to block {comp.block} but step "
                    f"{previous.order} before it is outside that block; list a "
                    "block's children right after it, in depth-first order",
                    path,
                )

    def check_flow_logic(self) -> None:
        siblings: dict[int | None, list[Component]] = {}
        for comp in self.flow.components:
            siblings.setdefault(comp.block, []).append(comp)
        for comp in self.flow.components:
            if comp.category != "flowlogic":
                continue
            logic = FLOW_LOGIC.get(comp.definition)
            if logic is None:
                self.error(
                    "unknown_flowlogic",
                    comp,
                    f"{comp.definition!r} is not flow logic; use one of "
                    f"{', '.join(FLOW_LOGIC)} (or category action/subflow for a step)",
                )
                continue
            kin = siblings.get(comp.block, [])
            before = kin[kin.index(comp) - 1] if kin.index(comp) > 0 else None
            if comp.definition in FOLLOWS and (
                before is None
                or before.category != "flowlogic"
                or before.definition not in FOLLOWS[comp.definition]
            ):
                wanted = " or ".join(FOLLOWS[comp.definition])
                self.error(
                    "misplaced_branch",
                    comp,
                    f"{comp.definition} must directly follow a sibling {wanted} in the same block",
                )
            parent = self.parent(comp)
            if comp.definition == "PATH" and (parent is None or parent.definition != "PARALLEL"):
                self.error("path_outside_parallel", comp, "PATH must be a direct child of PARALLEL")
            children = siblings.get(comp.order, [])
            if comp.definition == "PARALLEL" and (
                len(children) < 2 or any(c.definition != "PATH" for c in children)
            ):
                self.error(
                    "parallel_paths",
                    comp,
                    "PARALLEL needs two or more children and every child must be a "
                    "PATH; put the steps of each branch inside its PATH",
                )
            if logic.is_block and not children:
                self.error(
                    "empty_block",
                    comp,
                    f"{comp.definition} has no steps inside it; add at least one step "
                    f"with block {comp.order}, or remove it",
                )
            if comp.definition in LOOP_CONTROL and not any(
                self.by_order[a].definition in LOOPS for a in self.ancestors(comp)
            ):
                self.error(
                    "loop_control_outside_loop",
                    comp,
                    f"{comp.definition} only works inside a FOREACH or DOUNTIL",
                )
            if comp.definition == "ASSIGNSUBFLOWOUTPUTS" and not self.flow.is_subflow:
                self.error(
                    "subflow_outputs_outside_subflow",
                    comp,
                    "ASSIGNSUBFLOWOUTPUTS is only allowed in a subflow (trigger type null)",
                )
            if comp.definition == "GOBACKTO":
                target = comp.input_value("step")
                if target is not None and not (
                    target.strip().isdigit() and 1 <= int(target) < comp.order
                ):
                    self.error(
                        "goback_target",
                        comp,
                        f"GOBACKTO step {target!r} must be the order of an earlier step "
                        f"(1..{comp.order - 1})",
                    )

    # -- inputs against their declarations -----------------------------------------------
    def check_component_catalog(self, comp: Component) -> None:
        if comp.category == "flowlogic":
            logic = FLOW_LOGIC.get(comp.definition)
            if logic is None:
                return
            params = logic.params
            if comp.definition == "ASSIGNSUBFLOWOUTPUTS":
                params = subflow_output_params(self.flow)  # one input per declared output
            self.check_inputs(comp, comp.inputs, params, comp.definition)
            return
        if self.catalog is None:
            return
        step = self.catalog.step(comp.definition)
        if step is None:
            self.error(
                "unknown_step",
                comp,
                f"{comp.category} {comp.definition!r} does not exist in installation "
                f"{self.catalog.installation!r}; use a step from its catalog",
            )
            return
        if step.category != comp.category:
            self.error(
                "wrong_category",
                comp,
                f"{comp.definition!r} is a catalog {step.category}, not {comp.category}",
            )
        if step.scope != comp.scope:
            self.error(
                "wrong_scope",
                comp,
                f"{comp.definition!r} is in scope {step.scope!r}, not {comp.scope!r}",
            )
        self.check_inputs(comp, comp.inputs, step.inputs, comp.definition)

    def check_trigger(self) -> None:
        trigger = self.flow.trigger
        if trigger is None or trigger.type is None or self.catalog is None:
            return
        definition = self.catalog.trigger(trigger.type)
        if definition is None:
            self.error(
                "unknown_trigger",
                None,
                f"trigger type {trigger.type!r} does not exist in installation "
                f"{self.catalog.installation!r}",
                "trigger.type",
            )
            return
        self.check_inputs(None, trigger.inputs, definition.inputs, trigger.type)

    def check_inputs(
        self, comp: Component | None, given: list[FlowInput], params: list[Param] | None, what: str
    ) -> None:
        base = "trigger" if comp is None else f"components[{self.index.get(comp.order, '?')}]"
        seen: set[str] = set()
        values = {i.name: i.value for i in given}
        for j, inp in enumerate(given):
            path = f"{base}.inputs[{j}]"
            if inp.name in seen:
                self.error("duplicate_input", comp, f"input {inp.name!r} is given twice", path)
            seen.add(inp.name)
            if not inp.value.strip():
                self.error(
                    "empty_input",
                    comp,
                    f"input {inp.name!r} is empty; omit inputs that have no value",
                    path,
                )
                continue
            if params is None:
                continue
            param = next((p for p in params if p.name == inp.name), None)
            if param is None:
                known = ", ".join(p.name for p in params) or "none"
                self.error(
                    "unknown_input",
                    comp,
                    f"{what} has no input {inp.name!r} (its inputs: {known})",
                    path,
                )
                continue
            if self.catalog is not None:
                self.check_value(comp, param, inp.value, values, path)
        if params is not None and self.stage == "full":
            for p in params:
                if p.required and p.name not in values:
                    self.error("missing_input", comp, f"{what} needs input {p.name!r}", base)

    def check_value(
        self, comp: Component | None, param: Param, value: str, values: dict[str, str], path: str
    ) -> None:
        assert self.catalog is not None
        if is_pill(value):
            return
        if param.type == "table":
            if self.catalog.table(value) is None:
                self.error(
                    "unknown_table",
                    comp,
                    f"table {value!r} does not exist in installation {self.catalog.installation!r}",
                    path,
                )
        elif param.type == "choice" and param.choices:
            allowed = {c.value for c in param.choices}
            if value not in allowed:
                self.error(
                    "unknown_choice",
                    comp,
                    f"{param.name} must be one of {sorted(allowed)}, not {value!r}",
                    path,
                )
        elif param.type in QUERY_TYPES:
            table = values.get(param.table_input) if param.table_input else None
            if table is not None and is_pill(table):
                table = None
            self.check_query(comp, value, table, path)

    def check_query(self, comp: Component | None, query: str, table: str | None, path: str) -> None:
        assert self.catalog is not None
        if table is not None and self.catalog.table(table) is None:
            return  # reported as unknown_table on the table input
        for term in parse_query(query):
            if term.field is None:
                if not term.is_directive and not is_pill(term.raw):
                    self.error(
                        "bad_query",
                        comp,
                        f"{term.raw!r} is not a `field<OP>value` condition "
                        "(e.g. priority<=2 or state=6)",
                        path,
                    )
                continue
            column: Column | None = None
            if is_pill(term.field):
                resolved = self.resolve_pill_text(comp, term.field)
                column = resolved.column if resolved else None
            elif table is not None:
                column = self.walk_columns(comp, table, term.field.split("."), path)
                if column is None:
                    continue
            if column is not None and term.operator in VALUE_OPERATORS:
                self.check_choice(comp, column, term.value, path)
                if column.reference and is_pill(term.value):
                    self.check_reference_pill(comp, term.raw, column, term.value, path)

    def check_reference_pill(
        self, comp: Component | None, raw: str, column: Column, value: str, path: str
    ) -> None:
        """A reference field holds a record's sys_id: a pill compared with or written to
        one must be a record of the referenced table (or of a table one of them extends),
        not a date, number, flag or choice. Text passes: a step may return a sys_id as text."""
        assert self.catalog is not None
        held = self.resolve_pill_text(comp, value)
        reference = column.reference
        if (
            reference is None
            or held is None
            or held.type in ("string", "unknown", "records", "array")
        ):
            return
        if held.type not in ("record", "reference"):
            self.error(
                "pill_type_mismatch",
                comp,
                f"{raw!r}: {column.name} holds a record of {reference}, but {value} "
                f"is of type {held.type}; use the record itself (a pill that ends on a record)",
                path,
            )
            return
        if held.table is None or related_tables(self.catalog, held.table, reference):
            return
        self.error(
            "pill_type_mismatch",
            comp,
            f"{raw!r}: {column.name} holds a record of {reference}, but {value} is "
            f"a record of {held.table}",
            path,
        )

    def walk_columns(
        self, comp: Component | None, table: str, fields: list[str], path: str
    ) -> Column | None:
        """Follow `caller_id.manager.email` from `table`; report the first missing field."""
        assert self.catalog is not None
        column: Column | None = None
        current: str | None = table
        for i, name in enumerate(fields):
            if current is None:
                return None
            column = self.catalog.column(current, name)
            if column is None:
                walked = ".".join(fields[: i + 1])
                self.error(
                    "unknown_column",
                    comp,
                    f"{walked!r}: table {current!r} has no column {name!r}",
                    path,
                )
                return None
            current = column.reference
        return column

    def check_choice(self, comp: Component | None, column: Column, value: str, path: str) -> None:
        allowed = column.choice_values()
        if not allowed or "{{" in value:
            return
        for v in value.split(","):
            if v.strip() and v.strip() not in allowed:
                shown = ", ".join(f"{c.value} ({c.label})" for c in column.choices or [])
                self.error(
                    "unknown_choice",
                    comp,
                    f"{column.name} has no choice value {v.strip()!r}; stored values: {shown}",
                    path,
                )

    # -- data pills --------------------------------------------------------------------
    def check_pills(self) -> None:
        if self.flow.trigger:
            for j, inp in enumerate(self.flow.trigger.inputs):
                self.check_pill_value(None, inp, f"trigger.inputs[{j}]")
        for i, comp in enumerate(self.flow.components):
            for j, inp in enumerate(comp.inputs):
                self.check_pill_value(comp, inp, f"components[{i}].inputs[{j}]")

    def check_pill_value(self, comp: Component | None, inp: FlowInput, path: str) -> None:
        for pill in find_pills(inp.value):
            if isinstance(pill, PillSyntaxError):
                self.error("pill_syntax", comp, str(pill), path)
                continue
            resolved = self.resolve(comp, pill, inp.name, path)
            if resolved is None or comp is None:
                continue
            if (
                comp.category == "flowlogic"
                and comp.definition == "FOREACH"
                and inp.name == "items"
            ):
                if resolved.type not in ("records", "array", "unknown"):
                    self.error(
                        "pill_type_mismatch",
                        comp,
                        f"FOREACH items must be a list of records, but {{{{{pill.raw}}}}} "
                        f"is a {resolved.type}",
                        path,
                    )
            elif resolved.type == "records" and self.param_type(comp, inp.name) in (
                "record",
                "reference",
            ):
                self.error(
                    "pill_type_mismatch",
                    comp,
                    f"{inp.name} takes one record but {{{{{pill.raw}}}}} is a list of "
                    "records; loop over it with FOREACH and use the item",
                    path,
                )

    def param_type(self, comp: Component, name: str) -> str | None:
        if self.catalog is None or comp.category == "flowlogic":
            return None
        step = self.catalog.step(comp.definition)
        param = step.input(name) if step else None
        return param.type if param else None

    def resolve_pill_text(self, comp: Component | None, text: str) -> _Value | None:
        pills = find_pills(text)
        if len(pills) != 1 or isinstance(pills[0], PillSyntaxError):
            return None
        return self.resolve(comp, pills[0], "", "", report=False)

    def resolve(
        self, comp: Component | None, pill: Pill, input_name: str, path: str, report: bool = True
    ) -> _Value | None:
        """Check a pill is reachable from `comp` and return what it holds (if known)."""

        def fail(code: str, message: str) -> None:
            if report:
                self.error(code, comp, message, path)

        shown = f"{{{{{pill.raw}}}}}"
        if pill.root == "trigger":
            return self.resolve_trigger(pill, shown, fail)
        if pill.root == "subflow_inputs":
            declared = {p.name for p in self.flow.input_params}
            if not self.flow.is_subflow:
                fail("pill_unknown_output", f"{shown}: only a subflow has subflow_inputs")
            elif declared and pill.output not in declared:
                fail(
                    "pill_unknown_output", f"{shown}: the subflow declares no input {pill.output!r}"
                )
            else:
                return self.resolve_subflow_input(pill, shown, fail)
            return None
        if pill.root == "flow_var":
            before = [c for c in self.flow.components if comp is None or c.order < comp.order]
            if not any(
                c.definition == "SETFLOWVARIABLES" and c.input_value(pill.output) is not None
                for c in before
            ):
                fail(
                    "pill_unknown_output",
                    f"{shown}: no earlier SETFLOWVARIABLES sets {pill.output!r}",
                )
            return None
        assert isinstance(pill.root, int)
        source = self.by_order.get(pill.root)
        if source is None:
            fail("pill_unknown_step", f"{shown}: there is no step {pill.root}")
            return None
        if comp is None:
            fail("pill_later_step", f"{shown}: the trigger runs before every step")
            return None
        if not self.in_scope(comp, source, input_name):
            if (
                source.category == "flowlogic"
                and source.definition == "FOREACH"
                and source.order < comp.order
            ):
                fail(
                    "pill_out_of_scope",
                    f"{shown}: the item of FOREACH {source.order} only exists inside that "
                    f"loop, and step {comp.order} is outside it",
                )
            elif source.order >= comp.order:
                fail(
                    "pill_later_step",
                    f"{shown}: step {source.order} runs after step {comp.order}; a pill can "
                    "only use data of earlier steps",
                )
            else:
                fail(
                    "pill_out_of_scope",
                    f"{shown}: step {source.order} is inside a branch or loop that does not "
                    f"contain step {comp.order}, so its data may not exist there",
                )
            return None
        return self.resolve_step_output(source, pill, shown, fail)

    def in_scope(self, comp: Component, source: Component, input_name: str) -> bool:
        own = self.ancestors(comp)
        enclosing = set(own)
        if comp.definition == "DOUNTIL" and input_name == "condition":
            enclosing.add(comp.order)  # evaluated after each pass: its body's data exists
        elif source.order >= comp.order:
            return False
        if source.definition == "FOREACH" and source.category == "flowlogic":
            # `{{F.item}}` only exists inside the loop F.
            return source.order in own
        return all(a in enclosing for a in self.ancestors(source))

    def resolve_subflow_input(self, pill: Pill, shown: str = "", fail: Any = None) -> _Value | None:
        """What a declared subflow input holds: its type, and the table of a reference or
        records input (None for an undeclared one or one of unknown type)."""
        param = next((p for p in self.flow.input_params if p.name == pill.output), None)
        if param is None or param.type is None:
            return None
        table = param.reference if param.type in ("reference", "records", "record") else None
        return self.walk_pill(_Value(param.type, table), pill, shown, fail or (lambda *_: None))

    def resolve_trigger(self, pill: Pill, shown: str, fail: Any) -> _Value | None:
        trigger = self.flow.trigger
        if trigger is None or trigger.type is None:
            fail("pill_unknown_output", f"{shown}: a subflow has no trigger; use subflow_inputs")
            return None
        if self.catalog is None:
            return None
        definition = self.catalog.trigger(trigger.type)
        if definition is None:
            return None
        output = definition.output(pill.output)
        if output is None:
            outs = ", ".join(o.name for o in definition.outputs) or "none"
            fail(
                "pill_unknown_output",
                f"{shown}: trigger {trigger.type} has no output {pill.output!r} (outputs: {outs})",
            )
            return None
        values = {i.name: i.value for i in trigger.inputs}
        return self.walk_pill(self.output_value(output, values), pill, shown, fail)

    def resolve_step_output(
        self, source: Component, pill: Pill, shown: str, fail: Any
    ) -> _Value | None:
        if source.category == "flowlogic":
            logic = FLOW_LOGIC.get(source.definition)
            if logic is None:
                return None
            if pill.output not in logic.outputs:
                outs = ", ".join(logic.outputs) or "none"
                fail(
                    "pill_unknown_output",
                    f"{shown}: {source.definition} has no output {pill.output!r} (outputs: {outs})",
                )
                return None
            if source.definition == "FOREACH" and pill.output == "item":
                items = source.input_value("items")
                over = self.resolve_pill_text(source, items) if items else None
                table = over.table if over else None
                return self.walk_pill(_Value("record", table), pill, shown, fail)
            return _Value("integer" if pill.output == "index" else "string")
        if self.catalog is None:
            return None
        step = self.catalog.step(source.definition)
        if step is None:
            return None
        output = step.output(pill.output)
        if output is None:
            outs = ", ".join(o.name for o in step.outputs) or "none"
            fail(
                "pill_unknown_output",
                f"{shown}: step {source.order} ({source.definition}) has no output "
                f"{pill.output!r} (outputs: {outs})",
            )
            return None
        values = {i.name: i.value for i in source.inputs}
        return self.walk_pill(self.output_value(output, values), pill, shown, fail)

    def output_value(self, output: Param, inputs: dict[str, str]) -> _Value:
        table = output.reference
        if output.table_input:
            table = inputs.get(output.table_input)
            if table is not None and is_pill(table):
                table = None
        return _Value(output.type, table)

    def walk_pill(self, value: _Value, pill: Pill, shown: str, fail: Any) -> _Value | None:
        if not pill.path:
            return value
        if self.catalog is None:
            return None
        if value.type == "records":
            fail(
                "pill_unknown_field",
                f"{shown}: {pill.output} is a list of records and has no fields; loop over it "
                "with FOREACH and dot-walk the item",
            )
            return None
        current = value
        for name in pill.path:
            if current.type not in ("record", "reference"):
                fail(
                    "pill_unknown_field",
                    f"{shown}: cannot dot-walk to {name!r} through a {current.type} value; "
                    "only reference fields lead to another record",
                )
                return None
            if current.table is None:
                return None  # the table is only known at run time: nothing more to check
            column = self.catalog.column(current.table, name)
            if column is None:
                fail(
                    "pill_unknown_field", f"{shown}: table {current.table!r} has no column {name!r}"
                )
                return None
            current = _Value(column.type, column.reference, column)
        return current
