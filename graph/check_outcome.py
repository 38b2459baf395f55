"""An IF on what the step right before it found out: after Check Entitlement, "if they
are not entitled" is `{{1.entitled}}=false`; after Check Change Freeze, "if it does" is
`{{1.in_freeze}}=true`.

Every IF and ELSEIF of the hand-written train and dev gold flows whose sibling right
before it is a step with a true/false output tests that output (18 of 18: entitlements,
change freezes, phishing triage, stock, provisioning), `false` where its words deny
("not", "no", "none", "without") and `true` otherwise. The model wrote the freeze's name
for whether there is one (`{{1.freeze_name}}=true`). So the condition is given without a
model call, as an approval's outcome is (graph/approval_outcome.py), where the step has
one such output, or one its words name, and the IF's words name it or nothing else ("if
it does"; an IF on "if the risk is High" right after a freeze check tests the risk).
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import CatalogView
from flowgen.flow.model import Flow
from flowgen.flow.validator import pill_roots
from flowgen.graph.choice_grounding import stems

DENIED = re.compile(r"\b(?:not|no|none|never|without|unless)\b|n't\b", re.I)
# Words of a test that say nothing of what it tests ("if it does", "if so").
_BARE = frozenset(
    stems("if it they he she this that does do did is are was were so not no none then the")
)


def check_outcome(flow: Flow, order: int, catalog: CatalogView) -> dict[str, str] | None:
    """The condition of IF or ELSEIF `order` right after a step with a true/false output
    (see above), or None."""
    comp = flow.component(order)
    if comp is None or comp.definition not in ("IF", "ELSEIF"):
        return None
    checked, _ = flow.neighbours(comp)
    if checked is None or checked.category == "flowlogic":
        return None
    step = catalog.step(checked.definition)
    outcomes = [o.name for o in step.outputs if o.type == "boolean"] if step else []
    said = set(stems(comp.annotation or ""))
    named = [o for o in outcomes if _names(said, o)]
    if len(outcomes) > 1:
        outcomes = named
    # The words name the outcome ("if they are entitled") or nothing ("if it does"): an
    # IF on other words ("if the risk is High") tests something else.
    if len(outcomes) != 1 or not (named or said <= _BARE):
        return None
    pill = f"{checked.order}.{outcomes[0]}"
    if pill not in {r.text for r in pill_roots(flow, catalog, order, "condition")}:
        return None
    value = "false" if DENIED.search(comp.annotation or "") else "true"
    return {"condition": f"{{{{{pill}}}}}={value}"}


def _names(said: set[str], outcome: str) -> bool:
    """Whether words (stemmed) name an output: a word of its name, or one that begins
    like it ("entitlement" names `entitled`)."""
    parts = [p for p in stems(outcome.replace("_", " ")) if len(p) >= 4]
    return any(w.startswith(p) or (len(w) >= 4 and p.startswith(w)) for w in said for p in parts)
