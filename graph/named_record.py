"""The record an update's words name through the trigger's record: "When an RMA is
refunded, add a work note to the case" updates the RMA's case, `{{trigger.current.case}}`
on the case table, not the RMA.

The small model updates the trigger's record whatever its span names: on dev it wrote
`update_record | add a work note to the case` on the RMA, and `move the parent incident
to resolved` on the incident task that triggered the flow. Where an update_record's span
names a table by its label (one word is enough: graph/named_table.py's look-up rule)
other than the trigger's, the trigger's table has exactly one reference column to it, and
the model wrote the trigger's record, the update works on the record that column holds.
Not for users and groups, nor for a table named after an object pronoun: in "assign it
to the Network group", "link it to the open problem", the named record is where the
update points the trigger's record, not the record updated. The values stay as written
where every field they set is a column of the named table; otherwise nothing changes (a
field of the trigger's table would fail validation on the other).

Gold: the hand-written train and dev updates the rule would change are 23; 21 update the
named record that way (the others: "post a comment to the contact ...", where the contact
is the recipient, and an update inside a loop, whose record is not the trigger's). No
synthetic update names another table so.
"""

from __future__ import annotations

import re
from typing import Any

from flowgen.flow.catalog import CatalogView
from flowgen.flow.encoded_query import parse_query
from flowgen.flow.model import FlowInput
from flowgen.graph.named_table import named_table

TRIGGER_RECORD = "{{trigger.current}}"
# Assignees, not records an update works on: "route it to the product's owner group".
PEOPLE_TABLES = frozenset({"sys_user", "sys_user_group"})
_OBJECT_PRONOUN = re.compile(r"\b(?:it|them)\b")


def _references(catalog: CatalogView, table: str, target: str) -> list[str]:
    """The columns of `table` (and of the tables it extends) that reference `target`."""
    found: list[str] = []
    seen: set[str] = set()
    current = catalog.table(table)
    while current is not None and current.name not in seen:
        seen.add(current.name)
        found += [c.name for c in current.columns if c.reference == target]
        current = catalog.table(current.extends) if current.extends else None
    return found


def update_named_record(
    inputs: list[FlowInput],
    annotation: str,
    trigger_table: str | None,
    tables: list[dict[str, Any]],
    catalog: CatalogView,
) -> tuple[list[FlowInput], list[str]]:
    """An update_record's inputs on the record its span names through the trigger's
    record (see above), and `old -> new` for the trace. `tables`: the installation's
    tables (`name`, `label`)."""
    written = {i.name: i.value for i in inputs}
    if not trigger_table or written.get("record") != TRIGGER_RECORD:
        return inputs, []
    named = named_table(annotation, tables, min_words=1)
    if named is None or named == trigger_table or named in PEOPLE_TABLES:
        return inputs, []
    label = next((str(t.get("label") or "") for t in tables if t["name"] == named), "")
    where = annotation.lower().find(label.lower()) if label else -1
    if where < 0 or _OBJECT_PRONOUN.search(annotation.lower()[:where]):
        return inputs, []
    columns = _references(catalog, trigger_table, named)
    if len(columns) != 1:
        return inputs, []
    fields = [t.field for t in parse_query(written.get("values", "")) if t.field]
    if any(catalog.column(named, f.split(".")[0]) is None for f in fields):
        return inputs, []
    record = f"{{{{trigger.current.{columns[0]}}}}}"
    changed = {"record": record, "table_name": named}
    new = [FlowInput(name=i.name, value=changed.get(i.name, i.value)) for i in inputs]
    if "table_name" not in written:
        new.append(FlowInput(name="table_name", value=named))
    return new, [f"{written.get('table_name')} {TRIGGER_RECORD} -> {named} {record}"]
