"""The core step a span's verb names: "email the reviewer a reminder" is `send_email`,
"log who it moved to" is `log`, "text the on-call engineer" is `send_sms`.

The small model writes a step line's name before its span and falls back on the step it
saw most in training: `update_record | just email the reviewer a reminder`,
`update_record | log who it moved to`, `send_sms | email the customer success manager`.
graph/named_steps.py renames a core step to an installation's step the span names, and
leaves core steps among themselves alone. This module takes the next step: where the
span opens with a verb that asks for one core step, a record or look-up step (or another
of the three messages) written over it becomes that step.

The verbs, as the hand-written gold flows of train and dev use them (a span's first word
after fillers such as "just" or "then"): "email" 72 of 73 spans `send_email`; "text" 13
of 14 `send_sms` (the other says WhatsApp, whose step named_steps gives by its vendor);
"remind" 6 of 7 `send_email` (the other on Slack); "log" 48 of 52 `log` (the others log a
case in Salesforce). A "log" span that says where it logs, a note or a record ("log a work
note on the record", "log it as a new incident"), names no step here. Vendor steps come
first: this runs after graph/named_steps.py, on the core steps it left.

Measured (issue 19, twenty-eighth session): replayed on the shipped outlines of all 184 dev
cases, 14 flows changed, outline FlowSim +0.011 ± 0.004 (8 closer, none further).

Three phrases name a step wherever they stand (thirtieth session; `APPROVAL`, `SMS`,
`NEW_TASK` below): "ask the CI owner to approve emergency patching" is
`ask_for_approval`, "page the on-call engineer by SMS" `send_sms`, "create a task for the
owner to decide" `create_task`. Live on all 184 dev cases with graph/outline_repair.py's
`name_else_ifs`: 12 flows changed, 9 closer to gold, 3 further (full +0.002 a case).
A span that looks up a group by name is `look_up_record` (`GROUP_LOOK_UP`, fortieth
session: the model wrote `update_record`, `look_up_records` over it), and one where
someone "gets an email" or is let know with no channel said is `send_email`
(`GETS_AN_EMAIL`, `LET_KNOW`: `update_record | gets an email with the incident number`).
A message whose span opens with a verb that changes a record (`UPDATE_VERBS`: "raise the
incident to priority 1") becomes `update_record`: 3 dev flows changed (2 closer, 1
further), 1 on test (closer), none on ood.
Forty-first session: the flow log named as where a span writes is `log` (`FLOW_LOG`); a
message or Create Task whose span opens by adding a note or setting a field is an update
(`OPENS_WITH_A_NOTE`, `UPDATE_VERBS`); a look-up of many over one named group looks
up one; "look up who is on call" is the installation's `get_current_on_call`
(`ON_CALL_LOOK_UP`); and an installation's step whose span asks for a core step and
names nothing of it becomes that core step (`_spoke_step_core`). Dev 16 flows changed,
measured in docs/results.md.
Forty-eighth session: a Create Record whose span opens by adding a note ("add a work
note to the security incident stating ...") is an update too: no gold step so worded
creates a record (264 hand-written and synthetic update_record, 24 Add Work Note).
Forty-third session: words that open by creating a record and name its table by label
(`CREATES`, `created_table`: "open an access review") are `create_record`, over a
message, an update, a look-up or an installation's step they name nothing of; no gold
step changes.
Fifty-sixth session, on an installation no adapter was trained on (dev-unseen): an
installation's step whose span opens with a verb that changes a record and names nothing
of the step is an update (`prepare_workspace | set the case state to Work in Progress`;
1 of the 1,072 gold installation steps of train, dev, library and dev-unseen is so
worded, "assign them the Workday" app in Okta); a span that says "variables" reads a
catalog request's (`VARIABLES`: 58 of 58 gold spans so worded are Get Catalog Variables).
"""

from __future__ import annotations

import itertools
import re
from functools import partial

from flowgen.flow.catalog import CORE_SCOPE, CatalogView
from flowgen.flow.model import Component, Flow
from flowgen.graph.named_group import named_group
from flowgen.graph.named_steps import LEADING_FILLERS, Span, StepCue
from flowgen.graph.named_table import kind_labels, labelled_tables, named_table

