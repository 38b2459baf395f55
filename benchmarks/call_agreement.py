"""How often two eval runs of the same cases give the same greedy answer, call by call.

    python benchmarks/call_agreement.py REFERENCE_DIR OTHER_DIR [--show]

Reads each case's run trace from this data directory's run store (both evals must have
run here). A flow's calls are compared in order while the two runs sent the same prompt:
after the first differing answer the next prompts differ too, and what follows is not a
comparison of the engines. Prints the flows written identically and the calls compared
and equal; `--show` adds each differing call's two answers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from flowgen.db.runs import RunStore
from flowgen.db.store import CatalogStore


def cases(folder: Path) -> dict[str, dict[str, Any]]:
    lines = (folder / "cases.jsonl").read_text().splitlines()
    return {row["id"]: row for row in map(json.loads, filter(None, lines))}


def model_calls(store: RunStore, run_id: str) -> list[tuple[Any, str]]:
    """(prompt, answer) of each model call of a run, in order."""
    return [
        (event.payload["prompt"], event.payload["text"])
        for event in store.get(run_id).events
        if isinstance(event.payload, dict) and event.payload.get("usage")
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("reference", type=Path)
    parser.add_argument("other", type=Path)
    parser.add_argument("--show", action="store_true", help="print the differing calls")
    args = parser.parse_args()
    store = RunStore(CatalogStore().engine)
    ref, other = cases(args.reference), cases(args.other)
    shared = [k for k in ref if k in other]
    same_flows = sum(
        json.dumps(ref[k].get("flow"), sort_keys=True)
        == json.dumps(other[k].get("flow"), sort_keys=True)
        for k in shared
    )
    compared = equal = 0
    for case in shared:
        if not (ref[case].get("run_id") and other[case].get("run_id")):
            continue
        # Runs may make different numbers of calls once their answers differ.
        pairs = zip(
            model_calls(store, ref[case]["run_id"]),
            model_calls(store, other[case]["run_id"]),
            strict=False,
        )
        for (prompt_a, answer_a), (prompt_b, answer_b) in pairs:
            if prompt_a != prompt_b:
                break
            compared += 1
            equal += answer_a == answer_b
            if args.show and answer_a != answer_b:
                print(f"{case}:\n  {answer_a!r}\n  {answer_b!r}")
    print(
        json.dumps(
            {
                "cases": len(shared),
                "identical_flows": same_flows,
                "calls_compared": compared,
                "calls_equal": equal,
                "share_equal": round(equal / compared, 3) if compared else None,
            }
        )
    )


if __name__ == "__main__":
    main()
