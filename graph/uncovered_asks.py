"""Emails, texts, log entries, updates and new records the words ask for, that no step
covers.

The small model drops clauses: "resolve it and let the caller know" comes out as the
update alone, "flag it as escalated and email the CSM" as the email alone, "at the end
log how many accounts we checked" as nothing. A clause that asks for an email
(`EMAIL_ASK`), a text (`SMS_ASK`, or a clause that ends "by SMS"), a log entry
(`LOG_ASK`) or opens with a verb that changes a record (`UPDATE_ASK`, graph/core_verbs.py's
verbs; or adds to its journal, `JOURNAL_ASK`: "otherwise add the event count to the work
notes"), where no step's span and not the trigger's reaches its first words, gets the core
step on its words (`send_email`, `send_sms`, `log`, `update_record`). It goes after the
step whose span comes last before the clause in the requirement, in that step's block
(inside it where that step is a branch or loop whose own words end before the clause);
"otherwise" puts it in the ELSE of the branch it follows (opened on that word if the
branch has none); "after all cases are processed", "in all cases", "finally" at the end
of the flow. A message the model wrote on other words answers one ask of its kind: only
asks beyond those written are added. "notify <someone>" asks for an email (374 of the
gold steps whose words say "notify" are emails; forty-seventh session), where no step
of the installation's that the words name (Notify Account Team) covers it. An update
whose words follow another update's with only "and" between is that update ("set the
reviewer and move the status to In review" is one update_record).

On the 3,348 hand-written and synthetic train and dev flows the rule adds a step to
seven (gold leaves "bump the reopen counter" to the platform, one synthetic email's span
does not cover its own words, and "add a work note to its open vulnerabilities.." is
taken back in itsm-train-027). With each of their 389 updates on a journal clause's words
left out in turn, 382 come back, 347 in their place (forty-fourth session). Measured on
dev: docs/results.md (thirty-fourth and forty-fourth sessions).

A wait of a length of time no step covers ("The flow waits 4 hours, then checks whether
the incident is still not resolved") gets a Wait For Duration the same way (forty-eighth
session; graph/re_reads.py then reads the record again before a "still" test).

A clause that opens by creating a record its words name by label (`CREATE_ASK`, read by
graph/core_verbs.py's `created_table`: "otherwise open a pending access review of their
admin privilege") gets `create_record` the same way (forty-third session): it adds none
to the gold flows, and with each of their 346 Create Record leaves left out in turn it
puts 71 back, 66 in their place.

Specifications say what the flow does in the third person, with the flow or "it" as
subject: "The flow first sets the RMA's received-on date ...", "Otherwise, it raises a
Jira task ...", "it adds a work note on the parent case" (forty-ninth session; the
rephrased train cases and ServiceNow's own documentation write so). A clause may open
with that subject, and an update's verb may take its "s". A clause that opens by looking
up all records of a table it names ("The flow looks up all active contracts whose end
date is ...", `LOOKUP_ASK`) gets `look_up_records`. "raise a problem for it" creates, and
a clause that creates (a record or a catalog task) is no update, whether or not a step
answers it ("raise its priority" stays an update). A step the
words put last ("Finally, ...") goes before the steps the same words say after it. On
the hand-written, synthetic and rephrased train and dev gold flows, with each leaf of a
kind left out in turn, the rules put back 378 of 836 look-ups (none before; 352 in their
place), 1,822 of 2,312 updates (1,737) and 188 of 300 creates (149; an update was put
there in 27 cases, now 5); they add one step more to the intact gold flows.

Fifty-first session: a clause that asks someone for approval (`APPROVAL_ASK`,
`APPROVAL_SAID`: "ask the owner for approval to renew", "Approval of the upgrade is then
to be requested from the account manager") gets `ask_for_approval` (with each gold
approval left out in turn, 487 of 509 come back, 447 in place), and one that looks up a
single record of a table it names (`RECORD_LOOKUP_ASK`: "look up the SOC Tier 2
assignment group") `look_up_record` (19 of 135; most such gold look-ups are a group's,
graph/group_look_ups.py's, or a re-read); neither adds a step to an intact gold flow.
A step said in a sentence that opens with a test of its own goes in the chain's branch
on that test, or after the chain, not in the branch of the sentence before.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import partial
from typing import Any

from flowgen.flow.catalog import CatalogView
from flowgen.flow.flowlogic import FLOW_LOGIC, FOLLOWS, opens_block
from flowgen.flow.model import Component, Flow, subtree_end
from flowgen.graph.core_verbs import (
    CATALOG_TASK,
    CATALOG_TASK_STEP,
    CREATE_VERB,
    UPDATE_VERBS,
    created_table,
)
from flowgen.graph.named_table import kind_labels, labelled_tables, named_table
from flowgen.graph.timed_waits import WAIT_WORDS

EMAIL_STEP = "send_email"
WAIT_STEP = "WAITFORDURATION"
LOG_STEP = "log"
UPDATE_STEP = "update_record"

# Who receives it: a person, a group, an address. "email support", "attack vector email"
# and "an email observable" name no recipient.
_RECIPIENT = r"(?=(?:the|its|their|them|him|her|that|this|each|every|all|whoever|who)\b|[\w.+-]+@)"
EMAIL_ASK = re.compile(
    r"\b(?:e-?mails?\s+" + _RECIPIENT
    + r"|tells?\s+" + _RECIPIENT
    + r"|notif(?:y|ies)\s+" + _RECIPIENT
    + r"|let\s[^.;,]{1,40}?\bknows?\b"
    + r"|reminds?\s+(?!me\b)"
    + r"|reply\s+to\s+" + _RECIPIENT
    + r"|(?:receives?|gets?)\s+an\s+e-?mail"
    + r"|sends?\s+(?:them\s+|him\s+|her\s+)?an\s+e-?mail)",
    re.I,
)  # fmt: skip
# A wait of a length of time, wherever it stands ("the flow waits 4 hours, then checks
# ...", "wait 30 days and then verify ..."): graph/timed_waits.py's words. Every one of
# the 54 hand-written, synthetic and rephrased train and dev requirements that says so
# has that many Wait For Duration steps (forty-eighth session).
WAIT_ASK = re.compile(rf"\b{WAIT_WORDS}", re.I)
# A text message: "text the on-call engineer", "page the manager by SMS".
SMS_ASK = re.compile(r"\btexts?\s+" + _RECIPIENT, re.I)
# ... or says how it goes out: the clause it ends is the ask.
SMS_CHANNEL = re.compile(r"\b(?:by |an? |via )?(?:sms|text message)\b", re.I)
SMS_STEP = "send_sms"
# "log the error", "log how many were found", "write it to the flow log"; not "log it as
# a Salesforce case" or "log an incident" (a record to create).
LOG_ASK = re.compile(
    r"\blogs?\s+(?!it as\b|an? (?:incident|ticket|case|request|problem|change|security)\b)"
    r"(?=(?:the|an?|how many|it|that|this|which|what|each|every|all)\b)"
    r"|\b(?:write|writes|record|records|put|puts|add|adds)\b[^.;]{0,60}?"
    r"\b(?:to|in|into) the (?:flow )?log\b",
    re.I,
)
# Verbs that write onto a record: every clause of the hand-written and synthetic train
# and dev gold flows that opens with "note", "store", "save" or "stamp" is an
# update_record, and 11 of 14 with "put" ("note both actions on the incident", "put a
# work note with the date"). Not "add" or "record", which open other steps too (22 of 258
# and 6 of 155 such clauses: "add them to the channel", "record the sender as a malicious
# email observable"); as updates on the dev outlines they made 3 flows worse, none better.
NOTE_VERBS = frozenset({"note", "put", "store", "save", "stamp"})
# Where a clause that opens with its verb starts (a sentence, a semicolon, a comma, a
# list dash, "and", "then", "also"), and the fillers before the verb.
CLAUSE_OPENING = (
    r"(?:^|[.;:,?!+]\s*|\s-\s|\b(?:and|then|also)\s+)"
    r"(?:(?:just|then|also|and|please|otherwise|else)\s+)*"
    # a specification's subject: "the flow first sets ...", "it creates a review"
    r"(?:(?:it|the flow|the workflow|the system)\s+"
    r"(?:(?:then|also|first|next|finally|simply)\s+)?)?"
)
# A clause that opens with a verb that changes a record ("mark the RMA received", "flag
# it as escalated"), after fillers; not "set up", "assign them the Workday app", "save
# nothing else".
UPDATE_ASK = re.compile(
    CLAUSE_OPENING
    + r"(?P<verb>(?:" + "|".join(sorted(UPDATE_VERBS | NOTE_VERBS)) + r")s?)\b"
    r"(?!\s+(?:up|nothing|them the|him the|her the)\b)",
    re.I,
)  # fmt: skip

# A clause that opens by adding to a record's journal ("otherwise add the event count to
# the work notes", "leave a comment thanking them"): of the hand-written and synthetic
# train and dev clauses that open with "add", "leave", "post", "write" or "append" and
# name a work note, comment or journal, 290 are an update_record's words, 43 an
# add_work_note's (graph/work_notes.py), 5 a PATH's around an update, none another
# step's; one no step covers.
JOURNAL_ASK = re.compile(
    CLAUSE_OPENING + r"(?P<verb>adds?|leaves?|posts?|writes?|append)\b",
    re.I,
)
JOURNAL = re.compile(r"\bwork[ _-]?notes?\b|\bcomments?\b|\bjournal\b", re.I)

# A clause that opens by creating one record its words name by its table's label
# ("otherwise open a pending access review of their admin privilege"): Create Record, as
# graph/core_verbs.py's `created_table` reads such words (a task, a catalog task, a
# step the words name are not).
CREATE_ASK = re.compile(
    CLAUSE_OPENING + rf"(?P<verb>{CREATE_VERB})",
    re.I,
)
CREATE_STEP = "create_record"

# A clause that opens by looking up all records of a table it names ("The flow looks up
# all active contracts whose end date is ...", "find every open task of the change"):
# Look Up Records. Of the hand-written and synthetic train and dev clauses so worded,
# 340 are a look_up_records' words and 62 an update_multiple_records' ("look up all of
# its open tasks and close every one", which graph/bulk_updates.py writes from the
# look-up, the loop and the update).
LOOKUP_ASK = re.compile(
    CLAUSE_OPENING
    + r"(?P<verb>(?:look(?:s|ing)?\s+up|finds?|fetch(?:es)?|retrieves?|collects?|gathers?)"
    r"\s+(?:all|every|each|any)\b)",
    re.I,
)
LOOKUP_STEP = "look_up_records"
# ... and one record ("look up the case the SLA belongs to", "find the user with the
# sender's email address", "Look up the most recent phishing report whose sender ..."):
# Look Up Record, where the words name its table, not several of them.
RECORD_LOOKUP_ASK = re.compile(
    CLAUSE_OPENING
    + r"(?P<verb>(?:(?:try|tries)\s+to\s+)?(?:look(?:s|ing)?\s+up|finds?|fetch(?:es)?"
    r"|retrieves?))\s+(?=(?:the|a|an|one\s+of|its|their)\b)(?!the\s+(?:rest|others)\b)",
    re.I,
)
RECORD_LOOKUP_STEP = "look_up_record"
# Asks a step the model wrote on other words does not answer: an update or a look-up of
# one record there is of another field or record.
EACH_ITS_OWN = frozenset({UPDATE_STEP, RECORD_LOOKUP_STEP})

# A clause that opens by asking someone for approval ("ask the owner for approval to
# renew", "request approval from the manager of the CAB group", "send it to its reviewer
# for approval", "get approval from the SOC manager first"): Ask For Approval. The verb
# opens the clause; the approval is said in it (`APPROVAL_WORDS`).
APPROVAL_ASK = re.compile(
    CLAUSE_OPENING + r"(?P<verb>(?:also\s+)?(?:asks?|requests?|gets?|sends?|seeks?|obtains?))\b",
    re.I,
)
APPROVAL_WORDS = re.compile(
    r"\bfor (?:an? |their |his |her |its )?(?:approval|sign-?off)\b|\bto approve\b"
    r"|^(?:also\s+)?gets? (?:it|them|this|that|the \w+) approved\b"
    r"|^(?:also\s+)?(?:requests?|gets?|seeks?|obtains?) (?:an? )?approval\b"
    r"|^(?:also\s+)?sends? (?:an? )?approval(?: request)? to\b",
    re.I,
)
# ... or says so in the passive: "Approval of the upgrade is then to be requested from
# the account manager", "an approval request goes to the manager of the CAB group".
APPROVAL_SAID = re.compile(
    CLAUSE_OPENING + r"(?P<verb>(?:an\s+)?approval(?:\s+request)?)\b"
    r"(?=[^.;]{0,80}?\b(?:be\s+(?:then\s+)?(?:requested|obtained|sought)|goes\s+to)\b)",
    re.I,
)
APPROVAL_STEP = "ask_for_approval"

# A catalog request's variables read: "read the request's variables", "get the catalog
# variables of the requested item". Every train and dev gold span that says "variables"
# (58) is Get Catalog Variables.
VARIABLES_ASK = re.compile(
    r"\b(?:read|get|fetch|pull|retrieve)s?\b[^.;,]{0,40}?\bvariables\b", re.I
)
VARIABLES_STEP = "get_catalog_variables"

# Words that put the step after everything else: "After all cases are processed, email
# the billing lead", "in all cases the requester gets an email".
CLOSING = re.compile(
    r"\b(?:after (?:all|that|everything)|at the end|finally|in (?:all|every|any) cases?"
    r"|once (?:all|both|everything)|when (?:finished|done)|afterwards)\b[^.;]*$",
    re.I,
)
# Where a clause's words begin: after a sentence, a semicolon, a comma or "and".
CLAUSE_START = re.compile(r"(?:-+>|→|[.;:,?!(+]|\s-(?!>)|\b(?:and|then)\b)\s*", re.I)
# Where the clause's words end: a sentence, a semicolon, the next clause or list item.
CLAUSE_END = re.compile(
    r"[.;?!](?:\s|$)|\n|,\s*(?:otherwise|else|then|if|and|but)\b"
    r"|\s+(?:and|then|otherwise|\+|-)\s"
)

AND = re.compile(r"[\s,]*(?:and\s*)?")
# Where a clause's words may go on to, past an "and": a sentence's end or a semicolon
# (also where an ELSE's or a caught failure's words end, graph/uncovered_branches.py and
# graph/failure_clauses.py).
SEMICOLON_OR_SENTENCE = re.compile(r"[.;!?](?:\s|$)|\n")
# A sentence that opens with a test ("If it is entitled and the amount is 1000 or more").
TEST_OPENING = re.compile(r"\s*(?:if|should|where|in case)\b", re.I)
# Where a sentence ends (a semicolon does not end one).
SENTENCE_BREAK = re.compile(r"[.!?](?:\s|$)|\n")

Span = tuple[int, int, Component | None]
Place = tuple[int, int | None, bool]
# Words that put a step in the branch for the other case.
OTHERWISE = re.compile(r"\b(?:otherwise|else|if not)\b", re.I)


def add_uncovered_asks(
    flow: Flow, requirement: str, catalog: CatalogView
) -> tuple[Flow, list[str]]:
    """`flow` with a step added for each ask no step covers, and the added steps' words."""
    added: list[str] = []
    creates = _create_asks(requirement, catalog)
    catalog_tasks = _catalog_task_asks(requirement)
    # "raise a problem for it" creates, "raise its priority" updates: a clause that
    # creates is no update, whether or not a step the model wrote answers it
    creating = {start for start, _ in creates + catalog_tasks}
    updates = [m.span("verb") for m in UPDATE_ASK.finditer(requirement)]
    # the tables a look-up's words may name, for both kinds of look-up
    tables, kinds = labelled_tables(catalog), partial(kind_labels, catalog)
    asks = {
        EMAIL_STEP: _pattern_asks(EMAIL_ASK, requirement),
        LOG_STEP: _pattern_asks(LOG_ASK, requirement),
        SMS_STEP: sorted(
            _pattern_asks(SMS_ASK, requirement) + _clause_asks(SMS_CHANNEL, requirement)
        ),
        CREATE_STEP: creates,
        CATALOG_TASK_STEP: catalog_tasks,
        UPDATE_STEP: sorted(
            [span for span in updates if span[0] not in creating] + _journal_asks(requirement)
        ),
        LOOKUP_STEP: _lookup_asks(requirement, tables, kinds),
        WAIT_STEP: _pattern_asks(WAIT_ASK, requirement),
        APPROVAL_STEP: _approval_asks(requirement),
        RECORD_LOOKUP_STEP: _record_lookup_asks(requirement, tables, kinds),
        VARIABLES_STEP: _pattern_asks(VARIABLES_ASK, requirement),
    }
    for step, found in asks.items():
        # flow logic is built in, not in the catalog
        if (step not in FLOW_LOGIC and catalog.step(step) is None) or not flow.components:
            continue
        # A message the model wrote on other words answers one of them already.
        written = sum(c.definition == step for c in flow.components)
        if step not in EACH_ITS_OWN and written >= len(found):
            continue
        for start, end in found:
            spans = step_spans(requirement, flow)
            if any(s < end and start < e for s, e, _ in spans):
                continue
            if step == UPDATE_STEP and _continues_an_update(requirement, start, spans):
                continue
            stop = _clause_end(requirement, end)
            if step == VARIABLES_STEP:
                # a list of steps by commas: "read the request's variables, create a permit"
                comma = requirement.find(",", end, stop)
                stop = comma if comma >= 0 else stop
            words = requirement[start:stop].strip()
            flow = _insert(flow, _new_step(step, words), _place(flow, requirement, start, spans))
            added.append(f"{step} | {words}")
    return flow, added


