"""Paper 2's sequence similarity: LCSS of trigger + steps over the longer sequence."""

from __future__ import annotations

from flowgen.flow.model import Flow


def step_sequence(flow: Flow | None) -> list[str]:
    """Trigger type, then every component label in reading (order) order."""
    if flow is None:
        return []
    head = [flow.trigger.type] if flow.trigger and flow.trigger.type else []
    return head + [c.label for c in flow.components]


def lcs_length(a: list[str], b: list[str]) -> int:
    previous = [0] * (len(b) + 1)
    for x in a:
        current = [0]
        for j, y in enumerate(b):
            current.append(previous[j] + 1 if x == y else max(previous[j + 1], current[j]))
        previous = current
    return previous[-1]


def lcss(pred: Flow | None, gold: Flow | None) -> float:
    a, b = step_sequence(pred), step_sequence(gold)
    longest = max(len(a), len(b))
    return 1.0 if longest == 0 else lcs_length(a, b) / longest
