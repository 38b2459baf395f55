"""How ServiceNow users phrase record operations, for query expansion.

Requirements name the business object ("set the incident to resolved") and leave the
operation implicit; the generic core steps (Update Record, Look Up Records, ...) share no
word with such a span, so specific spoke steps that mention the object outrank them.
Each verb group below adds the operation's own words to the full-text query.
"""

from __future__ import annotations

import re

# canonical words -> verbs and phrasings that mean that operation on a record
VERB_GROUPS: dict[str, tuple[str, ...]] = {
    "update record": (
        "set",
        "mark",
        "flag",
        "assign",
        "reassign",
        "close",
        "resolve",
        "cancel",
        "reopen",
        "change",
        "put",
        "deactivate",
        "activate",
        "move",
        "transfer",
        "escalate",
        "bump",
        "lower",
        "raise priority",
        "populate",
        "fill",
        "stamp",
        "clear",
    ),
    "look up records": (
        "find",
        "get",
        "fetch",
        "query",
        "grab",
        "search",
        "retrieve",
        "lookup",
        "look",
        "list",
        "collect",
        "gather",
        "pull",
    ),
    "create record": (
        "open",
        "raise",
        "log",
        "create",
        "file",
        "generate",
        "spin",
        "new",
        "insert",
        "add",
        "register",
        "record",
    ),
    "delete records": ("remove", "purge", "delete", "drop", "wipe", "clean", "erase"),
    "multiple records": ("all", "every", "each", "bulk", "mass"),
}

_WORD = re.compile(r"[a-z]+")


def expansion(query: str) -> str:
    """The canonical words the query's verbs imply (empty when none apply)."""
    words = set(_WORD.findall(query.lower()))
    text = " " + " ".join(_WORD.findall(query.lower())) + " "
    added = [
        canonical
        for canonical, verbs in VERB_GROUPS.items()
        if any((v in words) if " " not in v else (f" {v} " in text) for v in verbs)
    ]
    return " ".join(added)