def _journal_asks(requirement: str) -> list[tuple[int, int]]:
    """Where each clause that adds to a record's journal (`JOURNAL_ASK`) opens."""
    found = []
    for match in JOURNAL_ASK.finditer(requirement):
        if JOURNAL.search(requirement, match.end(), _clause_end(requirement, match.end())):
            found.append(match.span("verb"))
    return found


def _approval_asks(requirement: str) -> list[tuple[int, int]]:
    """Where each clause that asks someone for approval (`APPROVAL_ASK`, `APPROVAL_SAID`)
    opens. The approval may be said after the people asked, past an "and" ("ask its
    group's manager and the CI's owner to approve it"): up to the sentence's end or a
    semicolon."""
    found = []
    for match in APPROVAL_ASK.finditer(requirement):
        stop = SEMICOLON_OR_SENTENCE.search(requirement, match.end())
        clause = requirement[match.start("verb") : stop.start() if stop else len(requirement)]
        if APPROVAL_WORDS.search(clause):
            found.append(match.span("verb"))
    found += [match.span("verb") for match in APPROVAL_SAID.finditer(requirement)]
    return sorted(found)


def _create_asks(requirement: str, catalog: CatalogView) -> list[tuple[int, int]]:
    """Where each clause that creates a record its words name (`CREATE_ASK`) opens."""
    return [
        span
        for span, clause in _verb_clauses(CREATE_ASK, requirement)
        if created_table(clause, catalog) is not None
    ]


