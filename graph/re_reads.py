"""The record read again after a wait, before the test of whether it still is as it was.

"When a case is resolved, wait two days, and if the customer hasn't reopened it, close
it": a flow's trigger record is the record as it was when the flow started, so the
hand-written gold flows look it up again after the wait (`look_up_record` on the
trigger's table, `number={{trigger.current.number}}` and the state the words test) and
the IF tests what that look-up found. Of the hand-written train and dev flows where an IF
whose words say the record is "still" so, or "hasn't", "isn't", "not yet" so, comes right
after a wait (a Wait For Duration or a Wait For Condition), 10 of 10 read the record
again in between; the small model wrote the IF straight after the wait (3 dev flows).
Where it did, a `look_up_record` on the IF's words goes between them, and the inputs
calls fill it as the gold look-ups are filled. The synthetic flows follow another habit
(49 of them test right after the wait); test and ood, like dev, are hand-written.

It runs with the last outline repairs: the span-ordered ones before it would read a
look-up on its IF's words as one step written twice.
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import CORE_SCOPE, CatalogView, Column
from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.flow.model import Component, Flow
from flowgen.flow.validator import PillRoot, pill_roots

WAITS = frozenset({"WAITFORDURATION", "wait_for_condition"})
# Words that test whether the record stayed as it was.
STILL = re.compile(r"\b(?:still|yet|no\s+longer|any\s?more)\b|n[’']t\b|\bnot\b", re.I)
RE_READ = "look_up_record"


def _untested_wait(flow: Flow) -> tuple[int, Component] | None:
    """(index in the flow, the IF) of the first IF right after a wait that tests the
    record's staying so without reading it again."""
    for wait in flow.components:
        if wait.definition not in WAITS:
            continue
        _, test = flow.neighbours(wait)
        if test is not None and test.definition == "IF" and STILL.search(test.annotation or ""):
            return flow.components.index(test), test
    return None


def add_re_reads(flow: Flow) -> tuple[Flow, list[str]]:
    """`flow` with the record read again between a wait and the IF that tests it (see
    above), and the IFs' words for each look-up added."""
    added: list[str] = []
    while (found := _untested_wait(flow)) is not None:
        at, test = found
        added.append(test.annotation or "IF")
        read = Component(
            order=-1,
            block=test.block,
            category="action",
            definition=RE_READ,
            scope=CORE_SCOPE,
            annotation=test.annotation,
        )
        comps = list(flow.components)
        comps.insert(at, read)
        flow = flow.with_components(comps)
    return flow, added


# What the gold re-reads hold (13 of 13 hand-written): the trigger's record found again by
# its number, and the IF that tests that the look-up found it.
NUMBER_COLUMNS = ("number", "u_number")
TRIGGER_RECORD = "trigger.current"


def _re_read(flow: Flow, order: int) -> Component | None:
    """The look-up `order`, where it reads a record again between a wait and an IF."""
    comp = flow.component(order)
    if comp is None or comp.definition != RE_READ:
        return None
    before, after = flow.neighbours(comp)
    if before is None or before.definition not in WAITS or after is None:
        return None
    return comp if after.definition == "IF" else None


def re_read_table(flow: Flow, order: int, pills: list[PillRoot]) -> str | None:
    """The table a re-read looks up (the trigger's record's), or None: not a re-read, or
    no trigger record in scope."""
    if _re_read(flow, order) is None:
        return None
    return next((p.table for p in pills if p.text == TRIGGER_RECORD and p.table), None)


def by_number(
    query: str | None, table: str, table_label: str | None, annotation: str, columns: list[Column]
) -> str | None:
    """A re-read's condition (graph/choice_grounding.py's `QueryRule`), opening with the
    trigger's record's number; None where it holds a number term already or the table
    has no number."""
    number = next((c.name for c in columns if c.name in NUMBER_COLUMNS), None)
    terms = parse_query(query) if query else []
    if number is None or any(t.field == number for t in terms):
        return None
    if any(t.connector != "AND" for t in terms):
        return None
    found = f"{number}={{{{{TRIGGER_RECORD}.{number}}}}}"
    return join_parts([("AND", found), *((t.connector, t.raw) for t in terms)])


def re_read_test(flow: Flow, order: int, catalog: CatalogView) -> dict[str, str] | None:
    """The condition of IF `order` right after a re-read, whose words test that the record
    is still so (the look-up found it), given without a model call; None otherwise."""
    comp = flow.component(order)
    if comp is None or comp.definition != "IF" or not STILL.search(comp.annotation or ""):
        return None  # "if it is revoke" tests what the look-up found, not that it did
    read, _ = flow.neighbours(comp)
    if read is None or _re_read(flow, read.order) is None:
        return None
    found = f"{read.order}.record"
    if found not in {r.text for r in pill_roots(flow, catalog, order, "condition")}:
        return None
    return {"condition": f"{{{{{found}}}}}ISNOTEMPTY"}
