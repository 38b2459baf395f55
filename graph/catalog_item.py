"""The catalog item a requested item's trigger names: "When a requested item for a new
monitor is approved" is `approvalCHANGESTOapproved^cat_itemLIKEmonitor`, "When a catalog
task for a laptop is closed complete" tests `request_item.cat_itemLIKElaptop`.

The small model writes the event and leaves out which item it is for: the item's name is
a record of the catalog, not a choice the grounding rules can read from a column
(fifty-fifth session: on the rephrased train cases, 3 of 3 such triggers lacked it).
Where a record trigger on a requested item or a catalog task says "<requested item /
catalog request / catalog task> ... for (or of) a [new] <item>", and its condition tests
no catalog item yet, the item is added as a `LIKE` test on the item's name, as the
experts write it. Gold: every hand-written and rephrased train and dev record trigger on
those tables whose words say it so (7) tests the item that way; no synthetic one does.
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import CatalogView
from flowgen.flow.encoded_query import parse_query
from flowgen.flow.model import FlowInput
from flowgen.graph.choice_grounding import with_input

# The field that holds a record's catalog item, by the trigger's table.
ITEM_FIELD = {"sc_req_item": "cat_item", "sc_task": "request_item.cat_item"}
_RECORD = r"(?:requested|request|req)\s+items?|ritms?|catalog\s+(?:requests?|tasks?)"
# Words that end the item's name ("a new phone is submitted", "a monitor, and ...").
_END = (
    r"is|are|was|were|gets?|has|have|had|moves?|goes|becomes?|changes?|and|or|that|which|"
    r"with|to|from|in|on|by|at|when|once|after|before|then"
)
_NAMED = re.compile(
    rf"\b(?:{_RECORD})\b[^,.;:]{{0,25}}?\b(?:for|of)\s+(?:a|an|the)\s+(?:new\s+)?"
    rf"((?:(?!(?:{_END})\b)[a-z][\w-]*\s+){{0,2}}?(?!(?:{_END})\b)[a-z][\w-]*)"
    rf"(?=\s+(?:{_END})\b|\s*[,.;:]|\s*$)",
    re.IGNORECASE,
)
# Who a request is for is no item: "a requested item for a new hire", "for the user".
_NO_ITEM = frozenset(
    "user person requester customer employee manager someone contractor hire starter joiner "
    "member team group department item request task catalog".split()
)


def item_named(annotation: str) -> str | None:
    """The catalog item the words name a requested item or catalog task for, if any."""
    match = _NAMED.search(annotation)
    if match is None:
        return None
    name = match.group(1)
    return None if set(name.lower().split()) & _NO_ITEM else name


def add_catalog_item(
    inputs: list[FlowInput], annotation: str, catalog: CatalogView
) -> tuple[list[FlowInput], str | None]:
    """A record trigger's inputs with the catalog item its words name added to the
    condition (see above), and the term added; as they are where the table holds no
    catalog item, the words name none or the condition already tests one."""
    values = {i.name: i.value for i in inputs}
    table = values.get("table")
    field = ITEM_FIELD.get(table or "")
    if field is None or catalog.column(str(table), field.split(".")[0]) is None:
        return inputs, None
    name = item_named(annotation)
    condition = values.get("condition") or ""
    tested = {t.field for t in parse_query(condition)} if condition else set()
    if name is None or any(f and f.endswith("cat_item") for f in tested):
        return inputs, None
    term = f"{field}LIKE{name}"
    return with_input(inputs, "condition", f"{condition}^{term}" if condition else term), term
