"""Turning untrusted text or JSON into models, with errors that name the bad field's path.

Everything that reads a flow (validator, scorer, CLI) goes through `load_flow`, so limits
on size and nesting are enforced in one place and nothing downstream sees a traceback.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from flowgen.flow.model import Flow

# A 20-step flow with inputs is a few KB; these bounds leave two orders of magnitude of
# headroom while keeping the pure-Python tree edit distance (quadratic or worse) finite.
MAX_FLOW_BYTES = 1_000_000
MAX_COMPONENTS = 500


def json_path(loc: Sequence[int | str]) -> str:
    """`("components", 3, "inputs", 1, "value")` -> `components[3].inputs[1].value`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else str(part)
    return path or "(root)"


def describe_validation_error(err: ValidationError, prefix: str = "") -> list[str]:
    """One `path: message` line per problem pydantic found (it collects all of them)."""
    lines = []
    for e in err.errors(include_url=False):
        loc = [p for p in e["loc"] if not (isinstance(p, str) and p.startswith("function-"))]
        path = json_path(loc)
        if prefix:
            path = prefix if path == "(root)" else f"{prefix}.{path}".replace(".[", "[")
        lines.append(f"{path}: {_message(e)}")
    return lines


def _message(e: Any) -> str:
    kind = e["type"]
    given = e.get("input")
    field = str(e["loc"][-1]) if e["loc"] else ""
    if kind == "literal_error":
        expected = e.get("ctx", {}).get("expected", "")
        noun = "type" if field == "type" else "value"
        return f"unknown {noun} {given!r} (expected {expected})"
    if kind == "missing":
        return "required key is missing"
    if kind == "extra_forbidden":
        return "unknown key"
    if kind.endswith("_type"):
        return f"{e['msg'].lower()}, got {type(given).__name__} {_short(given)}"
    return e["msg"]


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass(frozen=True)
class FlowLoad:
    """The result of reading a flow: a model, or why there is none.

    `code` says why (the validator's error code): `unparseable` when the text is not JSON
    at all (spec: scored as an empty flow), `too_large`, or `invalid_type` when it is
    JSON of the wrong shape; `problems` are the path-named details ("path: message").
    A `None` flow with no problems is a refusal (`"flow": null`).
    """

    flow: Flow | None
    problems: tuple[str, ...] = ()
    code: Literal["unparseable", "too_large", "invalid_type"] | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def unparseable(self) -> bool:
        return self.code == "unparseable"


def _invalid(*problems: str) -> FlowLoad:
    return FlowLoad(None, problems, "invalid_type")


def load_flow(raw: str | bytes | dict[str, Any] | Flow | None) -> FlowLoad:
    """Parse a flow from text, a decoded JSON value or a model; never raises on bad input."""
    if raw is None or isinstance(raw, Flow):
        return FlowLoad(raw)
    if isinstance(raw, str | bytes):
        if len(raw) > MAX_FLOW_BYTES:
            return _too_large(len(raw))
        try:
            raw = json.loads(raw)
        except RecursionError:
            return FlowLoad(None, ("(root): JSON is nested too deeply",), "unparseable")
        except ValueError as exc:
            return FlowLoad(None, (f"(root): not valid JSON ({exc})",), "unparseable")
        if raw is None:
            return FlowLoad(None)
    elif isinstance(raw, dict):
        # Decoded JSON (a case line's `flow`) gets the same size limit as text.
        try:
            encoded = len(json.dumps(raw))
        except (TypeError, ValueError, RecursionError):
            return _invalid("(root): not JSON-serialisable")
        if encoded > MAX_FLOW_BYTES:
            return _too_large(encoded)
    if not isinstance(raw, dict):
        return _invalid(f"(root): a flow is a JSON object, got {type(raw).__name__}")
    components = raw.get("components")
    if isinstance(components, list) and len(components) > MAX_COMPONENTS:
        limit = f"components: {len(components)} components, over the {MAX_COMPONENTS} limit"
        return FlowLoad(None, (limit,), "too_large")
    try:
        return FlowLoad(Flow.model_validate(raw))
    except RecursionError:
        return _invalid("(root): JSON is nested too deeply")
    except ValidationError as err:
        return _invalid(*describe_validation_error(err))


def _too_large(size: int) -> FlowLoad:
    return FlowLoad(
        None, (f"(root): flow is {size / 1e6:.1f} MB, over the 1 MB limit",), "too_large"
    )


def read_text_limited(path: str, limit: int, what: str) -> str:
    """Read a text file, refusing (with a clear message) files larger than `limit` bytes."""
    import os

    size = os.path.getsize(path)
    if size > limit:
        raise ValueError(
            f"{path}: {what} is {size / 1e6:.1f} MB, over the {limit / 1e6:g} MB limit"
        )
    with open(path, encoding="utf-8") as fh:
        return fh.read()


def iter_jsonl(lines: Iterable[str], source: str) -> Iterable[tuple[int, Any]]:
    """Yield `(line_number, value)` for each non-blank JSON line; a bad line raises ValueError."""
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield number, json.loads(line)
        except RecursionError:
            raise ValueError(f"{source}:{number}: JSON is nested too deeply") from None
        except ValueError as exc:
            raise ValueError(f"{source}:{number}: not valid JSON ({exc})") from None
