"""An IF on an approval's outcome, read from its words: after an Ask for Approval, "if
they reject it" is `{{2.approval_state}}=rejected` and "if approved" is
`{{2.approval_state}}=approved`.

Every such IF and ELSEIF of the train and dev gold flows is written so: the last
approval asked for before it, its `approval_state`, `approved` or `rejected` as the span
says (756 of 756: 25 hand-written, 731 synthetic). The small model wrote `approved` for
"if they reject it" and tested the environment of a CI for another. So where the span
says one outcome (approve, approved, granted; reject, rejected, denied, declined) and
not the other nor a negation, and that approval's state is in scope, the condition is
given without a model call, as a FOREACH's only list is.
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import CatalogView
from flowgen.flow.model import Flow
from flowgen.flow.validator import pill_roots

ASK = "ask_for_approval"
APPROVED = re.compile(r"\b(?:approves?|approved|grant(?:s|ed)?)\b")
REJECTED = re.compile(r"\b(?:rejects?|rejected|denie[sd]|declines?|declined)\b")
NEGATION = re.compile(r"\b(?:not|no|never|n't|without|unless)\b|n't\b")


def approval_outcome(flow: Flow, order: int, catalog: CatalogView) -> dict[str, str] | None:
    """The condition of IF or ELSEIF `order` when its span states an approval's outcome
    (see above), or None."""
    comp = flow.component(order)
    if comp is None or comp.definition not in ("IF", "ELSEIF"):
        return None
    span = (comp.annotation or "").lower()
    approved, rejected = bool(APPROVED.search(span)), bool(REJECTED.search(span))
    if approved == rejected or NEGATION.search(span):
        return None
    asked = [c.order for c in flow.components if c.order < order and c.definition == ASK]
    if not asked:
        return None
    state = f"{asked[-1]}.approval_state"
    if state not in {r.text for r in pill_roots(flow, catalog, order, "condition")}:
        return None
    return {"condition": f"{{{{{state}}}}}={'approved' if approved else 'rejected'}"}
