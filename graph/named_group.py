"""A look-up of the one group its words name: "look up the Escalation Management group"
is `look_up_record` on `sys_user_group` with `name=Escalation Management`.

The small model reads the name's words as a table: "the Escalation Management group"
became a look-up of escalations, "the Vulnerability Management group" one of vulnerable
items. A look_up_record whose span names a group by a capitalised name followed by
"group", "team" or "queue" gets the group table and the name, as 32 of the 33 such
hand-written gold look-ups of train and dev have them. A look-up of the group table
whose condition already holds the name is left as written: the 33rd names its group by
a shorter name ("the VIP group" is `name=VIP Support`). Installations without a group
table, or whose group table has no `name` column, are left alone.

Measured (issue 19, twenty-ninth session): replayed on the shipped flows of all 184 dev
cases, 2 flows changed, both closer to gold (full FlowSim +0.0012 a case).
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import CatalogView
from flowgen.flow.model import FlowInput

GROUP_TABLE = "sys_user_group"
# "the Service Desk team", "the CAB group", "the Networking EMEA queue": capitalised words
# (with "of", "and", "&" between them) right before the noun.
_NAMED_GROUP = re.compile(
    r"\b((?:[A-Z0-9][\w&.-]*)(?: (?:[A-Z0-9][\w&.-]*|of|and|&))*) (?:group|team|queue)\b"
)


def named_group(annotation: str) -> str | None:
    """The group name the span gives before "group", "team" or "queue", or None."""
    found = _NAMED_GROUP.search(annotation)
    return found.group(1) if found else None


def look_up_named_group(
    inputs: list[FlowInput], annotation: str, catalog: CatalogView
) -> tuple[list[FlowInput], list[str]]:
    """A look_up_record's inputs as the look-up of the group its span names (see above),
    and `old -> new` for the trace."""
    name = named_group(annotation)
    if name is None or catalog.column(GROUP_TABLE, "name") is None:
        return inputs, []
    wanted = {"table": GROUP_TABLE, "conditions": f"name={name}"}
    written = {i.name: i.value for i in inputs}
    if (
        written.get("table") == GROUP_TABLE
        and name.lower() in written.get("conditions", "").lower()
    ):
        return inputs, []  # the group by this name, or by a longer one ("VIP" for VIP Support)
    kept = [i for i in inputs if i.name not in wanted]
    grounded = [FlowInput(name=k, value=v) for k, v in wanted.items()] + kept
    before = " ".join(f"{k}={written[k]}" for k in wanted if k in written)
    return grounded, [f"{before} -> table={GROUP_TABLE} conditions=name={name}"]
