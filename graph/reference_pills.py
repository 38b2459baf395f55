"""A reference column compared with, or set to, a record: never a date, a number or text.

In an encoded query (a condition, a step's `values`), a term on a reference column
(`assigned_to` → sys_user) holds a record of that table. The small model reaches past
the record into one of its fields: "find all incidents assigned to them" came out as
`assigned_to={{trigger.current.active}}` (a boolean), "link it to the incident" as
`security_incident={{trigger.current.source_ip}}`; or it takes a pill of another kind
altogether: `account={{trigger.run_start_time}}` (a datetime), `assignment_group=
{{1.count}}` (an integer). ServiceNow stores a sys_id in a reference field: such a flow
matches nothing, or writes a broken reference.

Of the 624 terms of the train and dev gold flows that compare a reference column with a
pill, none takes a date, number, text or boolean: every one is a record or a reference.
So where the pill ends on such a scalar, it is cut back to the longest part of it that is
a record of the column's table (`{{trigger.current.active}}` → `{{trigger.current}}` when
the trigger's record is the user the column refers to); where no part is, the term goes.
A pill through a column the catalog does not know is left as written.

A record of another table is mended too (thirty-ninth session; the validator reports
such terms since, `pill_type_mismatch`): `security_incident={{trigger.current}}` on an
observable takes the record's own reference of that name
(`{{trigger.current.security_incident}}`), else the one record of the wanted table in
scope, else the record's one reference of that table; failing those, the column was the
wrong one when the queried table has exactly one column holding such a record
(`assigned_to={{trigger.current}}` on a server's incidents → `cmdb_ci={{trigger.current}}`).
Otherwise the term goes, as a scalar's does. Kept in a condition for the validator to
send back, none of dev's terms was mended by the model's second answer.

A step's record input (`record`, `case`, `incident`) holding a record of an unrelated
table is mended by the first two of those rules (`settle_record`); the input is required,
so where neither applies it stays as written. Dev's shipped flows held one in 30 of 177.

A record or reference input holding a scalar is mended too (fifty-sixth session): on an
installation it never trained on, adapter v11 fills its steps' typed inputs with fields
(`person={{trigger.current.subject_person.name}}`, `building=
{{trigger.current.request_type}}`, `building={{3.count}}`). The longest part of the
pill that is a record of the input's table, else a record's own reference of the input's
name, else the one such record in scope. An identifier input (`employee_id`) takes its
record's column of that name. No gold input of train, dev or dev-unseen changes; on the
shipped flows of dev-unseen, dev and the rephrased train cases 19 inputs change to
gold's, none away from it.
"""

from __future__ import annotations

from dataclasses import replace

from flowgen.flow.catalog import CatalogView, Param, related_tables
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.flow.model import Flow, FlowInput
from flowgen.flow.pills import is_pill
from flowgen.flow.validator import PillRoot, pill_roots
from flowgen.graph.choice_grounding import ColumnsOf, field_column

RECORD_TYPES = frozenset({"record", "reference"})
LIST_TYPES = frozenset({"records", "array"})


def _tables_of(catalog: CatalogView, table: str | None) -> set[str]:
    """The table and every table it extends."""
    return {table, *catalog.lineage(table)} if table else set()


def _related(catalog: CatalogView, table: str, other: str | None) -> bool:
    return other is None or related_tables(catalog, table, other)


def _prefixes(
    roots: list[PillRoot], columns_of: ColumnsOf, pill: str
) -> list[tuple[str, str, str | None]] | None:
    """(text, type, table) of each prefix of `pill` (without braces) from its root on;
    None where the root is not among `roots` or a part is not a known column."""
    parts = pill.split(".")
    root = next((r for r in roots if r.text == ".".join(parts[:2])), None)
    if root is None:
        return None
    chain = [(root.text, root.type, root.table)]
    for k in range(3, len(parts) + 1):
        walked = ".".join(parts[2:k])
        column = field_column(root.table, walked, columns_of) if root.table else None
        if column is None:
            return None
        chain.append((".".join(parts[:k]), column.type, column.reference))
    return chain


def _record_of(
    pill: str,
    table: str,
    field: str,
    wanted: str | None,
    roots: list[PillRoot],
    catalog: CatalogView,
    columns_of: ColumnsOf,
    any_reference: bool = True,
) -> str | None:
    """For `pill`, a record of `table` where a record of `wanted` is asked: the record's
    own reference of the field's name (`security_incident={{trigger.current}}` on an
    observable → `{{trigger.current.security_incident}}`), else the one record of that
    table among `roots` (`{{1.record}}`, the incident step 1 created), else the record's
    one reference of that table; None where none or several would do."""
    references = [
        c
        for c in columns_of(table)
        if c.type == "reference" and _related(catalog, c.reference or "", wanted)
    ]
    named = [c for c in references if c.name == field.rsplit(".", 1)[-1]]
    if named:
        return f"{pill}.{named[0].name}"
    fitting = _one_record_in_scope(roots, wanted, catalog)
    if fitting is not None:
        return fitting
    return f"{pill}.{references[0].name}" if any_reference and len(references) == 1 else None


