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
from typing import Any

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
        *_email("", notify, f"{{{{trigger.current.{pill}}}}}", subject),
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
    head = [
        f"T record_update | {trigger}",
        f"  table = {parent.name}",
        f"  condition = stateCHANGESTO{value}",
    ]
    conditions = f"{ref}={{{{trigger.current}}}}^active=true"
    if "each" in act:
        body = [
            f"- look_up_records | {find}",
            f"  table = {child}",
            f"  conditions = {conditions}",
            f"- FOREACH | {loop}",
            "  items = {{1.records}}",
            f"  - update_record | {act}",
            f"    table_name = {child}",
            "    record = {{2.item}}",
            f"    values = {values}",
        ]
    else:
        # The same values for every record: the hand-written train flows write that as
        # one update_multiple_records (33 of 37 such updates), not a loop of updates.
        body = _update_many(f"{find} and {act}", child, conditions, values)
    return Draft(requirement, "\n".join(head + body), {"implicit_action"})


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
            *_email(
                "  ", remind, f"{{{{2.item.{pill}}}}}", "Reminder: {{2.item.number}} is still open"
            ),
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


# -- long recipes (6-15 components) ---------------------------------------------------------
# Long requirements are written as a list of stages: "do the following in parallel. First,
# ... Second, ...", numbered lists ("1. ... 2. ..."), or several sentences of prose. Each
# recipe collects its clauses in a `Clauses`, renders the requirement in one of several
# styles (which decides each clause's capitalization), and then annotates every item with
# the clause exactly as rendered.


class Clauses:
    """Clauses of a requirement and the form each takes once rendered."""

    def __init__(self) -> None:
        self.final: dict[int, str] = {}
        self.texts: list[str] = []

    def add(self, text: str) -> int:
        self.texts.append(text)
        return len(self.texts) - 1

    def say(self, i: int, cap: bool = False) -> str:
        text = self.texts[i]
        if cap:
            text = text[0].upper() + text[1:]
        self.final[i] = text
        return text

    def __getitem__(self, i: int) -> str:
        return self.final[i]


ORDINALS = ["First", "Second", "Third", "Fourth", "Fifth", "Sixth"]


def _stages(rng: random.Random, c: Clauses, stages: list[list[tuple[str, int]]]) -> str:
    """Render stages (each a list of (separator, clause id), the first separator unused)
    as a numbered list, a bulleted list, ordinals, or connected prose."""
    style = rng.choice(["numbered", "ordinals", "prose", "bullets"])
    finally_word = rng.choice(["Finally, ", "At the end, ", "Lastly, "])
    parts = []
    for k, stage in enumerate(stages):
        last = k == len(stages) - 1
        if style == "numbered":
            lead, cap = rng.choice([f"{k + 1}. ", f"{k + 1}) "]) if k == 0 else f"{k + 1}. ", True
        elif style == "bullets":
            lead, cap = "- ", True
        elif style == "ordinals":
            lead = finally_word if last and k >= 2 else f"{ORDINALS[k]}, "
            cap = False
        elif k == 0:
            lead, cap = "", True
        elif last:
            lead, cap = finally_word, False
        else:
            lead = rng.choice(["Then ", "After that, ", "Next, ", "Once that is done, "])
            cap = False
        text = c.say(stage[0][1], cap)
        for sep, i in stage[1:]:
            text += sep + c.say(i)
        parts.append(lead + text + ".")
    sep = "\n" if style in ("numbered", "bullets") and rng.random() < 0.6 else " "
    return sep.join(parts)


def _join(rng: random.Random, body: str) -> str:
    """What goes between an opener and the stages: a list starts on its own line."""
    if body.startswith(("1", "- ")):
        return ":\n"
    return rng.choice([": ", ". "])


SPOKES = {  # step → (literal inputs, message input, phrasings)
    "post_message": (
        {"channel": "#it-ops"},
        "message",
        ("post in the #it-ops Slack channel", "post an alert to Slack", "tell the team on Slack"),
    ),
    "post_a_message": (
        {"team": "IT Operations", "channel": "Incidents"},
        "message",
        ("notify the on-call group in Teams", "post a message to the Incidents channel in Teams"),
    ),
    "create_pagerduty_incident": (
        {"service_id": "PD-OPS", "urgency": "high"},
        "title",
        ("page the on-call engineer in PagerDuty", "open a PagerDuty incident"),
    ),
    "create_issue": (
        {"project_key": "OPS", "issue_type": "Task"},
        "summary",
        ("raise a Jira ticket", "create a Jira issue for it"),
    ),
    "send_whatsapp_message": (
        {"to_number": "+15550100"},
        "message",
        ("send a WhatsApp message to the duty manager", "text the duty manager on WhatsApp"),
    ),
    "create_work_order": (
        {"request_type": "repair"},
        "description",
        ("open a facilities work order", "raise a work order for facilities"),
    ),
}


