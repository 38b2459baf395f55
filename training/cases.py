"""Case files (spec §6): the hand-written sources in the authoring format, and the JSON
Lines the rest of the project reads.

A source file holds the cases of one installation and split:

    installation: acme-itsm
    split: dev
    cases:
      - id: itsm-dev-001
        requirement: Every time a user becomes inactive, ...
        tags: [implicit_action]          # author tags (training.features.AUTHOR_TAGS)
        flow: |
          T record_update | Every time a user becomes inactive
            table = sys_user
          ...
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from flowgen.flow.catalog import Catalog
from flowgen.flow.model import Flow, flow_json
from flowgen.prompts.line_format import LineFormatError
from flowgen.training.authoring import parse_authored, refusal_reason
from flowgen.training.features import AUTHOR_TAGS, flow_features

Split = Literal["train", "dev", "test", "ood"]
# Our splits; a case file may use any other name (spec §6), kept and filtered on as given.
SPLITS: tuple[Split, ...] = ("train", "dev", "test", "ood")


class Case(BaseModel):
    # Only what the scorer needs is required; other keys (`notes`, ...) are kept as data.
    model_config = ConfigDict(extra="allow")

    id: str
    installation: str
    requirement: str
    flow: dict[str, Any] | None
    features: list[str] = Field(default_factory=list)
    split: str | None = None
    # `handwritten` and `synthetic` are ours; a user's file may say where its cases came from.
    source: str = "handwritten"
    refusal: str | None = None  # the expected reason, for `flow: null`


# A rephrased case (`data/rephrased/`) is another voice for a train case's very flow; its
# source is in the library, and showing it would teach copying as a near-copy would (in
# training, training/examples.py; and in evaluation, evaluation/runner.py).
REPHRASED = "-rephrased"


def source_case(case_id: str) -> str:
    """The case a rephrased case restates (its own id for any other case)."""
    return case_id.removesuffix(REPHRASED)


class CaseSourceError(ValueError):
    def __init__(self, source: str, problems: list[str]):
        super().__init__(f"{source}: " + "; ".join(problems))
        self.problems = problems


def read_cases(paths: Iterable[Path]) -> list[Case]:
    cases = []
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if line.strip():
                try:
                    cases.append(Case.model_validate_json(line))
                except ValueError as exc:
                    raise CaseSourceError(f"{path}:{number}", [str(exc)]) from None
    return cases


def write_cases(path: Path, cases: Iterable[Case]) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    n = 0
    with tmp.open("w", encoding="utf-8") as fh:
        for case in cases:
            data = {k: v for k, v in case.model_dump().items() if v is not None or k == "flow"}
            fh.write(json.dumps(data, ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)  # a reader never sees half a file
    return n


def authored_cases(path: Path, catalogs: dict[str, Catalog]) -> list[Case]:
    """The cases of one source file; every problem of the file is reported at once."""
    from flowgen.training.checks import case_problems  # checks reads Case from here

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        detail = " ".join(str(exc).split())
        raise CaseSourceError(str(path), [f"not valid YAML: {detail}"]) from None
    if not isinstance(data, dict):
        raise CaseSourceError(str(path), ["a source file is a mapping with `cases`"])
    installation, split = data.get("installation"), data.get("split")
    if installation not in catalogs:
        raise CaseSourceError(str(path), [f"no catalog for installation {installation!r}"])
    catalog = catalogs[installation]
    cases, problems = [], []
    for i, raw in enumerate(data.get("cases") or []):
        where = f"cases[{i}] ({raw.get('id', '?')})"
        tags = set(raw.get("tags") or [])
        if tags - AUTHOR_TAGS:
            problems.append(f"{where}: unknown tags {sorted(tags - AUTHOR_TAGS)}")
        text = raw.get("flow") or ""
        try:
            flow: Flow | None = parse_authored(text, catalog, name=raw.get("name"))
        except LineFormatError as exc:
            problems.append(f"{where}: {exc}")
            continue
        requirement = " ".join(str(raw.get("requirement", "")).split())
        if flow is not None and not flow.name:
            flow.name = raw.get("name") or requirement[:60]
        case = Case(
            id=raw["id"],
            installation=installation,
            requirement=requirement,
            flow=flow_json(flow) if flow is not None else None,
            features=sorted(flow_features(flow) | tags),
            split=raw.get("split", split),
            refusal=refusal_reason(text),
        )
        # The line format admits a flow the catalog would not (a choice value, a table
        # input, a pill out of scope) and a span the requirement lacks: what `data check`
        # rejects is rejected here too, before it reaches the case file.
        problems += [f"{where}: {p}" for p in case_problems(case, catalog)]
        cases.append(case)
    if problems:
        raise CaseSourceError(str(path), problems)
    return cases


def training_cases(
    cases: Iterable[Case],
    installation: str | None = None,
    leave_out: Iterable[str] = (),
    refusal_examples: bool = False,
    max_cases: int | None = None,
    seed: int = 0,
    subflow_share: float = 0.0,
    long_share: float = 0.0,
) -> tuple[list[Case], int]:
    """The train-split cases an adapter learns from, and how many refusal cases were left
    to the refusal guard. With `max_cases`, every hand-written case is kept and the rest
    is a seeded sample of the synthetic ones, of which `subflow_share` (at least) are
    subflow definitions: they are 3% of the synthetic corpus, too few in a small sample
    for a form the model writes nowhere else. Likewise `long_share` (at least) are
    tagged `long_flow` (6 components or more, `training.features`): long requirements
    are where outlines fall short."""
    left_out = set(leave_out)
    chosen = [
        c
        for c in cases
        if c.split == "train"
        and (installation is None or c.installation == installation)
        and c.installation not in left_out
    ]
    refusals = 0
    if not refusal_examples:
        refusals = sum(c.flow is None for c in chosen)
        chosen = [c for c in chosen if c.flow is not None]
    if max_cases and len(chosen) > max_cases:
        hand = [c for c in chosen if c.source == "handwritten"]
        synthetic = [c for c in chosen if c.source != "handwritten"]
        rng = random.Random(seed)
        wanted = max(0, max_cases - len(hand))
        subflows = [c for c in synthetic if c.flow and Flow.model_validate(c.flow).is_subflow]
        first = rng.sample(subflows, min(len(subflows), round(wanted * subflow_share)))
        taken = {c.id for c in first}
        long_ones = [c for c in synthetic if c.id not in taken and "long_flow" in c.features]
        more = max(0, round(wanted * long_share) - sum("long_flow" in c.features for c in first))
        first += rng.sample(long_ones, min(len(long_ones), more))
        taken = {c.id for c in first}
        rest = [c for c in synthetic if c.id not in taken]
        chosen = hand + first + rng.sample(rest, wanted - len(first))
    return chosen, refusals