# The span's opening verb → the core step it asks for.
VERB_STEPS = {
    "email": "send_email",
    "e": "send_email",  # "e-mail"
    "mail": "send_email",
    "remind": "send_email",
    "text": "send_sms",
    "sms": "send_sms",
    "log": "log",
}
# Phrases that name one core step wherever they stand in a span, whatever its verb (the
# hand-written gold steps of train and dev whose span holds one, and the synthetic ones):
# asking someone "to approve", "for approval", "approval from" is `ask_for_approval` (26
# of 27 hand-written, the other cancels items "still waiting for approval"; 263 of 263
# synthetic); "SMS" or a "text message" is `send_sms` (16 of 16); a span that opens with
# "create a task" is `create_task` (14 of 14; a "catalog task" or "problem task" is
# another step, and those spans do not open so).
APPROVAL = re.compile(
    r"\bto approve\b|\bfor (?:\w+ )?approval\b|\bapproval from\b|\bget (?:\w+ )?approval\b"
    # the formal voice: "Approval of the article shall be requested from the manager ..."
    r"|\bapproval\b[^.;]{0,60}?\bbe (?:then )?(?:requested|obtained|sought)\b"
    r"|\ban approval request goes to\b"
)
SMS = re.compile(r"\b(?:sms|text messages?)\b")
VARIABLES = re.compile(r"\bvariables\b")
NEW_TASK = re.compile(r"^(?:creates?|opens?|raises?) (?:a|an|one) task\b")
# Verbs that change a record ("raise the incident to priority 1", "set them as the
# caller"): no gold step of train or dev, hand-written or synthetic, whose span opens with
# one is a message (update_record 1,903, create_record 40, update_multiple_records 15;
# "store" and "save", 6 hand-written spans, all update_record).
UPDATE_VERBS = frozenset(
    "set raise move mark close assign reassign change bump update flag cancel resolve "
    "reopen store save".split()
)
MESSAGES = frozenset({"send_email", "send_sms", "log"})
# A task the words call a catalog task ("creates a catalog task assigned to that group")
# is the installation's Create Catalog Task: 44 of 44 gold steps of train and dev whose
# span says so and that create one (none is `create_task`); the model wrote Create Task,
# whose object word ties with the catalog task's in graph/named_steps.py.
CATALOG_TASK = re.compile(r"\bcatalog tasks?\b", re.I)
CATALOG_TASK_STEP = "create_catalog_task"
# A span that opens by looking up a group by name ("looks up the AV Support group", "find
# the Vulnerability Management group") is `look_up_record` on the group table: 7 of the
# 7 hand-written gold steps of train and dev whose span opens so (synthetic has none); a
# span about who is on call in the group is another step (get_current_on_call, 3 of 3).
GROUP_LOOK_UP = re.compile(
    r"^(?:(?:it|then|and|also|first|just)\s+)*(?:look(?:s|ed)? up|finds?|retrieves?)\s+the\b",
    re.I,
)
ON_CALL = re.compile(r"\bon[- ]call\b", re.I)
# Who is on call, looked up ("look up who is on call for the assignment group", "find
# who is on call right now for the Network group"): on an installation with the on-call
# schedule's step, 5 of 5 hand-written gold spans so worded are that step; the model
# wrote `look_up_record` (itsm-dev-long-01).
ON_CALL_LOOK_UP = re.compile(
    r"\bwho(?:ever)?\s+is\s+on[- ]call\b"
    r"|^(?:(?:then|and|also|first|just)\s+)*(?:look(?:s|ed)? up|finds?|gets?)\s+the\s+"
    r"(?:current\s+)?on[- ]call\b",
    re.I,
)
ON_CALL_STEP = "get_current_on_call"
# A span that opens by creating one record ("open an access review", "create a problem
# task of type general") and names its table by a label of any length
# (graph/named_table.py), other than a task's (Create Task, `NEW_TASK`) or a catalog
# task's: every hand-written and synthetic gold step of train and dev so worded whose
# step is not an installation's own (Create RMA, Create Issue in Jira: their spans name
# them) is `create_record` (23 and 205). The model wrote Send Email and Create Issue there.
# "raise a problem record linked to it" creates too (forty-ninth session: 40 more gold
# Create Records named their table, none renamed).
CREATE_VERB = r"(?:creates?|opens?|files?|raises?)\s+(?:a|an|one|new)\b"
_FILLERS = "|".join(sorted(LEADING_FILLERS | {"and"}))
CREATES = re.compile(
    rf"^(?:(?:{_FILLERS})\s+)*{CREATE_VERB}"
    r"(?!\s+(?:new\s+)?(?:sub|work)?flows?\b)",  # "Create a flow that runs when ..."
    re.I,
)
TASK_TABLES = frozenset({"task"})
# The flow log named as where a span writes ("record the user's roles in the flow log",
# "writes an info message to the flow log", "log a warning so IAM can fix the record"):
# 15 hand-written and 206 synthetic gold steps of train and dev, every one `log`; the
# model had written updates and emails there (3 dev flows).
FLOW_LOG = re.compile(
    r"\b(?:to|in|into) the (?:flow )?log\b|\bflow log\b"
    r"|\blogs? (?:it )?\((?:info|warn|warning|error)\)"
    r"|^(?:(?:just|then|also|and)\s+)*(?:writes?|records?|logs?) (?:an? )?(?:info|warning|error)\b",
    re.I,
)
# A span that opens by adding a note ("put a work note with the date", "add a note
# 'Rejected in review'") updates the record: 16 hand-written and 283 synthetic gold steps
# `update_record`, 38 the installation's Add Work Note (graph/work_notes.py), one a Slack
# post ("post" is not among the verbs here), none a message.
OPENS_WITH_A_NOTE = re.compile(
    r"^(?:(?:just|then|also|and|please)\s+)*(?:puts?|adds?|writes?|leaves?)\s+"
    r"(?:(?:a|an|the)\s+)?(?:work\s+)?(?:note|comment)s?\b",
    re.I,
)
# An email named by what the person gets ("the requester gets an email with the incident
# number", "their manager should get an email"): 5 of 5 hand-written gold spans; or by
# "let <them> know" with no channel said ("let the caller know"): 5 hand-written gold
# spans `send_email`, the others name their channel or vendor ("on Teams", "the account
# team"), which graph/named_steps.py names first.
GETS_AN_EMAIL = re.compile(r"\b(?:gets?|receives?) an e-?mail\b", re.I)
LET_KNOW = re.compile(r"^(?:(?:just|then|also|and)\s+)*let\s[^.;,]{1,40}?\bknow\b", re.I)
_CHANNELS = re.compile(
    r"\b(?:slack|teams|whatsapp|sms|text|chat|phone|call|comment|note|channel)\b|#", re.I
)
# Messaging vendors whose own steps send texts ("a WhatsApp text message").
_TEXTING_VENDORS = frozenset({"whatsapp", "teams", "slack", "twilio", "pagerduty"})
# The steps a named verb may replace: those that store or fetch records, and the three
# messages among themselves. A step that asks, waits or creates a task is left alone.
REPLACEABLE = frozenset(
    {
        "update_record",
        "create_record",
        "look_up_record",
        "look_up_records",
        "update_multiple_records",
        "send_email",
        "send_sms",
        "log",
    }
)
# Words that make a "log" span say where it writes, not the flow log.
_LOG_TARGETS = frozenset({"note", "notes", "as", "on", "record", "ticket", "case", "incident"})