def _catalog_task_asks(requirement: str) -> list[tuple[int, int]]:
    """Where each clause that creates a catalog task opens ("raise a catalog task for
    Desk Side Support to image the laptop"): the installation's Create Catalog Task, as
    graph/core_verbs.py renames such a step."""
    return [
        span
        for span, clause in _verb_clauses(CREATE_ASK, requirement)
        if CATALOG_TASK.search(clause)
    ]


def _lookup_asks(
    requirement: str, tables: list[dict[str, Any]], kinds: Callable[[str], set[str]]
) -> list[tuple[int, int]]:
    """Where each clause that looks up all records of a table it names (`LOOKUP_ASK`)
    opens."""
    return [
        span
        for span, clause in _verb_clauses(LOOKUP_ASK, requirement)
        if named_table(clause, tables, 1, kinds) is not None
    ]


def _record_lookup_asks(
    requirement: str, tables: list[dict[str, Any]], kinds: Callable[[str], set[str]]
) -> list[tuple[int, int]]:
    """Where each clause that looks up one record of a table it names
    (`RECORD_LOOKUP_ASK`) opens and ends (a look-up the model wrote on the words after the
    verb covers it); not one that names the table in the plural."""
    found = []
    for (start, _), clause in _verb_clauses(RECORD_LOOKUP_ASK, requirement):
        table = named_table(clause, tables, 1, kinds)
        label = next((t.get("label") or "" for t in tables if t["name"] == table), "")
        if table is not None and not re.search(rf"\b{re.escape(label)}e?s\b", clause, re.I):
            found.append((start, start + len(clause)))
    return found


