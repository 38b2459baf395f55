"""The table a record trigger's or a step's words name: "whenever an incident task is
closed" is `incident_task`, "count the open phishing reports" is `u_phishing_report`.

The small model picks the trigger's table among the candidates retrieval offers, and on
dev it picked a wrong one in 19 of 129 record triggers, three of them while the words
named the right one by its label ("incident task" written as `incident`, "Case
Escalation" as the case). A wrong table also costs the condition, whose fields are the
table's. Where the trigger's span names one candidate by its full label of two words or
more, and names no other candidate, the inputs grammar admits only that table.

One-word labels never decide: "a malware incident" is a security incident on a security
installation, and "a user reports a phishing email" a phishing report. A label inside a
longer one that is also named does not count ("incident" in "incident task"), and any
other candidate named elsewhere in the span leaves the choice to the model ("incident
tasks of a resolved incident"). Replayed on the gold record triggers of the train and
dev splits with every table of their installations as candidates, the rule named a
table for 88 of 324 and was right 88 times (issue 19, twenty-seventh session).

Steps take the same rule where no record input decides their table (look-ups, creates,
updates and deletes of many records): on the gold steps of train and dev it named 47 of
279, 46 right. The one wrong is the rule's blind spot: a label followed by another noun
of the table's name ("all line items belonging to that purchase order" named Purchase
Order; the gold is its lines). A step that takes a record (update_record, send_email)
works on that record's table, whatever its span names.

A look-up's table is named by a one-word label too ("find the open cases on it" is
`sn_customerservice_case`, "all RMAs still requested" `x_globex_rma`), unless the label
qualifies another noun ("their accounts' open escalations"): the model looked cases up
among product models there. On the look-ups of the hand-written gold flows of train and
dev, with every table of the installation offered, a label of any length names 115 and
names gold's table for 110 (the misses: "sibling tasks" of an incident task, "sec
incidents" for security incidents, "vendor contracts" for the installation's vendor
contract table, a label followed by another noun, "the DACH account manager", and "an
account's primary contact" where gold looks the account up); on the synthetic ones 696
of 696. Live on dev (thirtieth session): 9 flows
changed, 7 closer to gold, 1 further (full +0.0010 a case).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any, NamedTuple


class _Mention(NamedTuple):
    start: int
    end: int
    table: str
    words: int  # in the table's label
    possessive: bool  # "the account's", "their accounts'": it qualifies another noun

    def inside(self, other: _Mention) -> bool:
        """Within a longer mention: "incident" in "incident task"."""
        longer = other.end - other.start > self.end - self.start
        return longer and other.start <= self.start and self.end <= other.end


def _label_pattern(label: str) -> re.Pattern[str]:
    words = label.lower().split()
    # the last word may be plural: "incident tasks", "case escalations"
    return re.compile(r"\b" + r"\s+".join(map(re.escape, words)) + r"(?:s|es)?\b")


def named_table(
    words: str, candidates: Iterable[Mapping[str, Any]], min_words: int = 2
) -> str | None:
    """The one candidate (`name`, `label`) that `words` name by a label of `min_words`
    words or more, or None. One-word labels (`min_words=1`, look-ups) do not count where
    they qualify another noun ("their accounts' open escalations")."""
    text = words.lower()
    found = [
        _Mention(
            match.start(),
            match.end(),
            table["name"],
            len(label.split()),
            text[match.end() : match.end() + 1] in ("'", "’"),
        )
        for table in candidates
        if (label := (table.get("label") or "").strip())
        for match in _label_pattern(label).finditer(text)
    ]
    named = [m for m in found if not any(m.inside(other) for other in found)]
    if min_words < 2:
        named = [m for m in named if m.words >= 2 or not m.possessive]
    if len({m.table for m in named}) != 1:
        return None
    return named[0].table if named[0].words >= min_words else None
