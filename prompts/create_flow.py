"""The createFlow prompt: requirement and retrieved suggestions → outline lines.

Sections: context (the offered triggers, steps and flow logic), task, input (the
requirement), guidelines, output format; earlier validator messages when retrying.
Training renders its examples with this same function (`training/`), so a change here
bumps `VERSION` and calls for retraining.
"""

from __future__ import annotations

from typing import Any

from flowgen.engine.base import ChatMessage

VERSION = "create_flow/1"
DESCRIPTION_WORDS = 14

SYSTEM = (
    "You design ServiceNow Flow Designer flows. You answer only with the outline format, "
    "using only the names you are offered."
)

GUIDELINES = """\
- First line: the trigger. Then every step in the order it runs, one per line.
- After each name write ` | ` and the words of the requirement it comes from, copied exactly.
- Children of IF, ELSEIF, ELSE, FOREACH, DOUNTIL, TRY, CATCH, PARALLEL and PATH are \
indented two more spaces.
- Records found by a lookup are handled one by one inside a FOREACH.
- Add only steps the requirement asks for or clearly implies.
- If the request is harmful (data theft, hiding activity, harassment, sabotage) or is not a \
workflow for this platform, answer only `REFUSE | <reason>`."""


def _short(text: str | None) -> str:
    words = (text or "").split()
    return " ".join(words[:DESCRIPTION_WORDS]) + (" …" if len(words) > DESCRIPTION_WORDS else "")


def _item(d: dict[str, Any]) -> str:
    label = d.get("label") or ""
    about = _short(d.get("description"))
    return f"- {d['name']}: {label}" + (f" — {about}" if about else "")


def create_flow_messages(
    requirement: str,
    triggers: list[dict[str, Any]],
    steps: list[dict[str, Any]],
    flow_logic: list[str],
    feedback: list[str] | None = None,
) -> list[ChatMessage]:
    parts = [
        "## Triggers",
        *(_item(t) for t in triggers),
        "## Steps",
        *(_item(s) for s in steps),
        "## Flow logic",
        " ".join(flow_logic),
        "## Task",
        "Write the outline of the flow for the requirement: its trigger and its steps.",
        "## Requirement",
        " ".join(requirement.split()),
        "## Guidelines",
        GUIDELINES,
        "## Output format",
        "T <trigger> | <words of the requirement>\n- <step> | <words of the requirement>",
    ]
    if feedback:
        parts += ["## Your last outline had these problems; fix them", *feedback]
    return [
        ChatMessage(role="system", content=SYSTEM),
        ChatMessage(role="user", content="\n".join(parts)),
    ]
