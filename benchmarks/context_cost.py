"""What a long context costs llama.cpp on this CPU: a 300-token prompt chunk (an inputs
turn) and 20 decoded tokens, after contexts of 100 to 3,000 tokens.

    python benchmarks/context_cost.py [WEIGHTS]   # bf16 (default) or q8_0

Prompts v3 and v4 ran the inputs turns after the whole createFlow prompt (examples and
catalog: 600 tokens and more before the first turn); prompts v5 start the inputs
conversation afresh (docs/engine.md). Best of three per context; base model, no LoRA.
"""

from __future__ import annotations

import random
import sys
import time

from flowgen.engine.gguf_files import base_model_gguf
from flowgen.engine.llamacpp import quiet_llama

CHUNK = 300
DECODED = 20


def main(weights: str = "bf16") -> None:
    quiet_llama()
    import llama_cpp

    llm = llama_cpp.Llama(
        model_path=str(base_model_gguf(weights)),  # type: ignore[arg-type]
        n_ctx=4096,
        n_threads=2,
        n_batch=512,
        verbose=False,
    )
    rng = random.Random(0)
    tokens = [rng.randint(100, 40_000) for _ in range(3_000 + CHUNK + DECODED)]
    for context in (100, 600, 1_500, 3_000):
        best = float("inf")
        for _ in range(3):
            llm.reset()
            llm.eval(tokens[:context])
            started = time.perf_counter()
            llm.eval(tokens[context : context + CHUNK])
            best = min(best, time.perf_counter() - started)
        started = time.perf_counter()
        for token in tokens[context + CHUNK : context + CHUNK + DECODED]:
            llm.eval([token])
        decode = DECODED / (time.perf_counter() - started)
        print(
            f"after {context:>5} tokens: {CHUNK} prompt tokens in {best:.3f} s "
            f"({CHUNK / best:.0f} tokens/s); decoding {decode:.1f} tokens/s"
        )


if __name__ == "__main__":
    main(*sys.argv[1:2])