def _one_record_in_scope(
    roots: list[PillRoot], wanted: str | None, catalog: CatalogView
) -> str | None:
    """The one record of `wanted`'s table among the pills in scope, or None."""
    fitting = [
        r.text
        for r in roots
        if r.type in RECORD_TYPES and r.table and _related(catalog, r.table, wanted)
    ]
    return fitting[0] if len(fitting) == 1 else None


def _records(chain: list[tuple[str, str, str | None]]) -> list[tuple[str, str]]:
    """(text, table) of each part of a pill's chain before its last that is a record."""
    return [(text, of) for text, type_, of in chain[:-1] if type_ in RECORD_TYPES and of]


def _refers_by_name(
    table: str, name: str, wanted: str, catalog: CatalogView, columns_of: ColumnsOf
) -> bool:
    """Whether `table` has a reference column called `name` to a record of `wanted`."""
    return any(
        c.name == name and c.type == "reference" and _related(catalog, c.reference or "", wanted)
        for c in columns_of(table)
    )


def _column_to(table: str, held: str, catalog: CatalogView, columns_of: ColumnsOf) -> str | None:
    """The one reference column of `table` that refers to a record of `held`: the model
    compared the wrong column with the right record (`assignment_group={{trigger.current}}`
    on cases, the trigger's record an account: `account`)."""
    fits = [
        c.name
        for c in columns_of(table)
        if c.type == "reference" and _related(catalog, held, c.reference)
    ]
    return fits[0] if len(fits) == 1 else None


def settle_query(
    query: str,
    table: str,
    roots: list[PillRoot],
    catalog: CatalogView,
    columns_of: ColumnsOf,
) -> tuple[str, list[str]]:
    """`query` with each reference column's pill mended to a record of its table, or its
    term dropped (see above); `roots`: the pills in scope. And the changes, as
    `old -> new` or the term dropped."""
    parts: list[tuple[str, str]] = []
    changes: list[str] = []
    carried = ""  # a dropped term's NQ passes to the next term: its group stays a group
    for term in parse_query(query):
        connector = carried if carried and term.connector == "AND" else term.connector
        carried = ""
        term = replace(term, connector=connector)
        column = field_column(table, term.field, columns_of) if term.field else None
        value = term.value
        if column is None or column.type != "reference" or not is_pill(value):
            parts.append((term.connector, term.raw))
            continue
        chain = _prefixes(roots, columns_of, value[2:-2])
        last_type = chain[-1][1] if chain else None
        wanted = _tables_of(catalog, column.reference)
        if chain is None or last_type in LIST_TYPES:
            parts.append((term.connector, term.raw))
            continue
        if last_type in RECORD_TYPES:
            held = chain[-1][2]
            if not wanted or held is None or _related(catalog, held, column.reference):
                parts.append((term.connector, term.raw))
                continue
            field = term.field or ""
            fit = _record_of(
                chain[-1][0], held, field, column.reference, roots, catalog, columns_of
            )
            other = _column_to(table, held, catalog, columns_of) if fit is None else None
            if other is not None and "." not in field:
                raw = other + term.raw[len(field) :]
                parts.append((term.connector, raw))
                changes.append(f"{term.raw} -> {raw}")
                continue
        else:
            fit = next(
                (
                    text
                    for text, type_, of in reversed(chain[:-1])
                    if type_ in RECORD_TYPES and (not wanted or _tables_of(catalog, of) & wanted)
                ),
                None,
            )
        if fit is None:
            changes.append(f"{term.raw} dropped")
            carried = "NQ" if term.connector == "NQ" else carried
            continue
        raw = term.raw[: len(term.raw) - len(value)] + f"{{{{{fit}}}}}"
        parts.append((term.connector, raw))
        changes.append(f"{term.raw} -> {raw}")
    return (join_parts(parts), changes) if changes else (query, [])


