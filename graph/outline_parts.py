"""A long requirement outlined part by part, the parts' steps joined under one trigger.

The small model outlines a sentence or two well (dev's 100 short requirements: outline
FlowSim 0.83) and loses its place in a paragraph (the 24 long ones: 0.60): it writes a
later clause's words under an earlier step, repeats a FOREACH on the same words, or
puts every step under the first IF. So a requirement of several sentences and more
than `MAX_PART_WORDS` words is cut at sentence ends and enumerators ("1) ", "2. ") into
parts of at most that many words, and each part after the first is asked as a short
requirement of its own, led by the trigger's words: "When a security incident ... is
set to Contain, search Splunk for the user's logins ...". The whole requirement's
outline (the call made for every requirement) gives the trigger; each part's outline
gives its steps, appended in the order of the parts.

What a part cannot see is the block an earlier part opened: "3. Otherwise, email the
asset's managed-by user" comes back as a top-level ELSE. Such an ELSE or ELSEIF joins
the last IF while that IF is still open (every line after it is inside it), at its depth;
a CATCH likewise joins the last TRY; otherwise the block is unwrapped and its steps kept.
A part's step whose span lies in the trigger's words it was led by (the trigger's table
looked up again) is dropped, and a span that runs from those words into the part's own
is cut to the part's own, so every span stays a span of the requirement.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import pairwise

from flowgen.prompts.line_format import INDENT

# Dev's short requirements have at most ~40 words; a part is as long as those.
MAX_PART_WORDS = 40
# A sentence ends at . ! ? or : before a capital, a digit, a quote or a bracket.
_SENTENCE_END = re.compile(r"(?<=[.!?:])\s+(?=[\"'(\[A-Z0-9])")
# An enumerator opens a new item: "1) ", "2. ", "- ", "• ".
_ENUMERATED = re.compile(r"\s+(?=(?:\d{1,2}[.)]|[-•*])\s)")
_ENUMERATOR = re.compile(r"(?:\d{1,2}[.)]|[-•*])\s+")
JOIN = ", "
CONTINUES = {"ELSE": ("IF", "ELSEIF"), "ELSEIF": ("IF", "ELSEIF"), "CATCH": ("TRY",)}


def _words(text: str) -> int:
    return len(text.split())


def sentence_spans(requirement: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence or enumerated item, without its enumerator."""
    ends = {
        m.end()
        for m in _SENTENCE_END.finditer(requirement)
        # "manually. 3. Search": the cut is before the enumerator, not after it
        if not _ENUMERATOR.fullmatch(requirement[: m.start()].rsplit(None, 1)[-1] + " ")
    }
    enumerated = {m.end() for m in _ENUMERATED.finditer(requirement)}
    cuts = sorted({0, len(requirement)} | ends | enumerated)
    spans = []
    for start, end in pairwise(cuts):
        text = requirement[start:end]
        lead = len(text) - len(text.lstrip())
        start += lead
        enumerator = _ENUMERATOR.match(requirement, start)
        if enumerator and enumerator.end() < end:
            start = enumerator.end()
        end = start + len(requirement[start:end].rstrip())
        if end > start:
            spans.append((start, end))
    return spans


def requirement_parts(requirement: str, max_words: int = MAX_PART_WORDS) -> list[str]:
    """The requirement's parts: runs of whole sentences of at most `max_words` words (a
    longer sentence is a part of its own, and one ending in a colon stays with the next),
    each a slice of the requirement. One part, the
    whole requirement, when it is no longer than `max_words` words."""
    if _words(requirement) <= max_words:
        return [requirement]
    parts: list[tuple[int, int]] = []
    for start, end in sentence_spans(requirement):
        # a sentence ending in a colon ("For each of them:") heads what follows it
        heads = bool(parts) and requirement[parts[-1][1] - 1] == ":"
        if parts and (heads or _words(requirement[parts[-1][0] : end]) <= max_words):
            parts[-1] = (parts[-1][0], end)
        else:
            parts.append((start, end))
    return [requirement[start:end] for start, end in parts]


