"""1,000 constrained generations with random prompts and grammars: does any output that
the engine calls complete fail to parse, and is every cut-off output flagged?

    python benchmarks/constrained_property.py [--n 1000] [--seed 0] [--runtime llamacpp|torch]

Each run draws a random grammar (an outline grammar with random trigger and step names,
or an inputs grammar with random tables, fields, choice values and pills), a random
prompt and a random token limit (2..48, so many outputs are cut off), then re-checks
the output with xgrammar (the grammar dialect's reference and vLLM's matcher), which the
engine does not use: it decodes with llguidance. Prints one JSON summary line.
"""

from __future__ import annotations

import argparse
import json
import random
import string
import time

import xgrammar as xgr

from flowgen.engine.base import ChatMessage, GenerationRequest
from flowgen.engine.decoding import ConstrainedDecoder
from flowgen.engine.factory import RUNTIMES, embedded_engine
from flowgen.engine.grammar import InputSpec, inputs_grammar, outline_grammar
from flowgen.flow.flowlogic import FLOW_LOGIC

WORDS = ("incident task user group change problem request approval record email slack "
         "jira manager caller state priority update create look close notify").split()  # fmt: skip


def name(rng: random.Random) -> str:
    return "_".join(rng.sample(WORDS, rng.randint(1, 3)))


def random_grammar(rng: random.Random) -> str:
    if rng.random() < 0.4:
        triggers = [name(rng) for _ in range(rng.randint(1, 4))]
        steps = [name(rng) for _ in range(rng.randint(1, 12))]
        return outline_grammar(
            triggers, steps, rng.sample(sorted(FLOW_LOGIC), 4), rng.randint(0, 3)
        )
    specs = []
    for i in range(rng.randint(1, 5)):
        kind = rng.choice(["options", "pills", "query", "text"])
        fields = [name(rng) for _ in range(rng.randint(0, 6))]
        specs.append(InputSpec(
            f"input_{i}", kind,  # type: ignore[arg-type]
            options=[name(rng) for _ in range(rng.randint(1, 5))],
            pills=[f"{rng.randint(1, 5)}.{name(rng)}" for _ in range(rng.randint(0, 4))],
            fields=fields,
            choices_by_field={f: [str(v) for v in range(rng.randint(1, 6))]
                              for f in fields if rng.random() < 0.5},
        ))  # fmt: skip
    return inputs_grammar(specs)


def random_prompt(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return " ".join(rng.choices(WORDS, k=rng.randint(1, 30)))
    return "".join(rng.choices(string.printable, k=rng.randint(1, 200)))


def xgrammar_compiler(stop_token_ids: list[int]) -> xgr.GrammarCompiler:
    from transformers import AutoTokenizer

    from flowgen.engine.base_model import ensure_tokenizer

    tokenizer = AutoTokenizer.from_pretrained(ensure_tokenizer())
    info = xgr.TokenizerInfo.from_huggingface(tokenizer, stop_token_ids=stop_token_ids)
    return xgr.GrammarCompiler(info)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runtime", choices=RUNTIMES, default="llamacpp")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    engine = embedded_engine({}, args.runtime)  # the base model: no adapter
    assert isinstance(engine, ConstrainedDecoder)
    compiler = xgrammar_compiler(engine.stop_token_ids)
    counts = {"runs": 0, "complete": 0, "complete_but_unparseable": 0, "cut_off_flagged": 0,
              "cut_off_unflagged": 0, "tokens": 0}  # fmt: skip
    started = time.perf_counter()
    for _ in range(args.n):
        grammar = random_grammar(rng)
        messages = [ChatMessage(role="user", content=random_prompt(rng))]
        result = engine.generate(
            GenerationRequest(messages=messages, grammar=grammar, max_tokens=rng.randint(2, 48))
        )
        matcher = xgr.GrammarMatcher(compiler.compile_grammar(grammar))
        parses = matcher.accept_string(result.text) and any(
            matcher.accept_token(t) for t in engine.stop_token_ids
        )
        counts["runs"] += 1
        counts["tokens"] += result.usage.completion_tokens
        if result.complete:
            counts["complete"] += 1
            counts["complete_but_unparseable"] += not parses
        elif result.finish_reason == "length":
            counts["cut_off_flagged"] += 1
        else:
            counts["cut_off_unflagged"] += 1
    counts["seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps({"runtime": args.runtime, **counts}))


if __name__ == "__main__":
    main()
