"""What the requirement asks for in so many words: PARALLEL (with its PATHs) only where it
says that things happen at once, TRY (with its CATCH) only where it speaks of failure.

The small model wraps steps in a PARALLEL or a TRY where nothing asks for one: on dev,
7 flows got a PARALLEL and 4 a TRY that way, none of them in gold. Every PARALLEL of the
train and dev gold flows comes with such words ("in parallel", "at the same time",
"meanwhile": 246 of 246, hand-written and synthetic), and so does every TRY ("if it
fails", "on error", "if that doesn't work": 299 of 299). Without them the outline
grammar does not admit these names; the prompt is unchanged (a fine-tuned model is not
shown the flow-logic names).

Core steps have such words in gold too (Ask for Approval 497 of 497, Send SMS 29 of 29,
Create Task 17 of 17, Delete Record 5 of 5), but gating them was measured and not kept
(thirty-first session, `results/s31-steps-*`): where the model would have written
`send_sms | email the customer success manager`, which graph/core_verbs.py renames to
`send_email` after the outline, it wrote a spoke step no rule renames (`send_survey`),
and `create_task | sets the priority of the incident` became two create_records; dev 184
outline −0.002.
"""

from __future__ import annotations

import re

# (the names the words must ask for, the words)
ASKED_BY: list[tuple[frozenset[str], re.Pattern[str]]] = [
    (
        frozenset({"PARALLEL", "PATH"}),
        re.compile(
            r"parallel|same time|simultaneous|meanwhile|concurrent|at once|in tandem|alongside",
            re.IGNORECASE,
        ),
    ),
    (
        frozenset({"TRY", "CATCH"}),
        re.compile(
            r"fail|error|doesn't work|does not work|goes wrong|unsuccessful|exception"
            r"|can't|cannot|couldn't|unable",
            re.IGNORECASE,
        ),
    ),
]


def unasked(requirement: str) -> set[str]:
    """The names above whose words `requirement` does not have."""
    missing: set[str] = set()
    for names, words in ASKED_BY:
        if not words.search(requirement):
            missing |= names
    return missing


def asked_names(requirement: str, names: list[str]) -> list[str]:
    """`names` (flow logic or steps) without those `requirement` does not ask for."""
    missing = unasked(requirement)
    return [name for name in names if name not in missing]