def settle_record(
    value: str,
    wanted: str | None,
    name: str,
    roots: list[PillRoot],
    catalog: CatalogView,
    columns_of: ColumnsOf,
) -> str:
    """A record input's pill (`record`, `case`, ...) mended to a record of the table it
    takes (its table input's, or the input's own reference) when it holds a record of an
    unrelated one, as a query term's is: `case={{1.record}}`, the RMA step 1 created, is
    `{{1.record.case}}`. Left as written where nothing mends it (a record input is
    required, and the validator does not check a record input's table yet)."""
    if not wanted or not is_pill(value) or catalog.table(wanted) is None:
        return value
    chain = _prefixes(roots, columns_of, value[2:-2])
    if not chain or chain[-1][1] in LIST_TYPES:
        return value
    if chain[-1][1] not in RECORD_TYPES:
        fit = _scalar_mended(chain, wanted, name, roots, catalog, columns_of)
        return f"{{{{{fit}}}}}" if fit else value
    held = chain[-1][2]
    if held is None or _related(catalog, held, wanted):
        return value
    pill = chain[-1][0]
    fit = _record_of(pill, held, name, wanted, roots, catalog, columns_of, any_reference=False)
    return f"{{{{{fit}}}}}" if fit else value


def _scalar_mended(
    chain: list[tuple[str, str, str | None]],
    wanted: str,
    name: str,
    roots: list[PillRoot],
    catalog: CatalogView,
    columns_of: ColumnsOf,
) -> str | None:
    """For a reference input holding a scalar (`building={{trigger.current.request_type}}`,
    `person={{trigger.current.subject_person.name}}`), the record it should hold: the
    longest part of the pill that is a record of the wanted table
    (`{{trigger.current.subject_person}}`); else, from the pill's root on and then among
    the records in scope, a record's own reference of the input's name
    (`{{trigger.current.building}}`); else the one record of the wanted table in scope;
    else None."""
    wanted_tables = _tables_of(catalog, wanted)
    records = _records(chain)
    for text, of in reversed(records):
        if _tables_of(catalog, of) & wanted_tables:
            return text
    for text, of in records:
        if _refers_by_name(of, name, wanted, catalog, columns_of):
            return f"{text}.{name}"
    # `start_date={{1.hire_date}}`'s step holds no record: the records in scope then
    named_in_scope = [
        f"{r.text}.{name}"
        for r in roots
        if r.type in RECORD_TYPES
        and r.table
        and _refers_by_name(r.table, name, wanted, catalog, columns_of)
    ]
    if len(named_in_scope) == 1:
        return named_in_scope[0]
    return _one_record_in_scope(roots, wanted, catalog)


def settle_identifier(value: str, name: str, roots: list[PillRoot], columns_of: ColumnsOf) -> str:
    """An identifier input (`employee_id`) holding another field of a record whose table
    has a column of the input's name takes that column: `employee_id=
    {{trigger.current.short_description}}` on an HR case is `{{trigger.current.employee_id}}`.
    Every gold `*_id` input whose pill's record has such a column takes it (6 of 6)."""
    records = _records(_prefixes(roots, columns_of, value[2:-2]) or [])
    if not records:
        return value
    text, table = records[-1]
    if not any(c.name == name for c in columns_of(table)):
        return value
    return f"{{{{{text}.{name}}}}}"


def settle_reference_pills(
    inputs: list[FlowInput],
    params: list[Param],
    flow: Flow,
    order: int,
    catalog: CatalogView,
    columns_of: ColumnsOf,
) -> tuple[list[FlowInput], list[str]]:
    """Item `order`'s inputs with every query input's reference terms and every record
    input settled (see above); a query input left with no term goes. And the changes, for
    the trace."""
    values = {i.name: i.value for i in inputs}
    settled: list[FlowInput] = []
    changes: list[str] = []
    for given in inputs:
        param = next((p for p in params if p.name == given.name), None)
        if (
            param is not None
            and param.type == "string"
            and param.name.endswith("_id")
            and is_pill(given.value)
        ):
            roots = pill_roots(flow, catalog, order, given.name)
            identifier = settle_identifier(given.value, param.name, roots, columns_of)
            if identifier != given.value:
                changes.append(f"{given.name}={given.value} -> {identifier}")
            settled.append(given.model_copy(update={"value": identifier}))
            continue
        table = values.get(param.table_input) if param and param.table_input else None
        if param is None or "{{" not in given.value or not (table or param.type in RECORD_TYPES):
            settled.append(given)
            continue
        # The pills in scope, found once for the input (the validator's scope rules).
        roots = pill_roots(flow, catalog, order, given.name)
        if param.type in RECORD_TYPES:
            wanted = table or param.reference
            record = settle_record(given.value, wanted, param.name, roots, catalog, columns_of)
            if record != given.value:
                changes.append(f"{given.name}={given.value} -> {record}")
            settled.append(given.model_copy(update={"value": record}))
            continue
        assert table is not None
        value, changed = settle_query(given.value, table, roots, catalog, columns_of)
        changes += changed
        if value:
            settled.append(given.model_copy(update={"value": value}))
    return settled, changes
