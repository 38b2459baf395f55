"""A look-up of the group a step hands its work to, where the outline has none.

"create a problem task and assign it to the Database group", "open a task for the Desktop
Support group": in gold the group is looked up first (`look_up_record` on
`sys_user_group`, `name=Database`) and the step takes `{{1.record}}`. The small model
writes the task and leaves the look-up out (in all 8 dev flows whose words hand work to
a named group; gold looks it up in 5), so the task gets no group or an invented one.
Where a step's span holds "for / to the <Name> group" (or team, queue) and the outline
looks up no group, a `look_up_record` on the words "the <Name> group" goes right before
that step, in its block; graph/named_group.py then gives it the group table and name.

Only core steps hand work to a group this way: "add them to the VPN Users group" in an
Azure AD step is a directory group, not a ServiceNow one. A group named twice is looked up
once, before its first step.

On the hand-written train and dev flows whose words hand work to a named group, gold
looks it up in 19 of 22 (the other three write the name itself, or add a user to an
Azure AD group).
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import CORE_SCOPE, CatalogView
from flowgen.flow.model import Component, Flow
from flowgen.graph.named_group import GROUP_TABLE, named_group
from flowgen.graph.uncovered_asks import step_spans

LOOK_UP = "look_up_record"
# "for the Desktop Support group", "to the SOC Tier 2 team": capitalised words (with
# "of", "and", "&" between them) before the noun; not a group's own channel or manager
# ("the CAB team's channel", "the Service Desk team in Teams").
_HANDED_TO = re.compile(
    r"\b(?:for|to)\s+(the\s+((?:[A-Z0-9][\w&.-]*)(?: (?:[A-Z0-9][\w&.-]*|of|and|&))*)"
    r" (?:group|team|queue))\b(?!'s|\s+(?:in|on)\s+(?:Teams|Slack))"
)


def looks_up_a_group(flow: Flow) -> bool:
    """Whether a look-up's span names a group (an outline's steps have no inputs yet)."""
    return any(
        c.definition.startswith("look_up_record") and named_group(c.annotation or "")
        for c in flow.components
    )


def add_group_look_ups(
    flow: Flow, requirement: str, catalog: CatalogView
) -> tuple[Flow, list[str]]:
    """`flow` with a look-up of each group a core step hands its work to (see above), and
    the spans of the look-ups added."""
    if looks_up_a_group(flow) or catalog.step(LOOK_UP) is None:
        return flow, []
    if catalog.column(GROUP_TABLE, "name") is None:
        return flow, []
    added: list[str] = []
    seen: set[str] = set()
    for match in _HANDED_TO.finditer(requirement):
        words, name = match.group(1), match.group(2)
        if name in seen:
            continue
        at = match.start(1)
        holders = [c for s, e, c in step_spans(requirement, flow) if c and s <= at < e]
        step = holders[0] if holders else None
        if step is None or step.category == "flowlogic" or step.scope != CORE_SCOPE:
            continue
        seen.add(name)
        look_up = Component(
            order=-1, block=step.block, category="action", definition=LOOK_UP, annotation=words
        )
        comps = list(flow.components)
        comps.insert(comps.index(step), look_up)
        flow = flow.with_components(comps)
        added.append(words)
    return flow, added