def _words(span: str) -> list[str]:
    return re.findall(r"[a-z]+", span.lower())


def _after_fillers(words: list[str]) -> list[str]:
    """The span's words from the first that is not a filler ("just", "then")."""
    return list(itertools.dropwhile(LEADING_FILLERS.__contains__, words))


def _opening_verb(words: list[str]) -> str:
    """The span's first word after fillers, singular: "logs" is "log". An article there
    makes it a noun phrase ("the email's attachments"), with no verb."""
    word = next(iter(_after_fillers(words)), "")
    return word[:-1] if word.endswith("s") and len(word) > 3 else word


def core_step_named(span: str) -> str | None:
    """The core step the span's opening verb or one of its phrases asks for, or None.
    Asking for approval comes first ("email the manager for approval" asks for it)."""
    text = span.lower()
    words = _words(text)
    if APPROVAL.search(text):
        return "ask_for_approval"
    if VARIABLES.search(text):
        return "get_catalog_variables"  # every train and dev gold span so worded (58)
    if GROUP_LOOK_UP.match(span.strip()) and named_group(span) and not ON_CALL.search(span):
        return "look_up_record"
    if GETS_AN_EMAIL.search(span) or (LET_KNOW.match(span.strip()) and not _CHANNELS.search(span)):
        return "send_email"
    if FLOW_LOG.search(span.strip()):
        return "log"
    step = VERB_STEPS.get(_opening_verb(words))
    if step == "log" and _LOG_TARGETS & set(words):
        return None
    if step is not None:
        return step
    if NEW_TASK.match(" ".join(_after_fillers(words))):
        return "create_task"
    if SMS.search(text) and not _TEXTING_VENDORS & set(words):
        return "send_sms"
    return None


# Where the words of a created record's object end: a relative clause or a preposition
# ("for the incident", "that references the contract"; not the "On" of "On-call Shift").
# On the train and dev gold steps whose words create a record, 16 more Create Records
# are named their own table (forty-ninth session); no step is renamed that was not.
_OBJECT_END = re.compile(
    r"\b(?:that|which|with|for|from|against|on|to|in|under|about|referencing|linked)\b(?!-)",
    re.I,
)


def created_table(span: str, catalog: CatalogView) -> str | None:
    """The table a span that opens by creating a record names (`CREATES`), or None."""
    text = span.strip()
    if not CREATES.match(text) or NEW_TASK.match(text.lower()) or CATALOG_TASK.search(text):
        return None
    tables, kinds = labelled_tables(catalog), partial(kind_labels, catalog)
    # the record made is the verb's object, named before what it is for or linked to
    # ("creates a vendor contract review record that references the contract")
    head = _OBJECT_END.split(text, maxsplit=1)[0]
    table = named_table(head, tables, 1, kinds) or named_table(text, tables, 1, kinds)
    return None if table in TASK_TABLES else table