def _verb_clauses(pattern: re.Pattern[str], requirement: str) -> list[tuple[tuple[int, int], str]]:
    """For each match of `pattern`: where its verb is, and the clause's words from the
    verb to the clause's end."""
    return [
        (
            match.span("verb"),
            requirement[match.start("verb") : _clause_end(requirement, match.end())],
        )
        for match in pattern.finditer(requirement)
    ]


def _clause_end(requirement: str, after: int) -> int:
    """Where the clause that goes on at `after` ends (`CLAUSE_END`, or the text's end)."""
    stop = CLAUSE_END.search(requirement, after)
    return stop.start() if stop else len(requirement)


def _pattern_asks(pattern: re.Pattern[str], requirement: str) -> list[tuple[int, int]]:
    return [m.span() for m in pattern.finditer(requirement)]


def _clause_asks(pattern: re.Pattern[str], requirement: str) -> list[tuple[int, int]]:
    """(start of the clause, end of the match) of each match: "page the manager by SMS"
    asks from "page"."""
    found = []
    for match in pattern.finditer(requirement):
        opened = list(CLAUSE_START.finditer(requirement, 0, match.start()))
        found.append((opened[-1].end() if opened else 0, match.end()))
    return found


def _continues_an_update(requirement: str, start: int, spans: list[Span]) -> bool:
    """Whether the words at `start` follow an update's own words with only "and" between:
    "set the reviewer and move the status to In review" is one update of the record."""
    before = [(s, e, c) for s, e, c in spans if c is not None and s < start]
    if not before:
        return False
    _, end, prev = max(before, key=lambda x: x[0])
    between = requirement[end:start]
    return prev is not None and prev.definition == UPDATE_STEP and bool(AND.fullmatch(between))


