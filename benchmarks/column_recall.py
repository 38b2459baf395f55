"""What the inputs turns show, replaying a split's gold flows through the graph: how many
tokens the turns cost, and how many of the columns the gold conditions and values name
the item's turn (or an earlier one) had shown: the recall of the column offers.

    python benchmarks/column_recall.py dev
    SHOW_MISSES=1 python benchmarks/column_recall.py dev   # and each gold column not shown
    WITH_TRIGGER=1 COLUMN_K=6,3 python benchmarks/column_recall.py dev  # the trigger's
        # condition columns counted too; another number of columns shown

Run it before and after a change to the column offers (`graph/retrieval.py`): fewer
tokens at the same recall is a change worth retraining for. No model runs (the replay
engine answers with the gold lines); it needs the catalogs synced in the data directory.
"""

from __future__ import annotations

import json
import os
import re
import sys
from pathlib import Path

from transformers import AutoTokenizer

from flowgen.db.store import CatalogStore
from flowgen.engine.base_model import ensure_base_model
from flowgen.flow.model import Flow
from flowgen.graph import retrieval
from flowgen.graph.flow_graph import ExampleRetrieval
from flowgen.graph.generator import FlowGenerator
from flowgen.prompts.populate_inputs import ITEM_HEAD
from flowgen.training.replay import ReplayEngine

CASES = Path(__file__).resolve().parent.parent / "data" / "handwritten.jsonl"
QUERY_INPUTS = ("conditions", "condition", "values")


def shown_by_item(turns: list[str]) -> dict[int, set[tuple[str, str]]]:
    """For each item (0: the trigger), the (table, column) pairs its turn and the turns
    before it showed."""
    shown: set[tuple[str, str]] = set()
    by_item: dict[int, set[tuple[str, str]]] = {}
    for turn in turns:
        match = ITEM_HEAD.search(turn)
        section = turn.split("## Columns\n")[1].split("\n## ")[0] if "## Columns\n" in turn else ""
        for line in section.splitlines():
            table, _, columns = line.partition(":")
            table = table.split(" (")[0].strip()  # `name (label)` where the label says more
            shown |= {(table, c.strip().split(" ")[0]) for c in columns.split(";")}
        by_item[int(match.group(1)) if match and match.group(1) else 0] = set(shown)
    return by_item


def gold_columns(flow: dict) -> list[tuple[int, str, str]]:
    """(order, table, column) for each term of a step's conditions or values on its own
    table input (an IF's pill conditions name no table); with `WITH_TRIGGER=1`, of the
    trigger's condition as well (order 0)."""
    found = []
    items = list(flow.get("components", []))
    if os.environ.get("WITH_TRIGGER") and flow.get("trigger"):
        items.insert(0, {**flow["trigger"], "order": 0})
    for comp in items:
        inputs = {i["name"]: i["value"] for i in comp.get("inputs", [])}
        table = inputs.get("table") or inputs.get("table_name")
        for name in QUERY_INPUTS:
            value = inputs.get(name)
            if not table or not isinstance(value, str):
                continue
            for term in re.split(r"\^OR|\^NQ|\^", value):
                field = re.match(r"[a-z_0-9]+", term)
                if field:
                    found.append((comp["order"], table, field.group(0)))
    return found


def main(split: str) -> None:
    if os.environ.get("COLUMN_K"):
        retrieval.COLUMN_K = tuple(int(k) for k in os.environ["COLUMN_K"].split(","))  # type: ignore[assignment]
    tokenizer = AutoTokenizer.from_pretrained(ensure_base_model())
    cases = [json.loads(line) for line in CASES.read_text().splitlines() if line]
    cases = [c for c in cases if c["split"] == split and c.get("flow")]
    store = CatalogStore()
    hits = total = turn_tokens = 0
    for case in cases:
        gold = Flow.model_validate(case["flow"])
        engine = ReplayEngine(gold, check_grammar=False)
        FlowGenerator(
            case["installation"],
            store=store,
            engine=engine,
            adapter=None,
            checkpoints=False,
            trace=False,
            examples=ExampleRetrieval(k=3, exclude=(case["id"],)),
            instructions=False,  # the fine-tuned adapter's prompts
            guard=None,
        ).generate(case["requirement"])
        # every turn once, in order (the first opens with the requirement; a conversation
        # restarted at the context limit repeats none: its turns are new)
        turns: list[str] = []
        for request in engine.requests[1:]:
            for message in request.messages or []:
                if message.role == "user" and message.content not in turns:
                    turns.append(message.content)
        turn_tokens += sum(len(tokenizer(t, add_special_tokens=False)["input_ids"]) for t in turns)
        shown = shown_by_item(turns)
        for order, table, column in gold_columns(case["flow"]):
            total += 1
            seen = (table, column) in shown.get(order, set())
            hits += seen
            if not seen and os.environ.get("SHOW_MISSES"):
                comp = gold.component(order) if order else None
                span = comp.annotation if comp else ""
                print(f"miss {case['id']} #{order} {table}.{column}: {span}")
    print(
        f"{split}: {len(cases)} flows; inputs turns {turn_tokens / len(cases):.0f} tokens per "
        f"flow; column recall {hits}/{total} = {hits / max(total, 1):.3f}"
    )


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "dev")
