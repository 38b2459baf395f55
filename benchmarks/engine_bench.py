"""Local engine speed on this CPU: decoding tokens/s and time to first token.

    python benchmarks/engine_bench.py [--tokens 64] [--repeat 3]

Prints JSON lines: tokens/s of plain `model.generate` (greedy, bf16 autocast), of the
engine unconstrained and constrained by a populateInputs-style grammar on the same
prompts, the constrained overhead per token, and the time to first token of a typical
populateInputs call with and without reuse of the shared prompt prefix.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import torch

from flowgen.engine.base import ChatMessage, GenerationRequest
from flowgen.engine.grammar import InputSpec, inputs_grammar
from flowgen.engine.local import LocalEngine

CONTEXT = (
    "You fill in the inputs of one step of a ServiceNow flow. Use only the tables, columns, "
    "choice values and data pills listed. Tables: incident (Incident), task (Task), "
    "sys_user (User), sys_user_group (Group), problem (Problem), change_request (Change "
    "Request), sc_task (Catalog Task), sc_req_item (Requested Item). Columns of incident: "
    + ", ".join(
        f"{c} ({c.replace('_', ' ').title()})"
        for c in (
            "number short_description description active state priority impact urgency "
            "assigned_to assignment_group caller_id category subcategory opened_at "
            "resolved_at close_code close_notes work_notes comments parent problem_id "
            "cmdb_ci contact_type hold_reason reopen_count"
        ).split()
    )
    + ". Data pills: {{trigger.current}}, {{trigger.current.assigned_to}}, "
    "{{trigger.current.caller_id.manager}}, {{1.records}}, {{2.item}}, {{2.item.number}}."
)
REQUIREMENT = (
    "Requirement: Every time a user becomes inactive, find all incidents assigned to them "
    "and assign them to their manager, with a work note."
)
STEPS = [
    ("look_up_records", "find all incidents assigned to them"),
    ("update_record", "assign them to their manager"),
    ("send_email", "tell the manager"),
]


def messages(step: str, annotation: str) -> list[ChatMessage]:
    return [
        ChatMessage(role="system", content=CONTEXT),
        ChatMessage(role="user", content=f"{REQUIREMENT}\nStep: {step}\nSpan: {annotation}\n"),
    ]


GRAMMAR = inputs_grammar(
    [
        InputSpec("table", "options", options=["incident", "task", "problem", "sc_task"]),
        InputSpec("record", "pills", pills=["trigger.current", "2.item"]),
        InputSpec(
            "conditions",
            "query",
            fields=["active", "assigned_to", "state", "priority", "short_description"],
            choices_by_field={"state": ["1", "2", "3", "6", "7", "8"], "priority": list("12345")},
            pills=["trigger.current", "trigger.current.caller_id.manager", "2.item"],
        ),
        InputSpec("values", "text", pills=["trigger.current.assigned_to", "2.item.number"]),
    ]
)


def emit(record: dict) -> None:
    print(json.dumps(record), flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    start = time.perf_counter()
    engine = LocalEngine()
    emit({"what": "load", "seconds": round(time.perf_counter() - start, 2),
          "threads": torch.get_num_threads(), "bf16_autocast": engine.bf16})  # fmt: skip
    prompts = [messages(s, a) for s, a in STEPS]

    # plain model.generate, greedy, same autocast
    tok, model = engine.tokenizer, engine.model
    rates = []
    for _ in range(args.repeat):
        for msgs in prompts:
            text = engine.render(GenerationRequest(messages=msgs))
            ids = tok(text, return_tensors="pt", add_special_tokens=False).input_ids
            with (
                torch.inference_mode(),
                torch.autocast("cpu", dtype=torch.bfloat16, enabled=engine.bf16),
            ):
                t0 = time.perf_counter()
                out = model.generate(ids, max_new_tokens=args.tokens, min_new_tokens=args.tokens,
                                     do_sample=False, pad_token_id=tok.eos_token_id)  # fmt: skip
                dt = time.perf_counter() - t0
            rates.append((out.shape[1] - ids.shape[1]) / dt)
    emit({"what": "model.generate", "tokens_per_s": round(statistics.median(rates), 1)})

    engine.use_prefix_cache = False  # measure decoding alone
    per_token: dict[str, float] = {}
    for label, grammar in (("unconstrained", None), ("constrained", GRAMMAR)):
        rates, ms = [], []
        for _ in range(args.repeat):
            for msgs in prompts:
                r = engine.generate(
                    GenerationRequest(messages=msgs, grammar=grammar, max_tokens=args.tokens)
                )
                decode_s = r.timings.total_s - r.timings.first_token_s
                n = max(r.usage.completion_tokens - 1, 1)
                rates.append(n / decode_s)
                ms.append(1000 * decode_s / n)
        per_token[label] = statistics.median(ms)
        emit({"what": f"engine {label}", "tokens_per_s": round(statistics.median(rates), 1),
              "ms_per_token": round(per_token[label], 2)})  # fmt: skip
    overhead = per_token["constrained"] / per_token["unconstrained"] - 1
    emit({"what": "constrained overhead per token", "percent": round(100 * overhead, 1)})

    for reuse in (False, True):
        engine.use_prefix_cache = reuse
        engine._prefix = None
        ttft = []
        for _ in range(args.repeat):
            for msgs in prompts:
                r = engine.generate(GenerationRequest(messages=msgs, grammar=GRAMMAR, max_tokens=8))
                ttft.append(
                    (r.timings.first_token_s, r.usage.prompt_tokens, r.usage.cached_prompt_tokens)
                )
        warm = ttft[1:] if reuse else ttft  # the very first call has nothing to reuse
        emit({"what": "time to first token", "prefix_reuse": reuse,
              "prompt_tokens": warm[0][1],
              "reused_tokens_median": statistics.median(c for _, _, c in warm),
              "seconds_median": round(statistics.median(t for t, _, _ in warm), 3)})  # fmt: skip


if __name__ == "__main__":
    main()
