"""Real model calls of the generator, recorded once and replayed on any engine.

    python benchmarks/engine_calls.py record --split dev --limit 20 --out calls.jsonl
    python benchmarks/engine_calls.py replay calls.jsonl --engine llamacpp [--engine torch]
        [--write answers.jsonl]

`record` runs the whole graph with the embedded engine named by `--engine` on cases of
data/handwritten.jsonl and writes every model call it made (the request: messages,
grammar, adapter, logit bias, limits; and that engine's answer) as one JSON line.
`replay` sends the same requests to each engine named and prints, per engine, the
greedy answers equal to the recorded ones (the reference is what the recording engine
wrote), the calls that differ, and the time split: prompt tokens/s, decode tokens/s,
grammar compile and mask time. Replaying fixed requests compares engines call by call;
a whole-graph run would let one different answer change every later prompt.
"""

from __future__ import annotations

import argparse
import json
import statistics
from pathlib import Path
from typing import Any

from flowgen.engine.base import Engine, GenerationRequest, GenerationResult

REPO = Path(__file__).resolve().parent.parent


class RecordingEngine:
    """Passes calls through to `inner` and keeps each request with its result."""

    def __init__(self, inner: Engine):
        self.inner = inner
        self.calls: list[dict[str, Any]] = []

    @property
    def model_name(self) -> str:
        return self.inner.model_name

    def adapters(self) -> list[str]:
        return self.inner.adapters()

    def tokenize(self, text: str) -> list[int]:
        return self.inner.tokenize(text)

    def generate(self, request: GenerationRequest) -> GenerationResult:
        result = self.inner.generate(request)
        self.calls.append(
            {"request": request.model_dump(mode="json"), "result": result.model_dump()}
        )
        return result


def build_engine(name: str) -> Engine:
    """`torch`, `torch-bf16`, `llamacpp`, or `llamacpp:WEIGHTS` (q8_0, bf16, f32, ...)."""
    from flowgen.engine.factory import embedded_engine

    runtime, _, weights = name.partition(":")
    return embedded_engine(runtime=runtime, weights=weights or None)  # type: ignore[arg-type]


def record(args: argparse.Namespace) -> None:
    from flowgen.graph.generator import FlowGenerator
    from flowgen.training.cases import read_cases

    cases = [c for c in read_cases([args.cases]) if c.split == args.split][: args.limit]
    engine = RecordingEngine(build_engine(args.engine))
    with args.out.open("w") as out:
        for case in cases:
            gen = FlowGenerator(case.installation, engine=engine, checkpoints=False, trace=False)
            before = len(engine.calls)
            outcome = gen.generate(case.requirement)
            for call in engine.calls[before:]:
                out.write(json.dumps({"case": case.id, **call}) + "\n")
            print(f"{case.id}: {outcome.status}, {len(engine.calls) - before} calls")


def replay(args: argparse.Namespace) -> None:
    calls = [json.loads(line) for line in args.calls.read_text().splitlines() if line.strip()]
    for name in args.engine:
        engine = build_engine(name)
        same = 0
        differ: list[dict[str, Any]] = []
        rows: list[GenerationResult] = []
        answers = []
        for call in calls:
            request = GenerationRequest.model_validate(call["request"])
            result = engine.generate(request)
            rows.append(result)
            answers.append({**call, "result": result.model_dump()})
            if result.text == call["result"]["text"]:
                same += 1
            else:
                differ.append(
                    {"case": call["case"], "want": call["result"]["text"], "got": result.text}
                )
        prompt_tokens = sum(r.usage.prompt_tokens - r.usage.cached_prompt_tokens for r in rows)
        decoded = sum(r.usage.completion_tokens for r in rows)
        summary = {
            "engine": name,
            "calls": len(rows),
            "greedy_equal": same,
            "greedy_equal_share": round(same / max(1, len(rows)), 4),
            "prompt_tokens_processed": prompt_tokens,
            "prompt_tokens_cached": sum(r.usage.cached_prompt_tokens for r in rows),
            "prompt_tok_s": round(prompt_tokens / max(1e-9, _sum(rows, "prompt_s")), 1),
            "decode_tok_s": round(decoded / max(1e-9, _sum(rows, "decode_s")), 1),
            "compile_s": round(_sum(rows, "compile_s"), 3),
            "mask_s": round(_sum(rows, "mask_s"), 3),
            "total_s": round(_sum(rows, "total_s"), 3),
            "p50_call_s": round(statistics.median(r.timings.total_s for r in rows), 3),
        }
        print(json.dumps(summary))
        for row in differ[: args.show]:
            print(json.dumps(row))
        if args.write:  # these answers, as a reference file for other engines
            path = args.write.with_name(f"{args.write.stem}.{name.replace(':', '-')}.jsonl")
            path.write_text("".join(json.dumps(a) + "\n" for a in answers))


def _sum(rows: list[GenerationResult], field: str) -> float:
    return sum(getattr(r.timings, field) for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("--cases", type=Path, default=REPO / "data" / "handwritten.jsonl")
    rec.add_argument("--split", default="dev")
    rec.add_argument("--limit", type=int, default=20)
    rec.add_argument("--engine", default="torch")
    rec.add_argument("--out", type=Path, required=True)
    rep = sub.add_parser("replay")
    rep.add_argument("calls", type=Path)
    rep.add_argument("--engine", action="append", default=None)
    rep.add_argument("--show", type=int, default=10, help="calls that differ, printed")
    rep.add_argument("--write", type=Path, help="write each engine's answers to FILE.ENGINE.jsonl")
    args = parser.parse_args()
    if args.command == "record":
        record(args)
    else:
        args.engine = args.engine or ["llamacpp"]
        replay(args)


if __name__ == "__main__":
    main()
