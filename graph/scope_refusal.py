"""An out-of-scope refusal of a requirement that plainly asks for a flow is not taken.

The adapter learned to refuse requests that are not workflows, many of them written
casually ("Hey Flowgen, hope you're doing well! ... Could you write it for me"): 65
refusals of the train and dev splits give such a reason ("not a workflow request", "a
reporting question, not a workflow"). It then refuses casual requests that are
workflows: "hi, our knowlege base is full of old stuff ... could you make something
that runs every night at 11pm and takes every published article whose valid to date is
already passed and sets it to retired?" came back as "a workflow request, not a
workflow" once the guard had flagged its tone.

A requirement that names a trigger (graph/trigger_cues.py: "every night at 11pm", "when
a case is closed") and asks for an action (an action clause, graph/coverage.py) is a
workflow request, whatever else it is: none of the 65 out-of-scope refusals of train and
dev does both, while 2,579 of their 3,348 flows do. The action may also be asked in the
passive or the third person ("could the account team be notified?", "a nightly job that
... closes them out") or as a terse assignment ("language = French"; forty-eighth
session: 3 of the 195 rephrased train cases, legitimate, had been refused so); none of
the 65 names a trigger at all. What such a request can still be is
harmful, and a harmful refusal says so in its reason (the 67 train and dev refusals that
name a trigger and an action all give a harm: exfiltration, harassment, hiding
records). So an out-of-scope reason for such a requirement is not taken, and the outline
is asked again with no refusal in its grammar; a refusal for harm stands, as does every
refusal the guard is certain of (graph/flow_graph.py).

The other way round, a requirement that is one question opening with a question word
("What's the average resolution time for network incidents this year?", "How many desks
are free on the third floor tomorrow?") and names no trigger asks for an answer, not a
flow: all 10 such requirements of the hand-written cases are refusals (6 train, 2 test,
2 ood), and none of the 3,543 train and dev flows (synthetic and rephrased included) is
written so (their questions open "Could we ...", "Can we ..." and name the trigger). The
guard scored one of them (umb-ood-075) under its threshold and the adapter wrote it a
flow, so such a requirement is refused as if the guard were certain: the outline call
words the reason.
"""

from __future__ import annotations

import re

from flowgen.graph.coverage import action_clauses
from flowgen.graph.trigger_cues import named_trigger

# "not a workflow", "not an ITSM workflow", "a reporting question", "not something this
# installation's flows can do": the reasons the adapter gives for what is out of scope.
SCOPE_REASON = re.compile(
    r"\bnot (?:a|an)\b[^,;]*\b(?:workflow|flow)s?\b|\bquestion\b|\bnot something\b"
)


# One sentence, opening with a question word and ending in a question mark; "when" opens
# triggers ("When a case is closed ...?"), so it is not among them.
QUESTION = re.compile(r"^(?:what|which|who|whom|whose|where|why|how)\b[^.!?]*\?$")


def out_of_scope_reason(reason: str | None) -> bool:
    """Whether a refusal's reason says the request is out of scope, not harmful."""
    return bool(reason and SCOPE_REASON.search(reason.lower()))


# An action asked in the passive, the third person or a terse assignment, which
# graph/coverage.py's imperative verbs do not read: "could the account team be notified?",
# "a nightly job that ... closes them out", "-> all its contacts' language = French".
OTHER_ACTION = re.compile(
    r"\b(?:notified|notifies|e-?mailed|informed|messaged|texted|pinged|reminded|alerted"
    r"|closes|assigns|escalates|sends|posts)\b|\s=\s"
)


def asks_for_a_flow(requirement: str, triggers: list[str]) -> bool:
    """Whether the requirement names one of `triggers` and asks for an action."""
    if named_trigger(requirement, triggers) is None:
        return False
    return bool(action_clauses(requirement)) or bool(OTHER_ACTION.search(requirement.lower()))


def overrules_refusal(reason: str | None, requirement: str, triggers: list[str]) -> bool:
    """Whether a refusal for `reason` is not taken (see above)."""
    return out_of_scope_reason(reason) and asks_for_a_flow(requirement, triggers)


def one_question(requirement: str) -> bool:
    """Whether `requirement` is worded as one question (`QUESTION`)."""
    return bool(QUESTION.match(" ".join(requirement.lower().split())))


def a_question(requirement: str, triggers: list[str]) -> bool:
    """Whether `requirement` is one question asked of the data, not a flow (see above)."""
    return one_question(requirement) and named_trigger(requirement, triggers) is None