def _spoke_lines(
    catalog: Catalog, name: str, annotation: str, message: str, indent: str
) -> list[str]:
    literals, message_input, _ = SPOKES[name]
    values = {**literals, message_input: message}
    step = catalog.step(name)
    assert step is not None
    lines = [f"{indent}- {name} | {annotation}"]
    lines += [f"{indent}  {p.name} = {values[p.name]}" for p in step.inputs if p.name in values]
    return lines


def _email(indent: str, ann: str, to: str, subject: str) -> list[str]:
    # No `table_name` / `record`: optional, and none of the 62 emails of the hand-written
    # train flows names them (the recipes did on 73%); the model copies its examples.
    return [
        f"{indent}- send_email | {ann}",
        f"{indent}  ah_to = {to}",
        f"{indent}  ah_subject = {subject}",
    ]


def _update(indent: str, ann: str, table: str, record: str, values: str) -> list[str]:
    return [
        f"{indent}- update_record | {ann}",
        f"{indent}  table_name = {table}",
        f"{indent}  record = {record}",
        f"{indent}  values = {values}",
    ]


def _update_many(ann: str, table: str, conditions: str, values: str) -> list[str]:
    return [
        f"- update_multiple_records | {ann}",
        f"  table_name = {table}",
        f"  conditions = {conditions}",
        f"  values = {values}",
    ]


def _note_phrase(rng: random.Random) -> str:
    return rng.choice(
        [
            "add a work note that the team was notified",
            "record in the work notes what was done",
            "log a work note on the record",
            "update the work notes with a summary",
        ]
    )


def _notify_phrase(rng: random.Random, whom: str) -> str:
    return rng.choice(
        [f"email {whom}", f"notify {whom} by email", f"send an email to {whom}", f"let {whom} know"]
    )


def _vip_column(table: TaskTable, catalog: Catalog) -> tuple[str, str] | None:
    for ref, who in (("caller_id", "the caller"), ("opened_by", "the person who opened it")):
        col = table.columns.get(ref)
        if col is not None and col.reference == "sys_user" and catalog.column("sys_user", "vip"):
            return ref, who
    return None