def _new_step(definition: str, annotation: str) -> Component:
    # An order no component has; `_insert` numbers the flow again.
    category = "flowlogic" if definition in FLOW_LOGIC else "action"
    return Component(order=-1, category=category, definition=definition, annotation=annotation)


def step_spans(requirement: str, flow: Flow) -> list[Span]:
    """Where the trigger's (None) and each step's words start and end in the requirement."""
    items: list[tuple[str | None, Component | None]] = [
        (flow.trigger.annotation if flow.trigger else None, None),
        *((c.annotation, c) for c in flow.components),
    ]
    found: list[Span] = []
    for annotation, comp in items:
        start = requirement.find(annotation) if annotation else -1
        if annotation and start >= 0:
            found.append((start, start + len(annotation), comp))
    return found


def ordered_step_spans(requirement: str, flow: Flow) -> list[Span]:
    """Each step's span, words said twice ("email the submitter" in a CATCH and again in
    a later IF) read at their first place from the span of the step before on."""
    found: list[Span] = []
    cursor = 0
    for comp in flow.components:
        words = comp.annotation
        if not words:
            continue
        start = requirement.find(words, cursor)
        if start < 0:
            start = requirement.find(words)
        if start >= 0:
            found.append((start, start + len(words), comp))
            cursor = start
    return found


