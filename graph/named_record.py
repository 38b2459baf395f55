"""The record an update's words name through the trigger's record: "When an RMA is
refunded, add a work note to the case" updates the RMA's case, `{{trigger.current.case}}`
on the case table, not the RMA.

The small model updates the trigger's record whatever its span names: on dev it wrote
`update_record | add a work note to the case` on the RMA, `move the parent incident to
resolved` on the incident task that triggered the flow, and `mark the linked security
incident high severity` on the phishing report (setting the report's verdict). Where an
update_record's span names a table by its label (one word is enough, as for look-ups in
graph/named_table.py) other than the trigger's, the trigger's table has exactly one
reference column to it, and neither a record of that table (a look-up's) nor a loop's
item (inside a loop the update is most often on the item) is in scope, the inputs grammar
admits only that column's record and table, and the turn shows that table's columns
first, so the values are written for it. Not for users and groups, nor for a table
named after an object pronoun: in "assign it to the Network group", "link it to the open
problem", the named record is where the update points the trigger's record, not the
record updated.

Gold: of the hand-written train and dev updates the rule names a record for, all but one
update it (the other, "post a comment to the contact ...", comments on the case to its
contact); no synthetic update names another table so.

The trigger's own record, named (thirty-sixth session): "link it on the report", "set the
report verdict to phishing", "close the report as clean" in a phishing report's flow
update the report, but adapter v11 wrote them on `sn_si_incident` with the record
`{{trigger.current}}` (a table the record is not of), the security incident it had just
created being the last table it saw. Where an update_record's span names the trigger's
table after "the", "this", "that" or "its" by its label or the label's last word ("the
report" for Phishing Report), names no table whose label ends in another word, and no
other record of the trigger's table nor a loop's item is in scope, the inputs grammar
admits only the trigger's record and table. On the hand-written train and dev updates the
rule names the trigger's record 67 times, all of them gold's; no synthetic one. Live on
the 184 dev cases it changed 7 flows: 3 closer to gold, none further.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from functools import cache
from typing import Any

from flowgen.flow.catalog import CatalogView
from flowgen.flow.validator import PillRoot
from flowgen.graph.named_table import named_table, written_out

# Assignees, not records an update works on: "route it to the product's owner group".
PEOPLE_TABLES = frozenset({"sys_user", "sys_user_group"})
_OBJECT_PRONOUN = re.compile(r"\b(?:it|them)\b")
RECORD_TYPES = frozenset({"record", "records"})
TRIGGER_RECORD = "trigger.current"


def _references(catalog: CatalogView, table: str, target: str) -> list[str]:
    """The reference columns to `target` that `table` and each table it extends declare
    (a column a child declares again counts again: "the affected configuration item",
    `cmdb_ci` on both the vulnerable item and its task, names no one record)."""
    found: list[str] = []
    seen: set[str] = set()
    current = catalog.table(table)
    while current is not None and current.name not in seen:
        seen.add(current.name)
        found += [c.name for c in current.columns if c.reference == target]
        current = catalog.table(current.extends) if current.extends else None
    return found


def named_record(
    annotation: str,
    pills: Sequence[PillRoot],
    tables: Sequence[Mapping[str, Any]],
    catalog: CatalogView,
) -> tuple[str, str] | None:
    """(table, record pill) an update_record's span names through the trigger's record
    (see above), or None. `pills`: the roots in scope; `tables`: the installation's
    tables (`name`, `label`)."""
    trigger_table = next((p.table for p in pills if p.text == TRIGGER_RECORD), None)
    if not trigger_table or any(p.text.endswith(".item") for p in pills):
        return None  # inside a loop the update is on its item, or the model's choice
    named = named_table(annotation, tables, min_words=1)
    if named is None or named == trigger_table or named in PEOPLE_TABLES:
        return None
    if any(p.type in RECORD_TYPES and p.table == named for p in pills):
        return None  # a record of that table found before: the model chooses
    label = next((str(t.get("label") or "") for t in tables if t["name"] == named), "")
    where = annotation.lower().find(label.lower()) if label else -1
    if where < 0 or _OBJECT_PRONOUN.search(annotation.lower()[:where]):
        return None
    columns = _references(catalog, trigger_table, named)
    if len(columns) != 1:
        return None
    return named, f"{{{{{TRIGGER_RECORD}.{columns[0]}}}}}"


@cache  # every table's label is tried on each update's span
def _determined(label: str) -> re.Pattern[str]:
    """`label`, or its last word, after a determiner: "the phishing report", "the report"."""
    words = label.lower().split()
    said = "|".join({r"\s+".join(map(re.escape, words)), re.escape(words[-1])})
    return re.compile(rf"\b(?:the|this|that|its)\s+(?:{said})(?:s|es)?\b")


def named_trigger_record(
    annotation: str, pills: Sequence[PillRoot], tables: Sequence[Mapping[str, Any]]
) -> tuple[str, str] | None:
    """(trigger's table, `{{trigger.current}}`) where an update_record's span names the
    trigger's own record (see above), or None. `pills`: the roots in scope; `tables`: the
    installation's tables (`name`, `label`)."""
    trigger_table = next((p.table for p in pills if p.text == TRIGGER_RECORD), None)
    if not trigger_table or any(p.text.endswith(".item") for p in pills):
        return None
    if any(
        p.type in RECORD_TYPES and p.table == trigger_table and p.text != TRIGGER_RECORD
        for p in pills
    ):
        return None  # another record of the trigger's table: the model chooses
    labels = {str(t["name"]): str(t.get("label") or "").strip() for t in tables}
    label = labels.get(trigger_table)
    if not label:
        return None
    text = written_out(annotation)
    if not _determined(label).search(text):
        return None
    head = label.lower().split()[-1]
    for other in labels.values():
        if other and other.lower().split()[-1] != head and _determined(other).search(text):
            return None  # "add a work note on the case with the escalation reason"
    return trigger_table, f"{{{{{TRIGGER_RECORD}}}}}"