def parallel_response(rng: random.Random, catalog: Catalog) -> Draft:
    """Trigger on a critical record; PARALLEL of 2-3 paths (email, spoke under TRY/CATCH,
    create a related record); then a wait, an IF/ELSE on VIP or on the state, and a final
    work-note update."""
    tables = [
        t
        for t in task_tables(catalog)
        if t.choice("priority") and len(recipients(t)) >= 2 and t.has("work_notes")
    ]
    if not tables:
        raise Skip
    table = rng.choice(tables)
    c = Clauses()
    word = rng.choice(PRIORITY_WORDS["1"])
    trig = c.add(
        f"{_when(rng)} {a(word + ' ' + table.label)} "
        + rng.choice(["is created", "is opened", "is raised", "comes in"])
    )
    par = c.add(
        rng.choice(
            [
                "do the following in parallel",
                "do these things at the same time",
                "run the following steps in parallel",
                "in parallel",
            ]
        )
    )
    (p1, n1), (p2, n2) = rng.sample(recipients(table), 2)
    # (clause, the steps under its PATH at depth 2 as (kind, *arguments) by kind)
    branches: list[tuple[int, list[tuple[Any, ...]]]] = []
    mail = c.add(_notify_phrase(rng, rng.choice(n1)))
    branches.append(
        (
            mail,
            [
                (
                    "email",
                    f"{{{{trigger.current.{p1}}}}}",
                    f"{word} {table.label} {{{{trigger.current.number}}}}",
                )
            ],
        )
    )
    spokes = [s for s in SPOKES if catalog.step(s)]
    if spokes and rng.random() < 0.8:
        name = rng.choice(spokes)
        sp = c.add(rng.choice(SPOKES[name][2]))
        use_try = rng.random() < 0.6
        fb = (
            c.add(
                rng.choice(["if that fails, ", "if it fails, ", "should that fail, "])
                + rng.choice([f"email {rng.choice(n2)} instead", "log the error"])
            )
            if use_try
            else None
        )
        branches.append((sp, [("spoke", name, fb)]))
    related = [t for t in task_tables(catalog) if t.name == "problem" != table.name]
    if related and rng.random() < 0.7:
        cr = c.add(
            rng.choice(
                [
                    "create a problem record",
                    "open a problem for it",
                    "raise a problem record linked to it",
                ]
            )
        )
        branches.append((cr, [("problem",)]))
    if len(branches) < 2:
        wn = c.add(_note_phrase(rng))
        branches.append((wn, [("note",)]))
    rng.shuffle(branches)

    hours = rng.choice([1, 2, 4, 8])
    wait_kind = rng.choice(["duration", "condition", "none"])
    states = table.choice("state")
    resolved = next(
        (s for s in states if any(w in s[1].lower() for w in ("resolved", "closed", "complete"))),
        states[-1],
    )
    if wait_kind == "duration":
        wt = c.add(
            rng.choice(
                [
                    f"wait {hours} hours",
                    f"wait for {hours} hours",
                    f"after {hours} hours",
                ]
            )
        )
    elif wait_kind == "condition":
        wt = c.add(
            rng.choice(
                [
                    f"wait until it is {resolved[1]}",
                    f"wait until the {table.label} moves to {resolved[1]}",
                ]
            )
        )
    vip = _vip_column(table, catalog)
    branch_kind = rng.choice(["vip", "assigned"]) if vip else "assigned"
    if branch_kind == "vip":
        assert vip is not None
        ref, who = vip
        cond_c = c.add(
            rng.choice([f"if {who} is a VIP", f"if {who} is a VIP user", f"when {who} is a VIP"])
        )
        cond = f"{{{{trigger.current.{ref}.vip}}}}=true"
    else:
        cond_c = c.add(rng.choice(["if it is still unassigned", "if nobody has picked it up"]))
        cond = "{{trigger.current.assigned_to}}ISEMPTY"
    then_c = c.add(
        rng.choice(
            [
                f"email {rng.choice(n2)}",
                f"escalate to {rng.choice(n2)} by email",
            ]
        )
    )
    size = 1 + sum(
        1 + (4 if sp[0][0] == "spoke" and sp[0][2] is not None else 1) for _, sp in branches
    )
    size += (wait_kind != "none") + 2 + 1
    has_else = rng.random() < 0.6 and size + 2 <= 15
    other = rng.choice(["otherwise", "if not", "else"])
    else_text = rng.choice(
        [
            "set its urgency to 1",
            "raise its urgency",
        ]
        if table.choice("urgency")
        else ["add a comment for the caller"]
    )
    else_c = c.add(f"{other}, {else_text}") if has_else else None
    fin = c.add(
        rng.choice(
            [
                "add a work note with a summary",
                "record what was done in the work notes",
                "update the work notes",
            ]
        )
    )

    # requirement
    opener = c.say(trig) + ", " + c.say(par) + ". "
    if rng.random() < 0.3:
        opener = c.say(trig) + ", " + c.say(par) + ": "
    body = []
    lead_style = rng.choice(["ordinal", "number", "plain"])
    for k, (bc, spec) in enumerate(branches):
        if lead_style == "ordinal":
            text = f"{ORDINALS[k]}, " + c.say(bc)
        elif lead_style == "number":
            text = f"{k + 1}) " + c.say(bc, True)
        else:
            text = c.say(bc, True)
        if spec[0][0] == "spoke" and spec[0][2] is not None:
            text += rng.choice(["; ", ", and "]) + c.say(spec[0][2])
        body.append(text + ".")
    tail = []
    if wait_kind != "none":
        tail.append(rng.choice(["Then ", "After that, ", "Once all are done, "]) + c.say(wt) + ".")
    cond_text = rng.choice(["", "Then "]) if wait_kind == "none" else ""
    line = (cond_text + c.say(cond_c)) if cond_text else c.say(cond_c, True)
    line += ", " + c.say(then_c)
    if else_c is not None:
        line += rng.choice(["; ", ", "]) + c.say(else_c)
    tail.append(line + ".")
    tail.append(rng.choice(["Finally, ", "At the end, ", "Lastly, "]) + c.say(fin) + ".")
    requirement = opener + " ".join(body) + " " + " ".join(tail)

    # flow
    msg = f"{word} {table.label} {{{{trigger.current.number}}}}: "
    msg += "{{trigger.current.short_description}}"
    lines = [
        f"T record_create | {c[trig]}",
        f"  table = {table.name}",
        "  condition = priority=1",
        f"- PARALLEL | {c[par]}",
    ]
    for bc, spec in branches:
        lines.append(f"  - PATH | {c[bc]}")
        kind = spec[0][0]
        if kind == "email":
            _, to, subject = spec[0]
            lines += _email("    ", c[bc], to, subject)
        elif kind == "spoke":
            _, name, fb = spec[0]
            if fb is None:
                lines += _spoke_lines(catalog, name, c[bc], msg, "    ")
            else:
                lines.append(f"    - TRY | {c[bc]}")
                lines += _spoke_lines(catalog, name, c[bc], msg, "      ")
                lines.append(f"    - CATCH | {c[fb]}")
                if "log the error" in c[fb]:
                    lines += [
                        "      - log | log the error",
                        "        log_level = error",
                        f"        log_message = Could not run {name} for "
                        "{{trigger.current.number}}",
                    ]
                else:
                    ann = c[fb].split(", ", 1)[1]
                    lines += _email(
                        "      ",
                        ann,
                        f"{{{{trigger.current.{p2}}}}}",
                        f"{name} failed for {{{{trigger.current.number}}}}",
                    )
        elif kind == "problem":
            lines += [
                f"    - create_record | {c[bc]}",
                "      table_name = problem",
                "      values = short_description={{trigger.current.short_description}}^priority=1",
            ]
        else:
            lines += _update(
                "    ", c[bc], table.name, "{{trigger.current}}", "work_notes=Team notified"
            )
    if wait_kind == "duration":
        lines += [f"- WAITFORDURATION | {c[wt]}", f"  duration = 0d {hours:02d}:00:00"]
    elif wait_kind == "condition":
        lines += [
            f"- wait_for_condition | {c[wt]}",
            f"  table_name = {table.name}",
            "  record = {{trigger.current}}",
            f"  conditions = state={resolved[0]}",
        ]
    lines += [f"- IF | {c[cond_c]}", f"  condition = {cond}"]
    lines += _email(
        "  ",
        c[then_c],
        f"{{{{trigger.current.{p2}}}}}",
        "Escalation: {{trigger.current.number}}",
    )
    if else_c is not None:
        lines.append(f"- ELSE | {other}")
        ann = c[else_c].split(", ", 1)[1]
        values = "urgency=1" if "urgency" in ann else "comments=We are working on it"
        lines += _update("  ", ann, table.name, "{{trigger.current}}", values)
    lines += _update(
        "",
        c[fin],
        table.name,
        "{{trigger.current}}",
        "work_notes=Parallel notifications sent for {{trigger.current.number}}",
    )
    return Draft(requirement, "\n".join(lines))


