"""Output tokens the model writes: the line format against the flow JSON it replaces.

    python benchmarks/format_tokens.py [CASES.jsonl]

For each gold flow, counts SmolLM2 tokens of the outline (createFlow) and of every
step's inputs (populateInputs), in the line format and as compact JSON of the same
content; prints one JSON line per flow and a total.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from transformers import AutoTokenizer

from flowgen.engine.base_model import ensure_base_model
from flowgen.flow.model import Flow
from flowgen.prompts.line_format import inputs_lines, outline_lines

REPO = Path(__file__).resolve().parent.parent
OUTLINE_KEYS = {"order", "block", "category", "definition", "scope", "annotation"}


def main() -> None:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO / "examples" / "gold.jsonl"
    tokenizer = AutoTokenizer.from_pretrained(ensure_base_model())

    def count(text: str) -> int:
        return len(tokenizer(text, add_special_tokens=False).input_ids)

    totals = {"lines": 0, "json": 0}
    for line in path.read_text().splitlines():
        case = json.loads(line)
        if not case.get("flow"):
            continue
        flow = Flow.model_validate(case["flow"])
        outline_json = json.dumps(
            {
                "trigger": {
                    "type": flow.trigger_type,
                    "annotation": flow.trigger.annotation if flow.trigger else None,
                },
                "components": [
                    c.model_dump(include=OUTLINE_KEYS, exclude_none=True) for c in flow.components
                ],
            },
            separators=(",", ":"),
        )
        calls = [flow.trigger.inputs if flow.trigger else []] + [c.inputs for c in flow.components]
        inputs_json = sum(
            count(json.dumps([i.model_dump() for i in inputs], separators=(",", ":")))
            for inputs in calls
            if inputs
        )
        inputs_text = sum(count(inputs_lines(inputs)) for inputs in calls if inputs)
        row = {
            "id": case["id"],
            "outline_lines": count(outline_lines(flow)),
            "outline_json": count(outline_json),
            "inputs_lines": inputs_text,
            "inputs_json": inputs_json,
        }
        row["ratio"] = round(
            (row["outline_lines"] + inputs_text) / (row["outline_json"] + inputs_json), 3
        )
        totals["lines"] += row["outline_lines"] + inputs_text
        totals["json"] += row["outline_json"] + inputs_json
        print(json.dumps(row))
    print(
        json.dumps(
            {
                "total_lines": totals["lines"],
                "total_json": totals["json"],
                "ratio": round(totals["lines"] / totals["json"], 3),
            }
        )
    )


if __name__ == "__main__":
    main()