def _one_group(span: str) -> bool:
    """Whether the span names one group by its name, and not who is on call in it: of the
    hand-written gold steps whose span names a group, 33 look it up with `look_up_record`
    and none with `look_up_records`."""
    return bool(named_group(span)) and not ON_CALL.search(span)


def changes_a_record(span: str) -> bool:
    """Whether the span opens with a verb that changes a record (`UPDATE_VERBS`) or adds
    a note to it (`OPENS_WITH_A_NOTE`)."""
    if _opening_verb(_words(span)) in UPDATE_VERBS:
        return True
    return bool(OPENS_WITH_A_NOTE.match(span.strip()))


def name_core_steps(flow: Flow, catalog: CatalogView | None = None) -> tuple[Flow, list[str]]:
    """The flow with each replaceable core step whose span's verb or phrase names another
    core step renamed to it (see above), and `"order: old -> new"` for each. With
    `catalog`, an installation's step whose span asks for a core step and says nothing of
    that step becomes the core step too (`_spoke_step_core`)."""
    renamed: list[str] = []
    components: list[Component] = []
    for comp in flow.components:
        new = None
        if comp.scope == CORE_SCOPE and comp.definition in REPLACEABLE and comp.annotation:
            new = core_step_named(comp.annotation)
            if new is None and comp.definition == "look_up_records" and _one_group(comp.annotation):
                new = "look_up_record"  # `look_up_records | the Desktop Support group`
            if new is None and comp.definition in MESSAGES and changes_a_record(comp.annotation):
                new = "update_record"  # `send_email | raise the incident to priority 1`
            if (
                new is None
                and comp.definition == "create_record"
                and OPENS_WITH_A_NOTE.match(comp.annotation.strip())
            ):
                new = "update_record"  # `create_record | add a work note to the incident`
            if catalog is not None and ON_CALL_LOOK_UP.search(comp.annotation):
                new = ON_CALL_STEP if catalog.step(ON_CALL_STEP) is not None else new
            if new is None and catalog is not None and created_table(comp.annotation, catalog):
                new = "create_record"  # `send_email | open an access review`
        elif comp.scope == CORE_SCOPE and comp.definition == "create_task" and comp.annotation:
            if changes_a_record(comp.annotation) and not NEW_TASK.match(comp.annotation.lower()):
                new = "update_record"  # `create_task | sets the priority of the incident to 1`
            elif catalog is not None and CATALOG_TASK.search(comp.annotation):
                new = CATALOG_TASK_STEP if catalog.step(CATALOG_TASK_STEP) is not None else None
        elif catalog is not None and comp.category != "flowlogic" and comp.annotation:
            new = _spoke_step_core(comp, catalog)
        if new is None or new == comp.definition:
            components.append(comp)
            continue
        renamed.append(f"{comp.order}: {comp.definition} -> {new}")
        step = catalog.step(new) if catalog is not None else None
        scope = step.scope if step is not None else CORE_SCOPE
        update = {"definition": new, "inputs": [], "scope": scope, "category": "action"}
        components.append(comp.model_copy(update=update))
    if not renamed:
        return flow, []
    return flow.model_copy(update={"components": components}), renamed


def _spoke_step_core(comp: Component, catalog: CatalogView) -> str | None:
    """The core step the span of a step other than the record steps and messages asks
    for where it names nothing of that step, neither its vendor nor a word of its object
    (an installation's step, or since the forty-second session a platform one such as
    Get User Roles or Ask For Approval: `get_user_roles | get approval from the system
    owner` is an approval, `ask_for_approval | email the reviewer the user to review` an
    email; of such gold steps, the 18 whose span asks for a core step are that step):
    `post_message | email the CISO at ciso@initech.com` is an email, `send_chat_message |
    sms to the on-call user's contact phone` a text, `send_whatsapp_message | logs how
    many cases were found` the flow log, `look_up_email | looks up the AV Support group` a
    look-up of the group. Of the hand-written and synthetic gold steps whose span asks for
    a core step and whose step is another, every one names its step ("let the account
    team know", "log it in Salesforce", "remind the SOC on Slack")."""
    step = catalog.step(comp.definition)
    if step is None:
        return None
    span = comp.annotation or ""
    core = core_step_named(span)
    if core is None and created_table(span, catalog):
        core = "create_record"  # `create_issue | create a problem task of type general`
    if core is None and changes_a_record(span):
        core = "update_record"  # `prepare_workspace | set the case state to Work in Progress`
    if core is None or StepCue.of(step.model_dump()).mentions(Span.of(span)):
        return None
    return core