def _child_lookup(catalog: Catalog, table: TaskTable) -> tuple[str, str, str, str] | None:
    """(child table, reference to the parent, plural label, closed state) for a table."""
    child, ref, plural = CHILDREN.get(table.name, ("task", "parent", "related tasks"))
    child_table = next((t for t in task_tables(catalog) if t.name == child), None)
    if child_table is None or not catalog.column(child, ref):
        return None
    closed = [s for s in child_table.choice("state") if "closed" in s[1].lower()]
    if not closed:
        return None
    return child, ref, plural, closed[0][0]


def approval_process(rng: random.Random, catalog: Catalog) -> Draft:
    """A numbered or prose process: approval, IF/ELSEIF/ELSE on its outcome (each branch an
    update and a notification), close the child tasks in a FOREACH, a final notification."""
    tables = [t for t in task_tables(catalog) if len(t.choice("state")) >= 4 and recipients(t)]
    tables = [t for t in tables if _child_lookup(catalog, t) and t.has("work_notes")]
    if not tables:
        raise Skip
    table = rng.choice(tables)
    child, ref, plural, closed = _child_lookup(catalog, table)  # type: ignore[misc]
    states = table.choice("state")
    ok_state, ok_label = states[rng.choice([1, 2])]
    no_state, no_label = states[-1]
    whom = recipients(table)
    c = Clauses()
    if rng.random() < 0.5:
        trig = c.add(f"{_when(rng)} {a(table.label)} " + rng.choice(["is submitted", "is created"]))
        head = ["T record_create | {trig}", f"  table = {table.name}"]
    else:
        value, label = states[0]
        trig = c.add(f"{_when(rng)} {a(table.label)} {state_phrase(rng, label)}")
        head = [
            "T record_update | {trig}",
            f"  table = {table.name}",
            f"  condition = stateCHANGESTO{value}",
        ]
    opener = rng.choice(
        [
            "run this process",
            "do the following",
            "the flow should do the following",
            "handle it like this",
        ]
    )
    ask = c.add(
        rng.choice(
            [
                "ask the assignment group manager for approval",
                "request approval from the group manager",
                "send it for approval",
                "get it approved",
            ]
        )
    )
    yes = c.add(rng.choice(["if it is approved", "if approved", "once approved"]))
    yes_do = c.add(rng.choice([f"move it to {ok_label}", f"set its state to {ok_label}"]))
    p_yes, n_yes = rng.choice(whom)
    yes_tell = c.add(_notify_phrase(rng, rng.choice(n_yes)))
    no = c.add(rng.choice(["if it is rejected", "if rejected", "if the approver rejects it"]))
    no_do = c.add(rng.choice([f"set it to {no_label}", f"move it to {no_label}"]))
    p_no, n_no = rng.choice(whom)
    no_tell = c.add(_notify_phrase(rng, rng.choice(n_no)))
    has_else = rng.random() < 0.5
    other = rng.choice(["otherwise", "in any other case", "if neither"])
    else_c = c.add(f"{other}, " + rng.choice(["log a warning", "write a warning to the log"]))
    find = c.add(
        rng.choice(
            [
                f"find its open {plural}",
                f"look up all of its {plural} that are still open",
                f"get the {plural} that are still active",
            ]
        )
    )
    close = c.add(rng.choice(["close each one", "close them", "close every one of them"]))
    final_kind = rng.choice(["note", "email"])
    if final_kind == "note":
        fin = c.add(_note_phrase(rng))
    else:
        p_fin, n_fin = rng.choice(whom)
        fin = c.add(_notify_phrase(rng, rng.choice(n_fin)) + " with the outcome")
    decide = [(("", yes)), (", ", yes_do), (" and ", yes_tell), ("; ", no), (", ", no_do)]
    decide.append((" and ", no_tell))
    if has_else:
        decide.append(("; ", else_c))
    stages = [[("", ask)], decide, [("", find), (" and ", close)], [("", fin)]]
    if rng.random() < 0.3:  # the closing of child tasks first
        stages = [stages[2], stages[0], stages[1], stages[3]]
    body = _stages(rng, c, stages)
    requirement = f"{c.say(trig)}, {opener}" + _join(rng, body) + body

    def rec(indent: str, ann: str, values: str) -> list[str]:
        return _update(indent, ann, table.name, "{{trigger.current}}", values)

    def mail(indent: str, ann: str, pill: str, subject: str) -> list[str]:
        return _email(
            indent,
            ann,
            f"{{{{trigger.current.{pill}}}}}",
            subject,
        )

    head = [line.replace("{trig}", c[trig]) for line in head]
    appr = [
        f"- ask_for_approval | {c[ask]}",
        f"  table_name = {table.name}",
        "  record = {{trigger.current}}",
    ]
    loop_first = stages[0][0][1] == find
    # "close each one" is a loop; the same values for all of them are one
    # update_multiple_records, as the hand-written train flows write it (close_children).
    per_record = "each" in c[close]
    a_order = (4 if per_record else 2) if loop_first else 1
    decide_lines = [
        f"- IF | {c[yes]}",
        f"  condition = {{{{{a_order}.approval_state}}}}=approved",
        *rec("  ", c[yes_do], f"state={ok_state}"),
        *mail("  ", c[yes_tell], p_yes, "{{trigger.current.number}} was approved"),
        f"- ELSEIF | {c[no]}",
        f"  condition = {{{{{a_order}.approval_state}}}}=rejected",
        *rec("  ", c[no_do], f"state={no_state}"),
        *mail("  ", c[no_tell], p_no, "{{trigger.current.number}} was rejected"),
    ]
    if has_else:
        decide_lines += [
            f"- ELSE | {other}",
            f"  - log | {c[else_c].split(', ', 1)[1]}",
            "    log_level = warn",
            "    log_message = Approval of {{trigger.current.number}} ended {{"
            f"{a_order}.approval_state}}}}",
        ]
    l_order = 1 if loop_first else 1 + 3 + 3 + (2 if has_else else 0) + 1
    conditions = f"{ref}={{{{trigger.current}}}}^active=true"
    if per_record:
        loop = [
            f"- look_up_records | {c[find]}",
            f"  table = {child}",
            f"  conditions = {conditions}",
            f"- FOREACH | {plural}",
            f"  items = {{{{{l_order}.records}}}}",
            *_update("  ", c[close], child, f"{{{{{l_order + 1}.item}}}}", f"state={closed}"),
        ]
    else:
        # The span as the requirement writes it (a numbered stage opens capitalised).
        both = re.search(rf"{re.escape(c[find])} and {re.escape(c[close])}", requirement, re.I)
        loop = _update_many(
            both.group(0) if both else c[close], child, conditions, f"state={closed}"
        )
    if final_kind == "note":
        final = rec("", c[fin], "work_notes=Approval process finished")
    else:
        final = mail("", c[fin], p_fin, "Outcome for {{trigger.current.number}}")
    body_lines = loop + appr + decide_lines if loop_first else appr + decide_lines + loop
    return Draft(requirement, "\n".join(head + body_lines + final))


