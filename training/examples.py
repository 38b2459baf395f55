"""Supervised examples of both tasks, made by running the real graph on each case.

The graph runs with the replay engine, which answers every call with the case's gold
lines: each call's prompt is therefore exactly what inference would send, retrieval
suggestions and misses included, and the gold answer is the target. A case whose gold
answer the grammar rejects is kept (the model should still learn it) and counted.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

from flowgen.db.store import CatalogStore
from flowgen.engine.base import GenerationRequest
from flowgen.flow.model import Flow
from flowgen.graph.flow_graph import ExampleRetrieval
from flowgen.graph.generator import FlowGenerator
from flowgen.prompts.populate_inputs import ITEM_HEAD
from flowgen.training.cases import Case, source_case
from flowgen.training.replay import ReplayEngine


@dataclass
class Example:
    case_id: str
    task: str  # "outline" or "inputs"
    messages: list[dict[str, str]]
    answer: str


@dataclass
class ExampleStats:
    cases: int = 0
    examples: int = 0
    outline: int = 0
    inputs: int = 0
    rejected_by_grammar: int = 0


# Solved flows in a training prompt: as at inference, the nearest from the library, but
# never the case itself or a near-copy of it (it would teach copying the answer). Some
# prompts show none, some show unhelpful ones (found for another requirement), so the
# model learns to write what the requirement asks rather than what an example did.
NEAR_COPY = 0.93  # MiniLM cosine, the near-duplicate line of `flowgen data check`
NO_EXAMPLES_SHARE = 0.1
UNHELPFUL_SHARE = 0.1


def library_cases(cases: Iterable[Case]) -> list[Case]:
    """The train flows a training run's prompts draw their examples from. Not the
    rephrased cases: they teach phrasing, and as library flows they would show their
    sources' prompts their own answers."""
    return [c for c in cases if c.split == "train" and c.flow and source_case(c.id) == c.id]


Shape = tuple[str, ...]


def outline_shape(flow: Flow) -> Shape:
    """The trigger and each step's name at its depth: two flows of one shape differ only
    in their spans and inputs."""
    depth = flow.depths()
    steps = [f"{depth[c.order]} {c.definition}" for c in flow.components]
    return (f"T {flow.trigger_type or 'none'}", *steps)


def shapes_of(pool: Iterable[Case]) -> dict[Shape, list[str]]:
    """The library's flows (named by case id, as `flowgen flows sync` names them) by
    outline shape."""
    by_shape: dict[Shape, list[str]] = {}
    for case in pool:
        if case.flow:
            by_shape.setdefault(outline_shape(Flow.model_validate(case.flow)), []).append(case.id)
    return by_shape


def same_shape(case: Case, by_shape: dict[Shape, list[str]]) -> list[str]:
    """The library flows (of `shapes_of`) whose outline shape is the case's."""
    if not case.flow:
        return []
    return by_shape.get(outline_shape(Flow.model_validate(case.flow)), [])


def example_retrieval(
    case: Case, others: list[str], k: int = 3, same_shape: Iterable[str] = ()
) -> ExampleRetrieval:
    """How one training case's prompts choose their examples (fixed by the case id).
    `same_shape`: library flows of the case's own outline shape, left out. The synthetic
    cases come from a few dozen recipes, so the nearest library flow of a synthetic case
    had its very outline in 47% of v11's prompts (hand-written train 2%, dev at
    inference 5%). Leaving them out (`flowgen train --no-same-shape-examples`) was meant
    to stop the model copying the nearest outline; adapter v13, trained so, lost on dev
    (docs/training.md), so shipped adapters keep them."""
    rng = random.Random(case.id)
    draw = rng.random()
    if draw < NO_EXAMPLES_SHARE:
        return ExampleRetrieval(k=0)
    query = rng.choice(others) if draw < NO_EXAMPLES_SHARE + UNHELPFUL_SHARE and others else None
    own = {case.id, source_case(case.id)}
    exclude = (*sorted(own), *sorted(set(same_shape) - own))
    return ExampleRetrieval(k=k, exclude=exclude, exclude_above=NEAR_COPY, query=query)


def examples_for_case(
    case: Case, store: CatalogStore, examples: ExampleRetrieval | None = None
) -> tuple[list[Example], int]:
    gold = Flow.model_validate(case.flow) if case.flow else None
    engine = ReplayEngine(gold, refusal=case.refusal or "this is not a workflow request")
    generator = FlowGenerator(
        case.installation,
        store=store,
        engine=engine,
        adapter=None,
        checkpoints=False,
        trace=False,
        examples=examples or ExampleRetrieval(k=0),
        instructions=False,
    )
    generator.generate(case.requirement)
    # The inputs calls are one conversation, so the last one's prompt holds every earlier
    # inputs call's prompt and answer: with the outline call, two examples teach the
    # whole flow.
    made: list[Example] = []
    calls = list(zip(engine.requests, engine.answers, strict=True))
    last_inputs = next((i for i in range(len(calls) - 1, -1, -1) if _is_inputs(calls[i][0])), None)
    for i, (request, answer) in enumerate(calls):
        task = "inputs" if _is_inputs(request) else "outline"
        if (task == "inputs" and i != last_inputs) or (task == "outline" and i > 0):
            continue
        made.append(
            Example(
                case_id=case.id,
                task=task,
                messages=[m.model_dump() for m in request.messages or []],
                answer=answer,
            )
        )
    return made, len(engine.rejections)


def _is_inputs(request: GenerationRequest) -> bool:
    users = [m.content for m in request.messages or [] if m.role == "user"]
    return bool(users) and ITEM_HEAD.search(users[-1]) is not None


def build_examples(
    cases: Iterable[Case],
    store: CatalogStore,
    out: Path,
    progress: Callable[[], None] | None = None,
    k: int = 3,
    library: Iterable[Case] | None = None,
) -> ExampleStats:
    """`k`: solved flows per prompt, drawn from the store's libraries (`flowgen flows
    sync`) as inference draws them. `library`: the cases synced as the shared library;
    a case's prompts then show none of its flows of the case's own outline shape."""
    stats = ExampleStats()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    cases = list(cases)
    others = [c.requirement for c in cases]
    by_shape = shapes_of(library) if library is not None else {}
    with tmp.open("w", encoding="utf-8") as fh:
        for case in cases:
            same = same_shape(case, by_shape)
            retrieval = example_retrieval(case, others, k, same) if k else None
            examples, rejected = examples_for_case(case, store, retrieval)
            stats.cases += 1
            stats.rejected_by_grammar += rejected
            for example in examples:
                fh.write(json.dumps(asdict(example), ensure_ascii=False) + "\n")
                stats.examples += 1
                if example.task == "outline":
                    stats.outline += 1
                else:
                    stats.inputs += 1
            if progress:
                progress()
    tmp.replace(out)
    return stats


def read_examples(path: Path) -> list[Example]:
    return [Example(**json.loads(line)) for line in path.read_text().splitlines() if line]


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
