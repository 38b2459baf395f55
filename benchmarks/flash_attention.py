"""llama.cpp's flash attention on and off, on the conversations of N dev flows.

    python benchmarks/flash_attention.py [N]

The prompts are the graph's own (each flow replayed with its gold answers, so the calls
are the ones inference sends); each flow's calls run in order on one engine, so the
prefix cache serves what it would in a real run. Two runs each way; prints prompt
tokens/s and how many greedy answers are equal."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from flowgen.db.store import CatalogStore
from flowgen.engine.base import GenerationRequest
from flowgen.engine.factory import shipped_adapters, weights_from_env
from flowgen.engine.llamacpp import LlamaCppEngine
from flowgen.flow.model import Flow
from flowgen.graph.flow_graph import ExampleRetrieval
from flowgen.graph.generator import FlowGenerator
from flowgen.training.replay import ReplayEngine

CASES = Path(__file__).resolve().parents[1] / "data" / "handwritten.jsonl"


def flow_requests(n: int) -> list[list[GenerationRequest]]:
    rows = [json.loads(line) for line in CASES.read_text().splitlines() if line]
    cases = [c for c in rows if c["split"] == "dev" and c.get("flow")][:n]
    store = CatalogStore()
    flows = []
    for case in cases:
        replay = ReplayEngine(Flow.model_validate(case["flow"]), check_grammar=False)
        FlowGenerator(
            case["installation"],
            store=store,
            engine=replay,
            adapter=None,
            checkpoints=False,
            trace=False,
            examples=ExampleRetrieval(k=3, exclude=(case["id"],)),
            guard=None,
        ).generate(case["requirement"])
        flows.append([r.model_copy(update={"adapter": "default"}) for r in replay.requests])
    return flows


def run(flows: list[list[GenerationRequest]], flash: bool) -> list[str]:
    # As the factory builds it: this CPU's weight type, the default adapter merged.
    engine = LlamaCppEngine(
        {"default": shipped_adapters()["default"]},
        weights=weights_from_env(),
        merged=["default"],
        flash_attention=flash,
    )
    prompt_s = processed = 0.0
    answers = []
    for requests in flows:
        for request in requests:
            result = engine.generate(request)
            prompt_s += result.timings.prompt_s
            processed += result.usage.prompt_tokens - result.usage.cached_prompt_tokens
            answers.append(result.text)
    print(
        f"flash={flash} ({engine.weights}): {len(answers)} calls, {processed:.0f} prompt"
        f" tokens processed in {prompt_s:.1f} s ({processed / prompt_s:.0f} tokens/s)",
        flush=True,
    )
    return answers


def main(n: int) -> None:
    flows = flow_requests(n)
    answers = {flash: run(flows, flash) for flash in (False, True, False, True)}
    same = sum(a == b for a, b in zip(answers[False], answers[True], strict=True))
    print(f"greedy answers equal with and without: {same} / {len(answers[False])}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10)
