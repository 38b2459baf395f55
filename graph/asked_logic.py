"""Flow logic the requirement asks for: PARALLEL (with its PATHs) only where its words
say that things happen at once, TRY (with its CATCH) only where they speak of failure.

The small model wraps steps in a PARALLEL or a TRY where nothing asks for one: on dev,
7 flows got a PARALLEL and 4 a TRY that way, and no gold flow of theirs has one. Every
PARALLEL of the train and dev gold flows comes with such words ("in parallel", "at the
same time", "meanwhile": 246 of 246, hand-written and synthetic), and so does every TRY
("if it fails", "on error", "if that doesn't work": 299 of 299). Without them the outline
grammar does not admit these names; the prompt is unchanged (a fine-tuned model is not
shown the flow-logic names).
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


def asked_flow_logic(requirement: str, flow_logic: list[str]) -> list[str]:
    """`flow_logic` without the names whose words `requirement` does not have."""
    unasked: set[str] = set()
    for names, words in ASKED_BY:
        if not words.search(requirement):
            unasked |= names
    return [name for name in flow_logic if name not in unasked]
