"""Data pills: `{{trigger.current.manager}}`, `{{3.records}}`, `{{2.item.number}}`, ..."""

from __future__ import annotations

import re
from dataclasses import dataclass

PILL = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
NAMED_ROOTS = ("trigger", "subflow_inputs", "flow_var")


@dataclass(frozen=True)
class Pill:
    raw: str  # the text between the braces
    root: str | int  # "trigger", "subflow_inputs", "flow_var" or a step order
    output: str  # the trigger/step output, subflow input or variable name
    path: tuple[str, ...]  # dot-walked fields after the output


class PillSyntaxError(ValueError):
    pass


def parse_pill(text: str) -> Pill:
    parts = text.strip().split(".")
    if len(parts) < 2 or not all(parts):
        raise PillSyntaxError(
            f"pill {{{{{text}}}}} needs a source and an output, e.g. {{{{1.record}}}}"
        )
    head, output, *path = parts
    root: str | int
    if head.isdigit():
        root = int(head)
    elif head in NAMED_ROOTS:
        root = head
    else:
        raise PillSyntaxError(
            f"pill {{{{{text}}}}} starts with {head!r}; expected a step number, 'trigger', "
            "'subflow_inputs' or 'flow_var'"
        )
    bad = [p for p in (output, *path) if not _NAME.match(p)]
    if bad:
        raise PillSyntaxError(f"pill {{{{{text}}}}} has an invalid name {bad[0]!r}")
    return Pill(text.strip(), root, output, tuple(path))


def output_step(text: str) -> int:
    """The step whose output a pill (`2.item.number`, without braces) reads; 0 for the
    trigger's, a subflow's inputs and flow variables."""
    head = text.split(".")[0]
    return int(head) if head.isdigit() else 0


def find_pills(value: str) -> list[Pill | PillSyntaxError]:
    """Every pill in `value`, or the syntax error of each malformed one."""
    found: list[Pill | PillSyntaxError] = []
    for m in PILL.finditer(value):
        try:
            found.append(parse_pill(m.group(1)))
        except PillSyntaxError as exc:
            found.append(exc)
    stripped = PILL.sub("", value)
    if "{{" in stripped or "}}" in stripped:
        found.append(PillSyntaxError(f"unbalanced pill braces in {value!r}"))
    return found


def is_pill(value: str) -> bool:
    """True when the whole value is one pill (a record, records or reference value)."""
    m = PILL.fullmatch(value.strip())
    return m is not None
