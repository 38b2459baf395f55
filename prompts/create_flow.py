"""The createFlow prompt: requirement and retrieved suggestions → outline lines.

Sections: context (the offered triggers and steps, each list on one line; the
flow-logic names only for a prompted model or when a subflow is asked for), solved
examples (the flows nearest to the requirement, from the installation's own and the
shared library, each outline with its spans), the requirement, guidelines (prompted
models only: a fine-tuned one learned them), output format; earlier validator messages
when retrying. Version 5 opened with the requirement (cached for the inputs calls) and
showed the examples without their spans: 115 fewer prompt tokens a flow, but adapter v10
trained on it wrote triggers and spans from the wrong words (dev outline −0.038,
docs/training.md), so version 6 keeps v4's order and spans.
Training renders its examples with this same function (`training/`), so a change here
bumps `VERSION` and calls for retraining.
"""

from __future__ import annotations

import re
from typing import Any

from flowgen.engine.base import ChatMessage

VERSION = "create_flow/6"

SYSTEM = "You design ServiceNow flows, using only the names you are offered."

GUIDELINES = """\
- The trigger, then each step in the order it runs; after each name ` | ` and the words of the \
requirement it comes from.
- Children of IF, ELSE, FOREACH, TRY, PARALLEL, ... are indented two more spaces; records \
found by a lookup are handled inside a FOREACH.
- Harmful (data theft, hiding activity, harassment) or not a workflow: only `REFUSE | <reason>`."""


def _item(d: dict[str, Any]) -> str:
    # Names, and labels only where they say more than the name: descriptions cost ~15
    # tokens a line, and every prompt token costs at inference and in training.
    label = d.get("label") or ""
    if not label or words(label) == words(d["name"]):
        return str(d["name"])
    return f"{d['name']}: {label}"


def words(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text.lower())


def create_flow_messages(
    requirement: str,
    triggers: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    flow_logic: list[str],
    feedback: list[str] | None = None,
    examples: list[tuple[str, str]] | None = None,
    instructions: bool = False,
) -> list[ChatMessage]:
    """`examples`: (requirement, outline) pairs of solved flows like this one.
    `instructions`: add the guidelines (for a model not fine-tuned on this prompt)."""
    parts = ["## Triggers", "; ".join(_item(t) for t in triggers)]
    parts += ["## Steps", "; ".join(_item(s) for s in steps)]
    if instructions or "ASSIGNSUBFLOWOUTPUTS" in flow_logic:
        # A fine-tuned model knows the fixed flow-logic names (the grammar admits them
        # all); the list is shown only when it says something: a subflow was asked for.
        parts += ["## Flow logic", " ".join(flow_logic)]
    for example, outline in examples or []:
        parts += [f"## Example: {' '.join(example.split())}", outline.rstrip()]
    parts += ["## Requirement", " ".join(requirement.split())]
    if instructions:
        parts += ["## Guidelines", GUIDELINES]
    if feedback:
        parts += ["## Your last outline had these problems; fix them", *feedback]
    parts.append("## Output: the outline")
    return [
        ChatMessage(role="system", content=SYSTEM),
        ChatMessage(role="user", content="\n".join(parts)),
    ]
