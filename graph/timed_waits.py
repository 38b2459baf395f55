"""A step whose span says to wait a fixed time is a Wait For Duration.

"wait two days", "wait 10d", "wait 3 days, look the review up again": the small model
wrote them as `wait_for_condition` (which waits for a record to match a condition) or
as an update. Every hand-written and synthetic train and dev gold step whose span opens
with "wait" and a length of time, not followed by "for" or "until" (which wait for
something), is a WAITFORDURATION (6 and 43 of 6 and 43). A wait "up to 21 days for the
RMA to be received" waits for a condition and is left as it is.
"""

from __future__ import annotations

import re

from flowgen.flow.catalog import CORE_SCOPE
from flowgen.flow.model import Component, Flow

WAIT = "WAITFORDURATION"
_COUNT = (
    r"(?:\d+|an?|one|two|three|four|five|six|seven|eight|nine|ten|twelve|fifteen|twenty|thirty)"
)
_UNIT = r"\s*(?:min(?:ute)?s?|h(?:ou)?rs?|hours?|d|days?|business days?|weeks?|w)"
# A wait of a length of time: "wait 3 days", "waits for another 2 hours"; not "wait 2 days
# for the CAB" or "until" (a wait for something).
WAIT_WORDS = rf"wait(?:s|ing)?\s+(?:for\s+)?(?:another\s+)?{_COUNT}{_UNIT}\b(?!\s+(?:for|until)\b)"
TIMED_WAIT = re.compile(rf"^(?:(?:then|and|also|first|just)\s+)*{WAIT_WORDS}", re.IGNORECASE)


def name_timed_waits(flow: Flow) -> tuple[Flow, list[str]]:
    """The flow with each core step whose span opens with a timed wait (see above) turned
    into a WAITFORDURATION, and `"order: old -> WAITFORDURATION"` for each."""
    named: list[str] = []
    components: list[Component] = []
    for comp in flow.components:
        timed = comp.category != "flowlogic" and comp.scope == CORE_SCOPE
        if not (timed and TIMED_WAIT.match((comp.annotation or "").strip())):
            components.append(comp)
            continue
        named.append(f"{comp.order}: {comp.definition} -> {WAIT}")
        update = {"definition": WAIT, "category": "flowlogic", "inputs": []}
        components.append(comp.model_copy(update=update))
    if not named:
        return flow, []
    return flow.model_copy(update={"components": components}), named