def _place(flow: Flow, requirement: str, start: int, spans: list[Span]) -> Place:
    """Where a step on the words from `start` goes: (index in `flow.components`, block,
    whether an ELSE on "otherwise" opens there first)."""
    sentence = requirement[:start].rsplit(".", 1)[-1]
    if CLOSING.search(sentence):
        # at the end, but before the last steps when the words say them after it
        # ("Finally, the flow sets the stage to Completed and sends the requester an email")
        at = len(flow.components)
        later = {id(c) for s, _, c in spans if c is not None and s > start}
        while at and id(_top(flow, flow.components[at - 1])) in later:
            at = flow.components.index(_top(flow, flow.components[at - 1]))
        return at, None, False
    before = [(s, e, c) for s, e, c in spans if c is not None and s < start]
    if not before:
        return 0, None, False
    # Of steps on the same words, a branch or loop (the first): a step that tests a
    # condition is written before the branch on its words.
    _, end, prev = max(
        before,
        key=lambda x: (x[0], opens_block(x[2]), -flow.components.index(x[2])),
    )
    assert prev is not None
    block = prev.order if opens_block(prev) and end <= start else prev.block
    if OTHERWISE.search(requirement[end:start]):
        branch = _enclosing_branch(flow, block)
        if branch is not None:
            last = last_of_chain(flow, branch)
            if last.definition == "ELSE":
                return subtree_end(flow.components, last.order), last.order, False
            return subtree_end(flow.components, last.order), branch.block, True
    if (branch := _branch_said_before(flow, requirement, start, block, spans)) is not None:
        # "If the account is not entitled, deny the claim. If it is entitled ..., ask the
        # product reviewer for approval": a sentence that opens with a test of its own is
        # not in the branch of the sentence before; it is in the branch of the chain on
        # that test's words, if there is one
        own = _chain_branch_said_in(flow, branch, spans, requirement, start)
        if own is not None:
            return subtree_end(flow.components, own.order), own.order, False
        return subtree_end(flow.components, last_of_chain(flow, branch).order), branch.block, False
    at = subtree_end(flow.components, prev.order)
    if block == prev.order:
        # Inside the branch or loop whose words come before the clause: before its first
        # step on later words ("On the other side, notify the account team and, for
        # platinum accounts only, mirror the case" puts the notice before the IF).
        later = {id(c) for s, _, c in spans if c is not None and s > start}
        inside = [i for i, c in enumerate(flow.components) if c.block == block and id(c) in later]
        at = min([at, *inside])
    return at, block, False


