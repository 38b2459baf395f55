"""A step whose words run "the X subflow" is the installation's subflow X names.

Requirements name a subflow by a paraphrase of its label: "run the offboarding subflow
for them" is Offboard User, "Run the compromised-account containment subflow" Contain
Compromised Account, "run the major incident team subflow" Notify Major Incident Team.
The small model writes a step it knows on those words instead (`create_record`,
`run_splunk_search`, `post_status_page_update`), since the subflow was not among the
steps its prompt offered or its label shares no word with the span's verb. Where a
step's span says "subflow" and the words before it share more stems with one of the
installation's subflows' labels than with any other, the step becomes that subflow.

Gold: the hand-written train and dev flows have 19 steps whose span says "subflow"
besides a TRY or CATCH around one; all 19 are the subflow the rule names (no synthetic
span says "subflow"). Adapter v11 wrote another step on 4 of dev's such spans.
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import CatalogView
from flowgen.flow.model import Component, Flow

_SUBFLOW = re.compile(r"\bsub-?flows?\b", re.IGNORECASE)
_NOT_NAMES = frozenset("the a an to with for of on run call calls start kick off".split())
_SUFFIXES = ("ation", "ment", "ing", "ate", "ed", "es", "s", "e")


def _stem(word: str) -> str:
    """offboarding → offboard, containment → contain, escalation and Escalate → escal."""
    for suffix in _SUFFIXES:
        if word.endswith(suffix) and len(word) - len(suffix) >= 4:
            return word[: -len(suffix)]
    return word


def name_stems(text: str) -> set[str]:
    return {_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in _NOT_NAMES}


def named_subflow(span: str, subflows: dict[str, str]) -> str | None:
    """The subflow (name → label) that the words before "subflow" in `span` name, or None
    where the span says no "subflow" or no one subflow shares the most stems with them."""
    said = _SUBFLOW.search(span)
    if said is None:
        return None
    words = name_stems(span[: said.start()])
    shared = sorted(
        ((len(words & name_stems(label)), name) for name, label in subflows.items()), reverse=True
    )
    if not shared or shared[0][0] == 0 or (len(shared) > 1 and shared[1][0] == shared[0][0]):
        return None
    return shared[0][1]


def subflow_labels(catalog: CatalogView) -> dict[str, str]:
    """Each of the installation's subflows by name: its label, or its name in words."""
    return {
        s.name: s.label or s.name.replace("_", " ")
        for s in catalog.steps
        if s.category == "subflow"
    }


def name_subflows(flow: Flow, catalog: CatalogView) -> tuple[Flow, list[str]]:
    """The flow with each step whose span names one of the installation's subflows (see
    above) made that subflow, and `"order: old -> new"` for each (for the trace)."""
    if not any(_SUBFLOW.search(c.annotation or "") for c in flow.components):
        return flow, []
    subflows = {s.name: s for s in catalog.steps if s.category == "subflow"}
    labels = subflow_labels(catalog)
    renamed: list[str] = []
    components: list[Component] = []
    for comp in flow.components:
        new = None
        if comp.category != "flowlogic" and comp.annotation:
            new = named_subflow(comp.annotation, labels)
        if new is None or new == comp.definition:
            components.append(comp)
            continue
        renamed.append(f"{comp.order}: {comp.definition} -> {new}")
        update = {
            "definition": new,
            "category": "subflow",
            "scope": subflows[new].scope,
            "inputs": [],
        }
        components.append(comp.model_copy(update=update))
    if not renamed:
        return flow, []
    return flow.model_copy(update={"components": components}), renamed
