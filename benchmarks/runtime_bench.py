"""Prompt and decode speed of each runtime on the same real flow calls, in one run.

    python benchmarks/runtime_bench.py [benchmarks/data/flow_calls.jsonl] [--calls 12]

The calls are real createFlow / populateInputs requests recorded from dev flows
(`benchmarks/engine_calls.py record`). Prints one JSON line per runtime:

- `llama.cpp plain`: llama-cpp-python on the package's own Q4_1 GGUF, base model, no
  grammar, argmax in numpy: what llama.cpp alone does with these prompts;
- `flowgen torch-bf16` (on CPUs with AMX, where it is the default) and `flowgen
  llamacpp`: our embedded engines as the factory builds them (the shipped default
  adapter merged into the weights, grammar-constrained, speculative; llama.cpp in the
  CPU's weight type);
- `flowgen torch`: the transformers reference engine (fp32, peft, same grammar).

Prompt tokens/s is the whole prompt without cache reuse; decode tokens/s counts only the
tokens after the first (for ours: constrained, grammar masks included). The last line
gives the default runtime against plain llama.cpp.
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

from flowgen.engine.base import GenerationRequest

REPO = Path(__file__).resolve().parent.parent


def plain_llamacpp(requests: list[GenerationRequest], tokenize, render) -> dict:
    import llama_cpp
    import numpy as np

    from flowgen.engine.base_model import gguf_path
    from flowgen.engine.llamacpp import quiet_llama

    quiet_llama()
    threads = len(os.sched_getaffinity(0))
    llm = llama_cpp.Llama(
        model_path=str(gguf_path()), n_ctx=4096, n_batch=512, n_ubatch=512,
        n_threads=threads, n_threads_batch=threads, verbose=False,
    )  # fmt: skip
    prompt_tokens = decoded = 0
    prompt_s = decode_s = 0.0
    for request in requests:
        ids = tokenize(render(request))
        llm.n_tokens = 0
        t = time.perf_counter()
        llm.eval(ids)
        prompt_s += time.perf_counter() - t
        prompt_tokens += len(ids)
        t = time.perf_counter()
        n = max(1, request.max_tokens // 4)
        for _ in range(n):  # as many tokens as our answers take, about
            row = llama_cpp.llama_get_logits_ith(llm.ctx, -1)
            token = int(np.argmax(np.ctypeslib.as_array(row, shape=(llm.n_vocab(),))))
            llm.eval([token])
        decode_s += time.perf_counter() - t
        decoded += n
    return {"prompt_tok_s": prompt_tokens / prompt_s, "decode_tok_s": decoded / decode_s}


def ours(engine, requests: list[GenerationRequest]) -> dict:
    engine.use_prefix_cache = False  # the whole prompt each time, as plain llama.cpp runs it
    prompt_tokens = decoded = 0
    prompt_s = decode_s = 0.0
    for request in requests:
        result = engine.generate(request)
        prompt_tokens += result.usage.prompt_tokens
        prompt_s += result.timings.prompt_s
        decoded += max(0, result.usage.completion_tokens - 1)
        decode_s += result.timings.decode_s + result.timings.mask_s
    return {"prompt_tok_s": prompt_tokens / prompt_s, "decode_tok_s": decoded / decode_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "calls", type=Path, nargs="?", default=REPO / "benchmarks" / "data" / "flow_calls.jsonl"
    )
    parser.add_argument("--calls", type=int, default=12, dest="n")
    parser.add_argument("--skip-torch", action="store_true")
    args = parser.parse_args()
    lines = [json.loads(x) for x in args.calls.read_text().splitlines() if x.strip()]
    requests = [GenerationRequest.model_validate(c["request"]) for c in lines[: args.n]]

    from flowgen.engine.factory import embedded_engine, runtime_from_env, shipped_adapters

    rows = {}
    default = runtime_from_env()  # what this CPU runs by default (FLOWGEN_RUNTIME=auto)
    for runtime in dict.fromkeys((default, "llamacpp")):
        engine = embedded_engine(runtime=runtime)
        ours(engine, requests[:2])  # warm up: grammar compilation caches, first allocations
        rows[f"flowgen {runtime}"] = ours(engine, requests)
    rows["llama.cpp plain"] = plain_llamacpp(requests, engine.tokenize, engine.render)
    if not args.skip_torch:
        from flowgen.engine.local import LocalEngine

        torch_engine = LocalEngine(adapters=shipped_adapters())
        ours(torch_engine, requests[:1])
        rows["flowgen torch"] = ours(torch_engine, requests)
    for name, row in rows.items():
        print(json.dumps({"runtime": name, "calls": len(requests)}
                         | {k: round(v, 1) for k, v in row.items()}))  # fmt: skip
    mine, plain = rows[f"flowgen {default}"], rows["llama.cpp plain"]
    print(json.dumps({
        "default_runtime": default,
        "ours_vs_llamacpp_prompt": round(mine["prompt_tok_s"] / plain["prompt_tok_s"], 2),
        "ours_vs_llamacpp_decode": round(mine["decode_tok_s"] / plain["decode_tok_s"], 2),
    }))  # fmt: skip


if __name__ == "__main__":
    main()