def led_part(trigger_span: str, part: str) -> str:
    """The part as a requirement of its own: led by the trigger's words unless it holds
    them. "For each asset, ..." after "Every Monday at 7am" starts in lower case."""
    if not trigger_span or trigger_span in part:
        return part
    if part[:1].isupper() and part[1:2].islower():
        part = part[0].lower() + part[1:]
    return f"{trigger_span.rstrip(' ,.;:')}{JOIN}{part}"


@dataclass
class _Line:
    depth: int
    definition: str
    span: str

    def text(self) -> str:
        return f"{INDENT * self.depth}- {self.definition} | {self.span}"


def _step_lines(outline: str) -> list[_Line]:
    lines = []
    for raw in outline.splitlines()[1:]:
        body, _, span = raw.partition(" | ")
        stripped = body.lstrip(" ")
        if not stripped.startswith("- "):
            continue  # a declaration line: parts of a subflow are not joined
        depth = (len(body) - len(stripped)) // len(INDENT)
        lines.append(_Line(depth, stripped[2:].strip(), span.strip()))
    return lines


def _in_requirement(span: str, requirement: str, lead: str) -> str | None:
    """The span as the requirement writes it; None when it lies in the leading trigger
    words alone. A span reaching from those words into the part keeps the part's own."""
    own = span
    if lead and span.startswith(lead[: len(span)]) and len(span) <= len(lead):
        return None
    if lead and JOIN in span and (lead + JOIN).endswith(span.split(JOIN, 1)[0] + JOIN):
        own = span.split(JOIN, 1)[1]
    if own in requirement:
        return own
    at = requirement.lower().find(own.lower())
    return requirement[at : at + len(own)] if at >= 0 else own


def _open_opener(lines: list[_Line], openers: tuple[str, ...]) -> int | None:
    """The index of the last line opening one of `openers`, where it is still open
    (every line after it is deeper); None otherwise."""
    for i in range(len(lines) - 1, -1, -1):
        if lines[i].definition in openers:
            return i if all(j.depth > lines[i].depth for j in lines[i + 1 :]) else None
    return None


def _append_part(joined: list[_Line], part: list[_Line]) -> None:
    """Append a part's steps, joining a leading continuation to the block it continues."""
    i = 0
    while i < len(part):
        line = part[i]
        end = i + 1
        while end < len(part) and part[end].depth > line.depth:
            end += 1
        children = part[i + 1 : end]
        openers = CONTINUES.get(line.definition) if line.depth == 0 else None
        if openers is None:
            joined.extend(part[i:end])
            i = end
            continue
        at = _open_opener(joined, openers)
        if at is not None:
            shift = joined[at].depth
            joined.extend(_Line(c.depth + shift, c.definition, c.span) for c in part[i:end])
        else:  # nothing to continue: its steps stay, one level up
            joined.extend(_Line(c.depth - 1, c.definition, c.span) for c in children)
        i = end


def join_outlines(
    whole: str, trigger_span: str, parts: list[str], outlines: list[str], requirement: str
) -> str:
    """The whole outline's trigger line, then each part's steps (see above)."""
    joined: list[_Line] = []
    for part, outline in zip(parts, outlines, strict=True):
        lead = "" if trigger_span in part else trigger_span.rstrip(" ,.;:")
        kept = []
        for line in _step_lines(outline):
            span = _in_requirement(line.span, requirement, lead)
            if span is None:
                continue
            kept.append(_Line(line.depth, line.definition, span))
        # a dropped line's children move up to its depth
        _append_part(joined, _levelled(kept))
    head = whole.splitlines()[0] if whole.strip() else ""
    return "\n".join([head, *(line.text() for line in joined)]) + "\n"


def _levelled(lines: list[_Line]) -> list[_Line]:
    """Lines whose depths step down freely but up by one at most (a dropped parent's
    children take its place)."""
    out: list[_Line] = []
    for line in lines:
        limit = out[-1].depth + 1 if out else 0
        out.append(_Line(min(line.depth, limit), line.definition, line.span))
    return out