def _branch_said_before(
    flow: Flow, requirement: str, start: int, block: int | None, spans: list[Span]
) -> Component | None:
    """The branch that holds `block`, where the clause at `start` is in a sentence of its
    own that opens with a test (`TEST_OPENING`) and the branch's words are in an earlier
    one; None otherwise."""
    branch = _enclosing_branch(flow, block)
    if branch is None:
        return None
    opened = _sentence_start(requirement, start)
    said = next((s for s, _, c in spans if c is branch), None)
    if said is None or said >= opened or not TEST_OPENING.match(requirement, opened):
        return None
    return branch


def _chain_branch_said_in(
    flow: Flow, branch: Component, spans: list[Span], requirement: str, start: int
) -> Component | None:
    """The branch of `branch`'s chain whose words open the sentence of `start` ("If the
    triage result is not malicious, set ... and set the incident's state to Closed"
    goes in the ELSE on those words), or None."""
    opened = _sentence_start(requirement, start)
    siblings = flow.children(branch.block)
    last = last_of_chain(flow, branch)
    chain = siblings[siblings.index(branch) : siblings.index(last) + 1]
    said = {id(c): s for s, _, c in spans if c is not None}
    return next((c for c in chain if opened <= said.get(id(c), -1) < start), None)


def _sentence_start(requirement: str, at: int) -> int:
    """Where the sentence that holds position `at` begins."""
    breaks = list(SENTENCE_BREAK.finditer(requirement, 0, at))
    return breaks[-1].end() if breaks else 0


def _top(flow: Flow, comp: Component) -> Component:
    """The step of the flow's top level that holds `comp` (or is it)."""
    while comp.block is not None and (parent := flow.component(comp.block)) is not None:
        comp = parent
    return comp


def _enclosing_branch(flow: Flow, block: int | None) -> Component | None:
    """The IF or ELSEIF that holds `block`, itself or further out."""
    while block is not None:
        comp = flow.component(block)
        if comp is None:
            return None
        if comp.definition in ("IF", "ELSEIF"):
            return comp
        block = comp.block
    return None


def last_of_chain(flow: Flow, branch: Component) -> Component:
    """The last of the IF / ELSEIF / ELSE siblings that continue `branch`."""
    siblings = flow.children(branch.block)
    last = branch
    for comp in siblings[siblings.index(branch) + 1 :]:
        if "IF" not in FOLLOWS.get(comp.definition, ()):  # not an ELSEIF or ELSE
            break
        last = comp
    return last


def _insert(flow: Flow, step: Component, place: Place) -> Flow:
    at, block, opens_else = place
    new = [step.model_copy(update={"block": block})]
    if opens_else:
        otherwise = Component(
            order=-2, block=block, category="flowlogic", definition="ELSE", annotation="otherwise"
        )
        new = [otherwise, step.model_copy(update={"block": -2})]
    comps = list(flow.components)
    comps[at:at] = new
    return flow.with_components(comps)