def scheduled_sweep(rng: random.Random, catalog: Catalog) -> Draft:
    """On a schedule, look up open records and FOREACH over them with a nested
    IF/ELSEIF/ELSE on priority (a spoke step under TRY/CATCH in the first branch where the
    catalog has one), optionally skipping some first; then a summary email."""
    tables = [
        t
        for t in task_tables(catalog)
        if {"1", "2"} <= {v for v, _ in t.choice("priority")}
        and len(recipients(t)) >= 2
        and t.has("work_notes")
    ]
    if not tables:
        raise Skip
    table = rng.choice(tables)
    c = Clauses()
    when, trigger = _schedule(rng)
    plural = table.label + "s"
    trig = c.add(when)
    find = c.add(
        rng.choice(
            [
                f"find all open {plural}",
                f"look up every open {table.label}",
                f"get the open {plural}",
                f"query the {plural} that are still active",
            ]
        )
    )
    each = c.add(rng.choice(["for each one", "for each of them", "for every record found"]))
    hold = [s for s in table.choice("state") if "hold" in s[1].lower() or "pending" in s[1].lower()]
    skip = c.add(f"skip the ones that are {hold[0][1]}") if hold and rng.random() < 0.4 else None
    (p1, n1), (p2, n2) = rng.sample(recipients(table), 2)
    w1 = rng.choice(PRIORITY_WORDS["1"])
    w2 = rng.choice(PRIORITY_WORDS["2"])
    if1 = c.add(rng.choice([f"if it is {w1}", f"if it is a {w1} one", f"when it is {w1}"]))
    if1_do = c.add(_notify_phrase(rng, rng.choice(n1)))
    spokes = [s for s in SPOKES if catalog.step(s)]
    spoke = rng.choice(spokes) if spokes and rng.random() < 0.7 else None
    if spoke:
        sp = c.add(rng.choice(SPOKES[spoke][2]))
        fb = c.add(
            rng.choice(["if that fails, ", "if it fails, "])
            + rng.choice(["log the error", "write the error to the log"])
        )
    if2 = c.add(rng.choice([f"if it is {w2}", f"else if it is {w2}", f"if it is only {w2}"]))
    if2_do = c.add(
        rng.choice([f"remind {rng.choice(n2)} by email", f"email {rng.choice(n2)} a reminder"])
    )
    other = rng.choice(["otherwise", "for anything else", "for the rest"])
    else_c = c.add(f"{other}, " + _note_phrase(rng))
    has_else = rng.random() < 0.6
    summary = c.add(
        rng.choice(
            [
                "send a summary to the service desk leads",
                "email the team leads a summary with the count",
                "send the service desk a summary email",
            ]
        )
    )
    stages = [[("", find)]]
    if skip is not None:
        stages.append([("", skip)])
    first = [("", if1), (", ", if1_do)]
    if spoke:
        first += [(" and ", sp), ("; ", fb)]
    stages.append([("", each), (", ", if1), *first[1:]])
    second = [("", if2), (", ", if2_do)]
    if has_else:
        second += [("; ", else_c)]
    stages.append(second)
    stages.append([("", summary)])
    body = _stages(rng, c, stages)
    opener = rng.choice(["run the following", "do this", "go through the open work"])
    requirement = f"{c.say(trig)}, {opener}" + _join(rng, body) + body
    if each not in c.final:
        raise Skip
    lines = [
        trigger.replace(f"| {when}", f"| {c[trig]}"),
        f"- look_up_records | {c[find]}",
        f"  table = {table.name}",
        "  conditions = active=true",
        f"- FOREACH | {c[each]}",
        "  items = {{1.records}}",
    ]
    if skip is not None:
        lines += [
            f"  - IF | {c[skip]}",
            f"    condition = {{{{2.item.state}}}}={hold[0][0]}",
            f"    - SKIPITERATION | {c[skip]}",
        ]
    lines += [
        f"  - IF | {c[if1]}",
        "    condition = {{2.item.priority}}=1",
        *_email(
            "    ",
            c[if1_do],
            f"{{{{2.item.{p1}}}}}",
            "{{2.item.number}} is still open",
        ),
    ]
    if spoke:
        lines.append(f"    - TRY | {c[sp]}")
        lines += _spoke_lines(
            catalog,
            spoke,
            c[sp],
            "{{2.item.number}} is still open: {{2.item.short_description}}",
            "      ",
        )
        lines += [
            f"    - CATCH | {c[fb]}",
            f"      - log | {c[fb].split(', ', 1)[1]}",
            "        log_level = error",
            f"        log_message = {spoke} failed for {{{{2.item.number}}}}",
        ]
    lines += [
        f"  - ELSEIF | {c[if2]}",
        "    condition = {{2.item.priority}}=2",
        *_email(
            "    ",
            c[if2_do],
            f"{{{{2.item.{p2}}}}}",
            "Reminder: {{2.item.number}}",
        ),
    ]
    if has_else:
        lines += [
            f"  - ELSE | {other}",
            *_update(
                "    ",
                c[else_c].split(", ", 1)[1],
                table.name,
                "{{2.item}}",
                "work_notes=Still open at the weekly review",
            ),
        ]
    lines += [
        f"- send_email | {c[summary]}",
        "  ah_to = servicedesk-leads@example.com",
        f"  ah_subject = {{{{1.count}}}} open {plural}",
    ]
    return Draft(requirement, "\n".join(lines))


