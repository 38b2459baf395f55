"""The recipient a message's words name: "email the manager of its assignment group" is
`{{trigger.current.assignment_group.manager.email}}`, "tell the customer success
manager" `{{trigger.current.account.success_manager.email}}`.

The small model picks an address it saw often in training (`opened_by.email`, the
contact's) whatever person the span names. The words name people by the labels of the
reference columns that hold them ("Assignment group", "Manager", "Success Manager") or by
a role noun of such a label ("the assignee": Assigned to, "the requester": Requested
for, "the reporter": Reported by, "the owner": Owned by). Among the address pills in
scope (a record's reference columns walked up to three hops to an email or phone column),
the one whose last person is named, with the most of its path named, is the recipient
when it is the only such pill; the model's address is kept otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from flowgen.flow.catalog import Column
from flowgen.flow.model import FlowInput
from flowgen.flow.validator import PillRoot
from flowgen.graph.retrieval import address_kind

MAX_HOPS = 3
RECORDS = frozenset({"record", "reference"})  # a subflow's record input is a reference
_FILLER = frozenset({"to", "for", "by", "of", "the", "a", "an", "on", "in", "at"})
_PILL = re.compile(r"^\{\{([\w.]+)\}\}$")


def _role(word: str) -> str:
    """A word reduced to its root so that a role noun meets its column's label:
    assignee / assigned, requester / requested, owner / owned, manager / managed."""
    word = word.lower()
    for ending in ("ees", "ers", "ors", "ing", "ee", "er", "or", "ed", "es", "s", "e"):
        if len(word) > len(ending) + 3 and word.endswith(ending):
            return word[: -len(ending)]
    return word


# role nouns a label does not use: "the group lead" is the group's manager
ALIASES = {"lead": "manag", "boss": "manag", "owner": "owned"}
# words for anyone, which name no column ("the person who opened it" is the opener)
GENERIC = frozenset({"person", "people", "user", "users", "someone", "whoever", "anyone"})


def role_list(text: str) -> list[str]:
    """The words of `text` reduced to their roots, in order, fillers left out."""
    words = re.findall(r"[a-z0-9]+", text.lower())
    return [ALIASES.get(w, _role(w)) for w in words if w not in _FILLER]


def heads(text: str, nouns: set[str]) -> list[str | None]:
    """The words of `text` that can name the person a message goes to, by position
    (None elsewhere): a possessive is not ("the assignee's manager" is the manager), nor
    a noun right before another of `nouns` ("the group lead" is the lead)."""
    words = re.findall(r"[a-z0-9]+(?:'s|’s|s'|s’)?", text.lower())
    roles = [
        None
        if w.endswith(("'s", "’s", "'", "’")) or w in _FILLER or w in GENERIC
        else ALIASES.get(w, _role(w))
        for w in words
    ]
    return [
        None if i + 1 < len(roles) and roles[i + 1] in nouns else role
        for i, role in enumerate(roles)
    ]


def label_roles(column: Column) -> list[str]:
    """The roles of a column's label ("Assigned to": `assign`), its name's without one."""
    return role_list(column.label or column.name.replace("_", " "))


def reference_walk(
    pills: Sequence[PillRoot], columns_of: Callable[[str], list[Column]]
) -> list[tuple[str, str, list[Column]]]:
    """(pill text, the table it holds, the reference columns walked) of every record in
    scope and of every record its reference columns reach, up to MAX_HOPS away."""
    found: list[tuple[str, str, list[Column]]] = []
    frontier: list[tuple[str, str, list[Column]]] = [
        (r.text, r.table, []) for r in pills if r.type in RECORDS and r.table
    ]
    for hop in range(MAX_HOPS + 1):
        found += frontier
        if hop == MAX_HOPS:
            break
        frontier = [
            (f"{text}.{column.name}", column.reference, [*walked, column])
            for text, table, walked in frontier
            for column in columns_of(table)
            if column.reference
        ]
    return found


def address_paths(
    pills: Sequence[PillRoot],
    columns_of: Callable[[str], list[Column]],
    is_address: Callable[[str], bool],
) -> list[tuple[str, list[Column]]]:
    """(pill text, the reference columns it walks) of every address pill in scope: a
    record root's reference columns walked up to MAX_HOPS to a column `is_address`."""
    return [
        (f"{text}.{column.name}", walked)
        for text, table, walked in reference_walk(pills, columns_of)
        if walked
        for column in columns_of(table)
        if is_address(column.name)
    ]


def best_named(text: str, candidates: Sequence[tuple[str, list[Column], str]]) -> str | None:
    """Among (pill text, reference columns walked, the word that names its person), the
    one whose person `text` names first ("email the reviewer the user ..." is the
    reviewer), then the one whose words `text` names most (each word once:
    `manager.manager` names no more than `manager`), then the shorter; None on a tie or
    when `text` names none."""
    said = set(role_list(text))
    named_heads = heads(text, {head for _, _, head in candidates})
    scored: list[tuple[int, int, int, str]] = []
    for pill, walked, head in candidates:
        if head not in named_heads:
            continue
        root = set(role_list(pill.split(".")[1] if pill.startswith("trigger.") else ""))
        words = root.union(*(set(label_roles(c)) for c in walked)) & said
        scored.append((-named_heads.index(head), len(words), -len(walked), pill))
    if not scored:
        return None
    scored.sort(reverse=True)
    if len(scored) > 1 and scored[1][:3] == scored[0][:3]:
        return None
    return scored[0][3]


def named_recipient(
    annotation: str,
    pills: Sequence[PillRoot],
    columns_of: Callable[[str], list[Column]],
    is_address: Callable[[str], bool],
) -> str | None:
    """The one address pill (`{{...}}`) whose person the span names (see above), or None."""
    candidates = [
        (text, walked, label[-1])
        for text, walked in address_paths(pills, columns_of, is_address)
        if (label := label_roles(walked[-1]))
    ]
    best = best_named(annotation, candidates)
    return "{{" + best + "}}" if best else None


# The message steps whose recipient input takes an address pill, and its kind.
RECIPIENTS: dict[str, tuple[str, str]] = {
    "send_email": ("ah_to", "email"),
    "send_sms": ("recipients", "phone"),
}


def send_to_named_recipient(
    definition: str,
    inputs: list[FlowInput],
    annotation: str,
    pills: Sequence[PillRoot],
    columns_of: Callable[[str], list[Column]],
) -> tuple[list[FlowInput], list[str]]:
    """A message's inputs with its recipient pill replaced by the one its span names (see
    above), and `old -> new` for the trace. A literal address, several recipients, or a
    span that names no one leave it as written."""
    if definition not in RECIPIENTS:
        return inputs, []
    name, kind = RECIPIENTS[definition]
    written = next((i.value for i in inputs if i.name == name), None)
    if written is None or not _PILL.match(written):
        return inputs, []
    named = named_recipient(
        annotation, pills, columns_of, lambda column: address_kind(column) == kind
    )
    if named is None or named == written:
        return inputs, []
    new = [FlowInput(name=i.name, value=named if i.name == name else i.value) for i in inputs]
    return new, [f"{written} -> {named}"]
