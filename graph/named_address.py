"""An email sent to the address its words give: "email iam@initech.example with the
number of users found" has `ah_to = iam@initech.example`.

The small model fills a recipient with a data pill whatever the words say: on dev it
wrote `{{2.item.manager.email}}` for "email iam@initech.example ..." and the affected
host's owner for "sends an email to the privacy office at privacy@initech.example".
A send_email whose span holds exactly one address, not as the sender ("reply from the
servicedesk@acme.example shared mailbox"), is sent to it, as all 5 such hand-written
gold steps of train and dev are.

Measured (issue 19, twenty-ninth session): on the shipped flows of all 184 dev cases it
changes the recipient of 2 flows, both to gold's.
"""

from __future__ import annotations

import re

from flowgen.flow.model import FlowInput

RECIPIENT = "ah_to"
_ADDRESS = re.compile(r"(?<![\w.+-])([\w.+-]+@[\w-]+(?:\.[\w-]+)+)")
_SENDER = re.compile(r"\bfrom\s+(?:the\s+)?$", re.IGNORECASE)


def named_address(annotation: str) -> str | None:
    """The one address the span sends to, or None (none, several, or the sender's)."""
    found = list(_ADDRESS.finditer(annotation))
    if len(found) != 1 or _SENDER.search(annotation[: found[0].start()]):
        return None
    return found[0].group(1).rstrip(".")


def send_to_named_address(
    inputs: list[FlowInput], annotation: str
) -> tuple[list[FlowInput], list[str]]:
    """A send_email's inputs with the recipient its span names (see above), and
    `old -> new` for the trace."""
    address = named_address(annotation)
    written = next((i.value for i in inputs if i.name == RECIPIENT), None)
    if address is None or written == address:
        return inputs, []
    kept = [i for i in inputs if i.name != RECIPIENT]
    return [FlowInput(name=RECIPIENT, value=address), *kept], [f"{written} -> {address}"]