# -- subflows ---------------------------------------------------------------------------------
# (opener as the `T none` span, how the rest continues: "3rd" person after "that", or an
# imperative list after the opener sentence)
SUBFLOW_OPENERS = [
    ("Create a subflow", "that"),
    ("Build a subflow", "that"),
    ("I need a subflow", "that"),
    ("Make a reusable subflow", "which"),
    ("Subflow", ":"),
    ("Write a subflow", "."),
]


def subflow_note_and_notify(rng: random.Random, catalog: Catalog) -> Draft:
    """A subflow (no trigger): takes a task record and a message, notes the message on the
    record, emails someone about it, may move the record to a state, and returns whether
    the email was sent or the updated record (ASSIGNSUBFLOWOUTPUTS)."""
    table = rng.choice([t for t in task_tables(catalog) if t.has("work_notes", "number")])
    whom = recipients(table)
    if not whom:
        raise Skip
    walk, names = rng.choice(whom)
    who = rng.choice(names)
    record = re.sub(r"\W+", "_", table.label).strip("_") if rng.random() < 0.7 else "record"
    word = rng.choice(["message", "note", "comment"])
    rec, msg = f"{{{{subflow_inputs.{record}}}}}", f"{{{{subflow_inputs.{word}}}}}"
    state = _pick_state(rng, table) if rng.random() < 0.5 else None
    returns_record = state is not None and rng.random() < 0.5
    opener, link = rng.choice(SUBFLOW_OPENERS)
    imperative = link in (":", ".")
    # (third person, imperative) phrasings of each clause
    take = (
        rng.choice([f"takes {a(table.label)}", f"accepts {a(table.label)}"]),
        ("inputs are " if link == ":" else "It takes ") + a(table.label),
    )
    note = rng.choice(
        [
            (f"posts the {word} as a work note", f"Post the {word} as a work note"),
            (f"adds the {word} to the work notes", f"Add the {word} to the work notes"),
            (f"logs the {word} in the work notes", f"Log the {word} in the work notes"),
        ]
    )
    notify = rng.choice(
        [
            (f"notifies {who}", f"notify {who}"),
            (f"emails {who}", f"email {who}"),
            (f"sends an email to {who}", f"send an email to {who}"),
        ]
    )
    moved = None
    if state is not None:
        verb = rng.choice([("sets it to", "set it to"), ("moves it to", "move it to")])
        moved = (f"{verb[0]} {state[1]}", f"{verb[1]} {state[1]}")
    if returns_record:
        ret = rng.choice(
            [
                ("returns the updated record", "return the updated record"),
                (f"hands back the updated {table.label}", f"hand back the updated {table.label}"),
            ]
        )
    else:
        ret = rng.choice(
            [
                ("returns whether the email was sent", "return whether the email was sent"),
                ("outputs whether the email went out", "output whether the email went out"),
            ]
        )
    form = 1 if imperative else 0
    steps = [note[form], notify[form], *([moved[form]] if moved else []), ret[form]]
    message = f"a {word}"
    if imperative:
        head = f"{opener}{link} {take[1]} and {message}."
        requirement = f"{head} " + ", ".join(steps[:-1]) + f", and {steps[-1]}."
    else:
        requirement = f"{opener} {link} {take[0]} and {message}, " + ", ".join(steps[:-1])
        requirement += f", and {steps[-1]}."
    take_span = take[form] if not imperative else a(table.label)
    declarations = [f"  input {record} (reference of {table.name}) | {take_span}"]
    declarations.append(f"  input {word} (string) | {message}")
    if returns_record:
        declarations.append(f"  output updated_record (reference of {table.name}) | {ret[form]}")
    else:
        declarations.append(f"  output email_sent (boolean) | {ret[form]}")
    lines = [f"T none | {opener}", *declarations]
    if catalog.step("add_work_note") is not None:
        lines += [f"- add_work_note | {note[form]}", f"  record = {rec}", f"  work_note = {msg}"]
    else:
        lines += _update("", note[form], table.name, rec, f"work_notes={msg}")
    to = f"{{{{subflow_inputs.{record}.{walk}}}}}"
    subject = f"{{{{subflow_inputs.{record}.number}}}}: {msg}"
    lines += _email("", notify[form], to, subject)
    if state is not None and moved is not None:
        lines += _update("", moved[form], table.name, rec, f"state={state[0]}")
    lines.append(f"- ASSIGNSUBFLOWOUTPUTS | {ret[form]}")
    lines.append("  updated_record = {{3.record}}" if returns_record else "  email_sent = true")
    return Draft(requirement, "\n".join(lines))


