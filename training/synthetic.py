"""Synthetic training cases: valid, realistic flows composed from a catalog, each with
several requirement phrasings whose clauses are the annotations.

A recipe picks what it needs from the installation (task tables with a state choice,
reference columns leading to a person's email, spoke steps with a message input, ...),
builds the requirement clause by clause, and writes the flow in the authoring format
with each item annotated by its clause, so annotations are spans by construction. Every
case is parsed and validated against the catalog; a case that fails is dropped and
counted (a recipe bug, reported by `flowgen data synth`). Synthetic cases are marked
`"source": "synthetic"` and only ever go to `train`.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from flowgen.flow.catalog import Catalog, Column, Table
from flowgen.flow.model import Flow, flow_json
from flowgen.flow.validator import validate_flow
from flowgen.prompts.line_format import LineFormatError
from flowgen.training.authoring import parse_authored
from flowgen.training.cases import Case
from flowgen.training.features import flow_features


@dataclass
class Draft:
    """A requirement and its flow in the authoring format."""

    requirement: str
    flow: str
    tags: set[str] = field(default_factory=set)


class Skip(Exception):
    """The catalog lacks what this recipe needs."""


# -- what recipes pick from the catalog -------------------------------------------------------
@dataclass
class TaskTable:
    name: str
    label: str  # lower case, e.g. "incident", "change request"
    columns: dict[str, Column]

    def choice(self, column: str) -> list[tuple[str, str]]:
        col = self.columns.get(column)
        return [(c.value, c.label or c.value) for c in (col.choices or [])] if col else []

    def has(self, *names: str) -> bool:
        return all(n in self.columns for n in names)


def task_tables(catalog: Catalog) -> list[TaskTable]:
    found = []
    for table in catalog.tables:
        if "task" not in catalog.lineage(table.name):
            continue
        cols = {c.name: c for c in catalog.columns(table.name)}
        if "state" in cols and cols["state"].choices:
            found.append(TaskTable(table.name, _label(table), cols))
    return found


def _label(table: Table) -> str:
    return (table.label or table.name).lower()


def a(noun: str) -> str:
    return ("an " if noun[:1] in "aeiou" else "a ") + noun


# Who to email, as (dot-walk from a record, phrasings).
RECIPIENTS: list[tuple[str, tuple[str, ...]]] = [
    ("assigned_to.email", ("the assignee", "whoever it is assigned to", "the assigned engineer")),
    (
        "assignment_group.manager.email",
        ("the manager of the assignment group", "the assignment group's manager", "the group lead"),
    ),
    ("opened_by.email", ("the person who opened it", "whoever opened it", "the submitter")),
    ("caller_id.email", ("the caller", "the affected user", "the person who reported it")),
    ("assigned_to.manager.email", ("the assignee's manager", "the manager of the assignee")),
    ("requested_for.email", ("the person it was requested for", "the requester")),
]


def recipients(table: TaskTable) -> list[tuple[str, tuple[str, ...]]]:
    return [r for r in RECIPIENTS if r[0].split(".")[0] in table.columns]


def state_phrase(rng: random.Random, label: str) -> str:
    return rng.choice(
        [
            f"is set to {label}",
            f"moves to {label}",
            f"changes to {label}",
            f"becomes {label}",
            f"goes to {label}",
        ]
    )


PRIORITY_WORDS = {"1": ("critical", "P1", "priority 1"), "2": ("high priority", "P2", "priority 2")}


# -- recipes --------------------------------------------------------------------------------
Recipe = Callable[[random.Random, Catalog], Draft]


def _pick_state(rng: random.Random, table: TaskTable) -> tuple[str, str]:
    states = table.choice("state")
    if not states:
        raise Skip
    return rng.choice(states)


def _when(rng: random.Random) -> str:
    return rng.choice(["When", "Whenever", "Every time", "Once", "As soon as"])


def notify_on_change(rng: random.Random, catalog: Catalog) -> Draft:
    table = rng.choice(task_tables(catalog))
    whom = recipients(table)
    if not whom:
        raise Skip
    pill, names = rng.choice(whom)
    if rng.random() < 0.5:
        value, label = _pick_state(rng, table)
        trigger = f"{_when(rng)} {a(table.label)} {state_phrase(rng, label)}"
        head = f"T record_update | {trigger}\n  table = {table.name}\n"
        head += f"  condition = stateCHANGESTO{value}"
    else:
        prio = rng.choice([p for p in table.choice("priority") if p[0] in PRIORITY_WORDS] or [None])
        if prio is None:
            raise Skip
        word = rng.choice(PRIORITY_WORDS[prio[0]])
        trigger = f"{_when(rng)} {a(word + ' ' + table.label)} is created"
        head = (
            f"T record_create | {trigger}\n  table = {table.name}\n  condition = priority={prio[0]}"
        )
    whom_text = rng.choice(names)
    verb = rng.choice(["email", "send an email to", "notify by email", "let"])
    notify = f"let {whom_text} know by email" if verb == "let" else f"{verb} {whom_text}"
    subject = rng.choice(
        [
            f"{table.label.capitalize()} {{{{trigger.current.number}}}} needs attention",
            "{{trigger.current.number}}: {{trigger.current.short_description}}",
            "Update on {{trigger.current.number}}",
        ]
    )
    lines = [
        head,
        f"- send_email | {notify}",
        f"  ah_to = {{{{trigger.current.{pill}}}}}",
        f"  ah_subject = {subject}",
        f"  table_name = {table.name}",
        "  record = {{trigger.current}}",
    ]
    requirement = f"{trigger}, {notify}"
    if rng.random() < 0.4 and table.has("work_notes"):
        note = rng.choice(
            [
                "add a work note saying they were told",
                "log a work note on the record",
                "note it in the work notes",
            ]
        )
        requirement += f" and {note}"
        lines += [
            f"- update_record | {note}",
            f"  table_name = {table.name}",
            "  record = {{trigger.current}}",
            f"  values = work_notes=Email sent to {whom_text}",
        ]
    return Draft(requirement + ".", "\n".join(lines))


def update_on_change(rng: random.Random, catalog: Catalog) -> Draft:
    table = rng.choice(task_tables(catalog))
    value, label = _pick_state(rng, table)
    trigger = f"{_when(rng)} {a(table.label)} {state_phrase(rng, label)}"
    options = []
    for field_name in ("priority", "impact", "urgency"):
        for v, lab in table.choice(field_name):
            options.append((f"{field_name}={v}", f"set its {field_name} to {lab}"))
    if table.has("assignment_group") and table.has("opened_by"):
        options.append(
            ("assigned_to={{trigger.current.opened_by}}", "assign it back to whoever opened it")
        )
    if not options:
        raise Skip
    values, action = rng.choice(options)
    tags = {"implicit_action"} if "set its" in action else set()
    flow = (
        f"T record_update | {trigger}\n  table = {table.name}\n"
        f"  condition = stateCHANGESTO{value}\n"
        f"- update_record | {action}\n  table_name = {table.name}\n"
        f"  record = {{{{trigger.current}}}}\n  values = {values}"
    )
    return Draft(f"{trigger}, {action}.", flow, tags)


CHILDREN = {  # parent table → (child table, reference column to the parent, plural label)
    "incident": ("incident_task", "incident", "incident tasks"),
    "change_request": ("change_task", "change_request", "change tasks"),
    "problem": ("problem_task", "problem", "problem tasks"),
    "sc_req_item": ("sc_task", "request_item", "catalog tasks"),
}


def close_children(rng: random.Random, catalog: Catalog) -> Draft:
    parents = [t for t in task_tables(catalog) if t.name in CHILDREN]
    if not parents:
        raise Skip
    parent = rng.choice(parents)
    child, ref, plural = CHILDREN[parent.name]
    child_table = next((t for t in task_tables(catalog) if t.name == child), None)
    if child_table is None or not catalog.column(child, ref):
        raise Skip
    value, label = _pick_state(rng, parent)
    trigger = f"{_when(rng)} {a(parent.label)} {state_phrase(rng, label)}"
    closed = [s for s in child_table.choice("state") if "closed" in s[1].lower()] or [
        child_table.choice("state")[-1]
    ]
    close_value, close_label = closed[0]
    find = rng.choice(
        [
            f"find its open {plural}",
            f"look up all of its {plural} that are still open",
            f"get the {plural} that are still active",
        ]
    )
    loop = plural
    act = rng.choice(
        [f"close them as {close_label}", "close each one", f"set them to {close_label}"]
    )
    requirement = f"{trigger}, {find} and {act}."
    if loop not in find:
        raise Skip
    note = rng.random() < 0.5
    values = f"state={close_value}" + (
        f"^work_notes=Closed because {{{{trigger.current.number}}}} was {label}" if note else ""
    )
    flow = "\n".join(
        [
            f"T record_update | {trigger}",
            f"  table = {parent.name}",
            f"  condition = stateCHANGESTO{value}",
            f"- look_up_records | {find}",
            f"  table = {child}",
            f"  conditions = {ref}={{{{trigger.current}}}}^active=true",
            f"- FOREACH | {loop}",
            "  items = {{1.records}}",
            f"  - update_record | {act}",
            f"    table_name = {child}",
            "    record = {{2.item}}",
            f"    values = {values}",
        ]
    )
    return Draft(requirement, flow, {"implicit_action"})


DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


def _schedule(rng: random.Random) -> tuple[str, str]:
    hour = rng.choice([7, 8, 9, 10, 17, 18, 22, 23])
    clock = f"{hour % 12 or 12}{'am' if hour < 12 else 'pm'}"
    time = f"1970-01-01 {hour:02d}:00:00"
    kind = rng.choice(["daily", "weekly", "monthly"])
    if kind == "daily":
        text = rng.choice(
            [f"Every day at {clock}", f"Each morning at {clock}", f"Daily at {clock}"]
        )
        if "morning" in text and hour >= 12:
            text = f"Every day at {clock}"
        return text, f"T daily | {text}\n  time = {time}"
    if kind == "weekly":
        day = rng.randrange(7)
        text = rng.choice([f"Every {DAYS[day]} at {clock}", f"Each week on {DAYS[day]} at {clock}"])
        return text, f"T weekly | {text}\n  day_of_week = {day + 1}\n  time = {time}"
    dom = rng.choice([1, 15, 28])
    suffix = {1: "st", 15: "th", 28: "th"}[dom]
    text = f"On the {dom}{suffix} of every month at {clock}"
    return text, f"T monthly | {text}\n  day_of_month = {dom}\n  time = {time}"


def scheduled_reminder(rng: random.Random, catalog: Catalog) -> Draft:
    table = rng.choice([t for t in task_tables(catalog) if recipients(t)])
    when, trigger = _schedule(rng)
    plural = table.label + "s"
    conds, words = ["active=true"], "open"
    prio = [p for p in table.choice("priority") if p[0] in PRIORITY_WORDS]
    if prio and rng.random() < 0.5:
        p = rng.choice(prio)
        conds.append(f"priority={p[0]}")
        words = f"open {PRIORITY_WORDS[p[0]][0]}"
    find = rng.choice(
        [
            f"find all {words} {plural}",
            f"look up every {words} {plural[:-1]}",
            f"get the {words} {plural}",
        ]
    )
    loop_span = plural if re.search(rf"\b{re.escape(plural)}\b", find) else plural[:-1]
    pill, names = rng.choice(recipients(table))
    whom = rng.choice(names)
    remind = rng.choice(
        [f"remind {whom} by email", f"email {whom} a reminder", f"send {whom} a reminder email"]
    )
    flow = "\n".join(
        [
            trigger,
            f"- look_up_records | {find}",
            f"  table = {table.name}",
            f"  conditions = {'^'.join(conds)}",
            f"- FOREACH | {loop_span}",
            "  items = {{1.records}}",
            f"  - send_email | {remind}",
            f"    ah_to = {{{{2.item.{pill}}}}}",
            "    ah_subject = Reminder: {{2.item.number}} is still open",
            f"    table_name = {table.name}",
            "    record = {{2.item}}",
        ]
    )
    return Draft(f"{when}, {find} and {remind}.", flow, {"implicit_action"})


def branch_on_priority(rng: random.Random, catalog: Catalog) -> Draft:
    tables = [t for t in task_tables(catalog) if t.choice("priority") and len(recipients(t)) >= 2]
    if not tables:
        raise Skip
    table = rng.choice(tables)
    trigger = f"{_when(rng)} {a(table.label)} is created"
    (p1, names1), (p2, names2) = rng.sample(recipients(table), 2)
    w1, w2 = rng.choice(names1), rng.choice(names2)
    cond = rng.choice(["if it is critical", "if it is a P1", "if its priority is 1"])
    then = f"email {w1}"
    other = rng.choice(["otherwise", "if not", "else"])
    otherwise = f"{other} just email {w2}"
    flow = "\n".join(
        [
            f"T record_create | {trigger}",
            f"  table = {table.name}",
            f"- IF | {cond}",
            "  condition = {{trigger.current.priority}}=1",
            f"  - send_email | {then}",
            f"    ah_to = {{{{trigger.current.{p1}}}}}",
            "    ah_subject = Critical: {{trigger.current.number}}",
            f"- ELSE | {other}",
            f"  - send_email | {otherwise[len(other) + 1 :]}",
            f"    ah_to = {{{{trigger.current.{p2}}}}}",
            "    ah_subject = New: {{trigger.current.number}}",
        ]
    )
    return Draft(f"{trigger}: {cond}, {then}; {otherwise}.", flow)


APPROVABLE = ("change_request", "u_access_request", "sc_req_item", "proc_po")


def approval(rng: random.Random, catalog: Catalog) -> Draft:
    tables = [t for t in task_tables(catalog) if t.name in APPROVABLE or "approval" in t.columns]
    tables = [t for t in tables if len(t.choice("state")) >= 3]
    if not tables:
        raise Skip
    table = rng.choice(tables)
    trigger = f"{_when(rng)} {a(table.label)} is submitted"
    ask = rng.choice(
        ["ask the assignment group manager for approval", "get it approved", "request approval"]
    )
    states = table.choice("state")
    ok_state, ok_label = states[1]
    no_state, no_label = states[-1]
    yes = f"if approved, move it to {ok_label}"
    no = f"if rejected, set it to {no_label}"
    flow = "\n".join(
        [
            f"T record_create | {trigger}",
            f"  table = {table.name}",
            f"- ask_for_approval | {ask}",
            f"  table_name = {table.name}",
            "  record = {{trigger.current}}",
            "- IF | if approved",
            "  condition = {{1.approval_state}}=approved",
            f"  - update_record | move it to {ok_label}",
            f"    table_name = {table.name}",
            "    record = {{trigger.current}}",
            f"    values = state={ok_state}",
            "- ELSE | if rejected",
            f"  - update_record | set it to {no_label}",
            f"    table_name = {table.name}",
            "    record = {{trigger.current}}",
            f"    values = state={no_state}",
        ]
    )
    return Draft(f"{trigger}, {ask}; {yes}, {no}.", flow)


def email_to_record(rng: random.Random, catalog: Catalog) -> Draft:
    table = next((t for t in task_tables(catalog) if t.name == "incident"), None)
    if table is None:
        raise Skip
    word = rng.choice(["urgent", "outage", "down", "help"])
    trigger = rng.choice(
        [
            f'When an email with "{word}" in the subject arrives',
            f"When we receive an email whose subject mentions {word}",
        ]
    )
    create = rng.choice(
        [
            "open an incident from it",
            "create an incident with the subject as its description",
            "log it as a new incident",
        ]
    )
    lines = [
        f"T email | {trigger}",
        f"  email_conditions = subjectLIKE{word}",
        f"- create_record | {create}",
        "  table_name = incident",
        "  values = short_description={{trigger.subject}}^description={{trigger.body}}"
        "^contact_type=email",
    ]
    requirement = f"{trigger}, {create}"
    if rng.random() < 0.5:
        reply = rng.choice(
            [
                "reply to the sender with the incident number",
                "send the sender the new incident number",
            ]
        )
        requirement += f" and {reply}"
        lines += [
            f"- send_email | {reply}",
            "  ah_to = {{trigger.from_address}}",
            "  ah_subject = We logged your request as {{1.record.number}}",
        ]
    return Draft(requirement + ".", "\n".join(lines))


def sla_warning(rng: random.Random, catalog: Catalog) -> Draft:
    pct = rng.choice([50, 75, 90])
    trigger = rng.choice(["When an SLA starts on a task", "For every task SLA"])
    wait = rng.choice([f"wait until {pct}% of the SLA has elapsed", f"at {pct}% of the SLA"])
    warn = rng.choice(
        [
            "warn the assignee",
            "email whoever the task is assigned to",
            "send the assigned engineer a warning",
        ]
    )
    flow = "\n".join(
        [
            f"T sla_task | {trigger}",
            f"- sla_percentage_timer | {wait}",
            f"  percentage = {pct}",
            f"- send_email | {warn}",
            "  ah_to = {{trigger.task_sla_record.task.assigned_to.email}}",
            "  ah_subject = SLA {{1.status}} on {{trigger.task_sla_record.task.number}}",
        ]
    )
    return Draft(f"{trigger}, {wait}, then {warn}.", flow)


def catalog_fulfilment(rng: random.Random, catalog: Catalog) -> Draft:
    trigger = rng.choice(
        [
            "When someone orders a catalog item",
            "When a catalog request comes in",
            "For each new requested item",
        ]
    )
    get = rng.choice(["read the variables they filled in", "get the catalog variables"])
    task = rng.choice(
        [
            "create a fulfilment task for the service desk",
            "open a catalog task to fulfil it",
            "create a catalog task",
        ]
    )
    flow = "\n".join(
        [
            f"T service_catalog | {trigger}",
            f"- get_catalog_variables | {get}",
            "  requested_item = {{trigger.request_item}}",
            f"- create_catalog_task | {task}",
            "  requested_item = {{trigger.request_item}}",
            "  short_description = Fulfil {{trigger.request_item.number}}",
        ]
    )
    return Draft(f"{trigger}, {get} and {task}.", flow)


CHAT_STEPS = {  # step → (required literal inputs, message input, phrasings)
    "post_message": ({"channel": "#it-ops"}, "message", ("post in the #it-ops Slack channel",)),
    "post_a_message": (
        {"team": "IT Operations", "channel": "Incidents"},
        "message",
        ("post a message to the Incidents channel in Teams",),
    ),
}


def chat_alert(rng: random.Random, catalog: Catalog) -> Draft:
    steps = [s for s in CHAT_STEPS if catalog.step(s)]
    tables = [t for t in task_tables(catalog) if t.choice("priority")]
    if not steps or not tables:
        raise Skip
    name = rng.choice(steps)
    literals, message_input, phrasings = CHAT_STEPS[name]
    table = rng.choice(tables)
    word = rng.choice(PRIORITY_WORDS["1"])
    trigger = f"{_when(rng)} {a(word + ' ' + table.label)} is opened"
    post = rng.choice(phrasings)
    lines = [
        f"T record_create | {trigger}",
        f"  table = {table.name}",
        "  condition = priority=1",
        f"- {name} | {post}",
        *(f"  {k} = {v}" for k, v in literals.items()),
        f"  {message_input} = {word} {table.label} {{{{trigger.current.number}}}}: "
        "{{trigger.current.short_description}}",
    ]
    step = catalog.step(name)
    assert step is not None
    ordered = [p.name for p in step.inputs]
    head, body = lines[:4], sorted(lines[4:], key=lambda line: ordered.index(line.split()[0]))
    return Draft(f"{trigger}, {post}.", "\n".join(head + body))


RECIPES: dict[str, Recipe] = {
    "notify_on_change": notify_on_change,
    "update_on_change": update_on_change,
    "close_children": close_children,
    "scheduled_reminder": scheduled_reminder,
    "branch_on_priority": branch_on_priority,
    "approval": approval,
    "email_to_record": email_to_record,
    "sla_warning": sla_warning,
    "catalog_fulfilment": catalog_fulfilment,
    "chat_alert": chat_alert,
}

REFUSALS: list[tuple[str, str, str]] = [
    (
        "Every night, export all user records with their emails and phone numbers and send "
        "them to my personal Gmail.",
        "harmful",
        "sends personal data outside the company (data exfiltration)",
    ),
    (
        "Delete every incident I opened last month so nobody can see my mistakes.",
        "harmful",
        "mass deletion to hide activity",
    ),
    (
        "When Jordan in accounting submits a request, reject it automatically and email them "
        "that nobody likes them.",
        "harmful",
        "harassment of an employee",
    ),
    ("Write me a poem about the ocean.", "out_of_scope", "not a workflow request"),
    ("What is the capital of Australia?", "out_of_scope", "a question, not a workflow"),
    (
        "Disable audit logging on the instance and then give my account the admin role.",
        "harmful",
        "disables security controls and escalates privileges",
    ),
    (
        "Book me a flight to Lisbon next Tuesday.",
        "out_of_scope",
        "not something this platform's flows can do",
    ),
]


def refusal(rng: random.Random) -> tuple[str, str, str]:
    """A harmful or out-of-scope request: a fixed one or one composed from parts."""
    kind = rng.randrange(6)
    if kind == 0:
        return rng.choice(REFUSALS)
    if kind == 1:
        what = rng.choice(["user records", "employee profiles", "customer contacts", "HR cases"])
        pii = rng.choice(["home addresses", "phone numbers", "salaries", "personal emails"])
        where = rng.choice(["my personal Gmail", "a Dropbox link", "an outside FTP server"])
        when = rng.choice(["Every night", "Every Sunday", "Once a month"])
        text = f"{when}, send all {what} with their {pii} to {where}."
        return text, "harmful", "sends personal data outside the company (data exfiltration)"
    if kind == 2:
        what = rng.choice(["incidents", "change requests", "audit records", "approvals"])
        why = rng.choice(["so nobody sees them", "before the audit", "to hide what happened"])
        text = f"Quietly delete all {what} I created this quarter {why}."
        return text, "harmful", "mass deletion to hide activity"
    if kind == 3:
        who = rng.choice(["Jordan", "Priya", "the new intern", "Sam from finance"])
        insult = rng.choice(
            ["that they are useless", "an insulting joke", "that nobody likes them"]
        )
        text = f"Whenever {who} opens a ticket, close it at once and email them {insult}."
        return text, "harmful", "harassment of an employee"
    if kind == 4:
        control = rng.choice(["audit logging", "MFA for admins", "the security alerts"])
        text = f"Turn off {control} and make my account an admin."
        return text, "harmful", "disables security controls and escalates privileges"
    ask = rng.choice(
        [
            "Write a haiku about Mondays.",
            "Translate our holiday policy into French.",
            "What will the weather be tomorrow in Denver?",
            "Recommend a good laptop for gaming.",
            "Summarize the last board meeting for me.",
            "Tell me a joke about databases.",
        ]
    )
    return ask, "out_of_scope", "not a workflow request"


# -- driver -----------------------------------------------------------------------------------
@dataclass
class SynthReport:
    made: int = 0
    dropped: dict[str, int] = field(default_factory=dict)  # recipe → invalid drafts
    skipped: int = 0
    per_recipe: dict[str, int] = field(default_factory=dict)


def synthesize(
    catalog: Catalog, n: int, seed: int = 0, exclude: set[str] | None = None
) -> tuple[list[Case], SynthReport]:
    """`n` cases for `catalog`; requirements in `exclude` (normalized) are never made."""
    rng = random.Random(seed)
    report = SynthReport()
    seen = set(exclude or ())
    cases: list[Case] = []
    names = list(RECIPES)
    attempts = 0
    while len(cases) < n and attempts < n * 20:
        attempts += 1
        if rng.random() < 0.03:
            text, tag, reason = refusal(rng)
            key = " ".join(text.lower().split())
            if key in seen or sum(1 for c in cases if c.flow is None) >= max(1, n // 30):
                continue
            cases.append(
                Case(
                    id=f"{catalog.installation}-syn-{len(cases):05d}",
                    installation=catalog.installation,
                    requirement=text,
                    flow=None,
                    features=sorted({"refusal", tag}),
                    split="train",
                    source="synthetic",
                    refusal=reason,
                )
            )
            seen.add(key)
            continue
        name = rng.choice(names)
        try:
            draft = RECIPES[name](rng, catalog)
        except (Skip, IndexError, ValueError):
            report.skipped += 1
            continue
        requirement = draft.requirement[0].upper() + draft.requirement[1:]
        key = " ".join(requirement.lower().split())
        if key in seen:
            continue
        try:
            flow = parse_authored(draft.flow, catalog, name=requirement[:60])
        except LineFormatError:
            report.dropped[name] = report.dropped.get(name, 0) + 1
            continue
        if flow is None or not validate_flow(flow, catalog).ok or not _spans_ok(flow, requirement):
            report.dropped[name] = report.dropped.get(name, 0) + 1
            continue
        seen.add(key)
        report.per_recipe[name] = report.per_recipe.get(name, 0) + 1
        cases.append(
            Case(
                id=f"{catalog.installation}-syn-{len(cases):05d}",
                installation=catalog.installation,
                requirement=requirement,
                flow=flow_json(flow),
                features=sorted(flow_features(flow) | draft.tags),
                split="train",
                source="synthetic",
            )
        )
    report.made = len(cases)
    return cases, report


def _spans_ok(flow: Flow, requirement: str) -> bool:
    spans = [annotation for _, _, annotation in flow.annotated_items()]
    # Whole words only: the outline grammar admits spans of the requirement's tokens.
    return all(
        s and re.search(rf"(?<!\w){re.escape(s)}(?!\w)", requirement) is not None for s in spans
    )
