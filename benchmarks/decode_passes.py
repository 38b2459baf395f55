"""What a decoding pass costs, and what other draft policies would save on real calls.

    python benchmarks/decode_passes.py [CALLS.jsonl]

Part one runs the embedded llama.cpp engine as the factory builds it (the CPU's weight
type, the default adapter merged; `FLOWGEN_WEIGHTS` picks another) and times one forward
pass of k tokens after a 500-token context, k = 1 ... 24: the cost of the token just
chosen plus k - 1 draft tokens (engine/speculation.py).

Part two replays recorded calls (`benchmarks/engine_calls.py record --engine llamacpp`;
by default the 42 of benchmarks/data/flow_calls.jsonl) without the model: the greedy
answers are fixed, so which drafts a policy proposes and how many the model would keep
follow from the answer and the grammar alone. Each policy's passes are priced with part
one's table. The policies vary the shipped one (grammar-forced text, then prompt lookup
of 2-4-grams, at most 8 tokens): the draft length, 1-grams, and no forced text.
"""

from __future__ import annotations

import bisect
import json
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowgen.engine.base import GenerationRequest
from flowgen.engine.speculation import PromptLookup

REPO = Path(__file__).resolve().parent.parent
BATCHES = (1, 2, 3, 4, 6, 9, 12, 16, 24)
CONTEXT = 500


def pass_costs(engine: Any) -> dict[int, float]:
    """Median milliseconds of one forward pass of k tokens, all rows' logits kept."""
    llm = engine._current.llm
    rng = random.Random(0)
    llm.n_tokens = 0
    llm.eval([rng.randrange(1000, 40000) for _ in range(CONTEXT)])
    costs = {}
    for k in BATCHES:
        times = []
        for _ in range(9):
            llm.n_tokens = CONTEXT
            batch = [rng.randrange(1000, 40000) for _ in range(k)]
            started = time.perf_counter()
            engine._feed_many(batch)
            times.append(time.perf_counter() - started)
        costs[k] = 1000 * statistics.median(times)
    return costs


@dataclass
class Call:
    prompt: list[int]
    answer: list[int]
    states: list[Any]  # the grammar's matcher before each answer token, and after the last
    stopped: bool  # the grammar admits nothing after the answer: no pass to choose the stop


def load_calls(path: Path, engine: Any) -> list[Call]:
    calls = []
    for line in path.read_text().splitlines():
        if not line.strip():
            continue
        recorded = json.loads(line)
        request = GenerationRequest.model_validate(recorded["request"])
        answer = engine.tokenize(recorded["result"]["text"])
        matcher = engine._matcher(request.grammar)
        states = []
        for token in answer:
            states.append(matcher.deep_copy() if matcher is not None else None)
            if matcher is not None and not matcher.consume_token(token):
                break  # tokenised otherwise than decoded: left out
        else:
            states.append(matcher.deep_copy() if matcher is not None else None)
            stopped = matcher is not None and matcher.is_stopped()
            calls.append(Call(engine.tokenize(engine.render(request)), answer, states, stopped))
    return calls


Policy = Callable[[Call, int], list[int]]


def draft_policy(engine: Any, draft_tokens: int = 8, min_ngram: int = 2, forced: bool = True):
    """The decoding loop's own `_draft` (engine/decoding.py), with these settings."""

    lookups: dict[int, PromptLookup] = {}  # per call: `_draft` extends it as it goes

    def draft(call: Call, written: int) -> list[int]:
        lookup = lookups.get(id(call))
        if lookup is None:
            lookup = PromptLookup(call.prompt, min_ngram=min_ngram, draft_tokens=draft_tokens)
            lookups[id(call)] = lookup
        engine.draft_forced = forced
        return engine._draft(lookup, call.answer[:written], call.states[written])

    return draft


def replay(calls: list[Call], policy: Policy, cost: Callable[[int], float]) -> Counter:
    """Passes, drafted and kept tokens and milliseconds of decoding, as the loop runs."""
    totals: Counter = Counter()
    for call in calls:
        n = len(call.answer)
        written = 1  # the prompt's pass chose the first token
        # No pass after the last token where the grammar admits nothing more after it.
        while n and not (written == n and call.stopped):
            guess = policy(call, written)
            kept = 0
            while (
                kept < len(guess)
                and written + kept < n
                and call.answer[written + kept] == guess[kept]
            ):
                kept += 1
            totals.update(passes=1, drafted=len(guess), kept=kept, ms=cost(1 + len(guess)))
            if written + kept == n:
                break  # the logits after the last token are there: the stop is chosen
            written += kept + 1
        totals["tokens"] += n
    return totals


def interpolate(table: dict[int, float]) -> Callable[[int], float]:
    sizes = sorted(table)

    def cost(k: int) -> float:
        if k in table:
            return table[k]
        if k > sizes[-1]:
            return table[sizes[-1]] * k / sizes[-1]
        i = bisect.bisect(sizes, k)
        low, high = sizes[i - 1], sizes[i]
        return table[low] + (table[high] - table[low]) * (k - low) / (high - low)

    return cost


def main(path: Path) -> None:
    from flowgen.engine.factory import embedded_engine

    engine = embedded_engine(runtime="llamacpp")
    table = pass_costs(engine)
    print(
        json.dumps(
            {
                "weights": engine.weights,
                "context": CONTEXT,
                "pass_ms": {k: round(v, 1) for k, v in table.items()},
            }
        )
    )
    calls = load_calls(path, engine)
    cost = interpolate(table)
    policies = {
        "shipped (forced + 2-4-grams, 8 tokens)": draft_policy(engine),
        "6 tokens": draft_policy(engine, draft_tokens=6),
        "12 tokens": draft_policy(engine, draft_tokens=12),
        "1-grams too": draft_policy(engine, min_ngram=1),
        "no forced text": draft_policy(engine, forced=False),
    }
    for name, policy in policies.items():
        t = replay(calls, policy, cost)
        print(
            json.dumps(
                {
                    "policy": name,
                    "calls": len(calls),
                    "tokens": t["tokens"],
                    "passes": t["passes"],
                    "drafted": t["drafted"],
                    "kept": t["kept"],
                    "decode_ms_per_call": round(t["ms"] / len(calls), 1),
                }
            )
        )


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "benchmarks/data/flow_calls.jsonl")