# Subflow recipes are drawn only when `synthesize(subflows=True)` (`flowgen data synth
# --subflows`), for this share of the draws: without the flag the random draws, and so
# the cases made for a seed, are exactly those of before (data/synthetic.jsonl).
SUBFLOW_RECIPES: dict[str, Recipe] = {"subflow_note_and_notify": subflow_note_and_notify}
SUBFLOW_SHARE = 0.06


LONG_RECIPES: dict[str, Recipe] = {
    "parallel_response": parallel_response,
    "approval_process": approval_process,
    "scheduled_sweep": scheduled_sweep,
}
# Share of recipe draws that go to a long recipe (about 27% of the cases made, as the
# short recipes skip more often).
LONG_SHARE = 0.21


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
    catalog: Catalog,
    n: int,
    seed: int = 0,
    exclude: set[str] | None = None,
    subflows: bool = False,
) -> tuple[list[Case], SynthReport]:
    """`n` cases for `catalog`; requirements in `exclude` (normalized) are never made.
    `subflows`: also draw the subflow recipes (`SUBFLOW_SHARE` of the draws); off, the
    cases of a seed are exactly those made before subflow recipes existed."""
    rng = random.Random(seed)
    report = SynthReport()
    seen = set(exclude or ())
    cases: list[Case] = []
    names, long_names = list(RECIPES), list(LONG_RECIPES)
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
        if subflows and rng.random() < SUBFLOW_SHARE:
            name = rng.choice(list(SUBFLOW_RECIPES))
        else:
            name = rng.choice(long_names if rng.random() < LONG_SHARE else names)
        try:
            draft = {**RECIPES, **LONG_RECIPES, **SUBFLOW_RECIPES}[name](rng, catalog)
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
    spans += [p.annotation for p in [*flow.input_params, *flow.output_params]]
    # Whole words only: the outline grammar admits spans of the requirement's tokens.
    return all(
        s and re.search(rf"(?<!\w){re.escape(s)}(?!\w)", requirement) is not None for s in spans
    )
