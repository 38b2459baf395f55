"""What running the grammar's forced text ahead saves while decoding.

    python benchmarks/forced_drafts.py CALLS.jsonl [--limit N]

CALLS is a file `benchmarks/engine_calls.py record` wrote. Each recorded request is sent
to the llama.cpp engine twice in a row, once with `draft_forced` off (prompt lookup
guesses only) and once on (the tokens the grammar forces next, then the lookup's guess
after them), in alternating order so that a drift in the machine's speed falls on both.
Prints decode seconds and model passes per call for each, and the answers that differ
(a batch of tokens computes the same logits only to rounding, so a near tie can fall
the other way).
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path

from flowgen.engine.base import GenerationRequest, GenerationResult
from flowgen.engine.factory import embedded_engine


def passes(result: GenerationResult) -> int:
    """Model runs of the answer: every token written that no accepted guess ran."""
    usage = result.usage
    return usage.completion_tokens - (usage.accepted_draft_tokens or 0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("calls", type=Path)
    parser.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    calls = [json.loads(line) for line in args.calls.read_text().splitlines() if line.strip()]
    engine = embedded_engine(runtime="llamacpp")
    decode: dict[bool, list[float]] = {False: [], True: []}
    runs: dict[bool, list[int]] = {False: [], True: []}
    differ = []
    for i, call in enumerate(calls[: args.limit]):
        request = GenerationRequest.model_validate(call["request"])
        answers = {}
        for forced in (False, True) if i % 2 else (True, False):
            engine.draft_forced = forced  # type: ignore[attr-defined]
            result = engine.generate(request)
            answers[forced] = result.text
            decode[forced].append(result.timings.decode_s if result.timings else 0.0)
            runs[forced].append(passes(result))
        if answers[True] != answers[False]:
            differ.append(call.get("case"))
    n = len(decode[True])
    for forced in (False, True):
        print(
            json.dumps(
                {
                    "forced_drafts": forced,
                    "calls": n,
                    "decode_s_per_call": round(statistics.mean(decode[forced]), 4),
                    "decode_s_total": round(sum(decode[forced]), 2),
                    "model_passes": sum(runs[forced]),
                }
            )
        )
    print(json.dumps({"answers_equal": n - len(differ), "of": n, "differ": differ}))


if __name__ == "__main__":
    main()
