"""FlowSim against ServiceNow's published reference code, pair by pair.

    python benchmarks/flowsim_reference.py --reference /tmp/StarFlow [--write]
    python benchmarks/flowsim_reference.py --reference /tmp/StarFlow --pairs FILE

`--reference` is a checkout of github.com/ServiceNow/StarFlow (only its `starvlm/` folder
and the `zss` package are needed; nothing of it is copied into this project), e.g.

    git clone https://github.com/ServiceNow/StarFlow /tmp/StarFlow

Builds pairs of flows from our corpus (data/*.jsonl, examples/, predictions in results/)
and perturbations of them (steps dropped, renamed, reordered, nested differently;
condition terms and input values edited; trigger changed; empty and unparseable text;
StarFlow-shaped subflows with top-level `inputs`/`outputs`; JSON the reference handles
oddly), scores each with the reference's `FlowSimilarityMetric` and with
`flowgen.metrics.flowsim`, and prints one JSON line: pairs, disagreements, the largest
difference. `--write` stores the pairs and the reference's values in
tests/data/flowsim_reference/pairs.jsonl, which tests/test_flowsim_reference.py checks
without the reference. `--pairs FILE` re-runs the reference on stored pairs instead.
Exits 1 if any pair differs by more than 1e-9.
"""

from __future__ import annotations

import argparse
import copy
import importlib
import json
import random
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowgen.metrics.flowsim import flowsim

REPO = Path(__file__).resolve().parent.parent
PAIRS = REPO / "tests" / "data" / "flowsim_reference" / "pairs.jsonl"
TOLERANCE = 1e-9
Flow = dict[str, Any]


def reference_metric(checkout: Path) -> Callable[[str, str], dict[str, float]]:
    """The reference's metric on one pair: {"outline": ..., "full": ...}."""
    if not (checkout / "starvlm" / "dataset" / "metric" / "flow_similarity.py").is_file():
        raise SystemExit(f"{checkout}: no starvlm/dataset/metric/flow_similarity.py there")
    sys.path.insert(0, str(checkout))
    module = importlib.import_module("starvlm.dataset.metric.flow_similarity")
    # It logs every pair it cannot score at ERROR; those are expected here.
    module.logger.disabled = True
    metric = module.FlowSimilarityMetric()

    def score(pred: str, gold: str) -> dict[str, float]:
        out = metric([pred], [[gold]])
        return {"outline": out["flow_sim_no_inputs"], "full": out["flow_sim_with_inputs"]}

    return score


# -- corpus ----------------------------------------------------------------------------------
def corpus_flows() -> list[Flow]:
    flows: list[Flow] = []
    for name in ("data/handwritten.jsonl", "data/synthetic.jsonl", "examples/gold.jsonl"):
        for line in (REPO / name).read_text(encoding="utf-8").splitlines():
            if line.strip() and isinstance(json.loads(line).get("flow"), dict):
                flows.append(json.loads(line)["flow"])
    for path in sorted((REPO / "examples").glob("*.json")):
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and data.get("components"):
            flows.append(data)
    return flows


def result_pairs(rng: random.Random, n: int) -> list[tuple[str, Any, Flow]]:
    """Real model predictions against their gold flows (the committed evaluation runs)."""
    gold_by_id: dict[str, Flow] = {}
    for name in ("data/handwritten.jsonl",):
        for line in (REPO / name).read_text(encoding="utf-8").splitlines():
            case = json.loads(line)
            if isinstance(case.get("flow"), dict):
                gold_by_id[case["id"]] = case["flow"]
    found = []
    for path in sorted((REPO / "results").glob("*/cases.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            gold = gold_by_id.get(record.get("id"))
            if gold is not None and record.get("flow") is not None:
                found.append((f"result:{path.parent.name}:{record['id']}", record["flow"], gold))
    return rng.sample(found, min(n, len(found)))


# -- perturbations ---------------------------------------------------------------------------
def renumber(flow: Flow) -> Flow:
    """Orders 1..N in list order, blocks following their component."""
    mapping = {c.get("order"): i for i, c in enumerate(flow["components"], start=1)}
    for i, comp in enumerate(flow["components"], start=1):
        comp["order"] = i
        if comp.get("block") is not None:
            comp["block"] = mapping.get(comp["block"], comp["block"])
    return flow


def drop_step(rng: random.Random, flow: Flow) -> Flow:
    comps = flow["components"]
    leaves = [c for c in comps if not any(o.get("block") == c["order"] for o in comps)]
    if leaves:
        comps.remove(rng.choice(leaves))
    return renumber(flow)


def rename_step(rng: random.Random, flow: Flow) -> Flow:
    actions = [c for c in flow["components"] if c.get("category") == "action"]
    if actions:
        rng.choice(actions)["definition"] = rng.choice(
            ["create_record", "look_up_records", "log", "send_email", "update_record"]
        )
    return flow


def rescope_step(rng: random.Random, flow: Flow) -> Flow:
    if flow["components"]:
        rng.choice(flow["components"])["scope"] = "sn_ms_teams_ah"
    return flow


def reorder_steps(rng: random.Random, flow: Flow) -> Flow:
    top = [i for i, c in enumerate(flow["components"]) if c.get("block") is None]
    if len(top) >= 2:
        i, j = sorted(rng.sample(top, 2))
        comps = flow["components"]
        comps[i], comps[j] = comps[j], comps[i]
    return flow


def renest_step(rng: random.Random, flow: Flow) -> Flow:
    """Move a step out of its block, or into a block it was not in."""
    comps = flow["components"]
    nested = [c for c in comps if c.get("block") is not None]
    if nested and rng.random() < 0.5:
        rng.choice(nested).pop("block")
        return flow
    blocks = [c["order"] for c in comps if c.get("category") == "flowlogic"]
    later = [c for c in comps if blocks and c["order"] > min(blocks) and c.get("block") is None]
    if later:
        step = rng.choice(later)
        step["block"] = max(b for b in blocks if b < step["order"])
    return flow


def wrap_in_if(rng: random.Random, flow: Flow) -> Flow:
    comps = flow["components"]
    top = [c for c in comps if c.get("block") is None and c.get("category") == "action"]
    if top:
        step = rng.choice(top)
        index = comps.index(step)
        comps.insert(
            index,
            {
                "order": 0,
                "category": "flowlogic",
                "definition": "IF",
                "scope": "global",
                "inputs": [{"name": "condition", "value": "{{trigger.current.active}}=true"}],
            },
        )
        renumber(flow)
        step["block"] = comps[index]["order"]
    return flow


def _query_inputs(flow: Flow) -> list[dict[str, Any]]:
    items = list((flow.get("trigger") or {}).get("inputs", []))
    for comp in flow["components"]:
        items += comp.get("inputs", [])
    names = {"condition", "conditions", "email_conditions", "values", "fields", "field_values"}
    return [i for i in items if i.get("name") in names]


def edit_condition(rng: random.Random, flow: Flow) -> Flow:
    queries = _query_inputs(flow)
    if not queries:
        return edit_value(rng, flow)
    item = rng.choice(queries)
    value = item["value"]
    edits = [
        lambda v: v + "^priority=1",
        lambda v: v + "^ORpriority=2",
        lambda v: v + "^NQstate=7",
        lambda v: v.replace("=", "!=", 1),
        lambda v: v.split("^")[0],
        lambda v: "^".join(reversed(v.split("^"))),
        lambda v: v.replace("true", "false"),
        lambda v: v + "^EQ",
        lambda v: "^" + v,
        lambda v: v + "^short_descriptionLIKEERROR",
        lambda v: v + "^assigned_toISEMPTY",
        lambda v: v + "^stateIN1,2,3",
        lambda v: v + "^emailSTARTSWITHadmin",
        lambda v: "",
        lambda v: "a to z",
    ]
    item["value"] = rng.choice(edits)(value)
    return flow


def edit_value(rng: random.Random, flow: Flow) -> Flow:
    items = [i for c in flow["components"] for i in c.get("inputs", [])]
    items += (flow.get("trigger") or {}).get("inputs", [])
    if items:
        item = rng.choice(items)
        item["value"] = rng.choice(
            [item.get("value", "") + "x", "", "{{trigger.current}}", "12", "Line one\n10:30 then"]
        )
    return flow


def drop_input(rng: random.Random, flow: Flow) -> Flow:
    comps = [c for c in flow["components"] if c.get("inputs")]
    if comps:
        comp = rng.choice(comps)
        comp["inputs"].pop(rng.randrange(len(comp["inputs"])))
    return flow


def change_trigger(rng: random.Random, flow: Flow) -> Flow:
    trigger = flow.get("trigger") or {}
    choices = ["record_create", "record_update", "daily", "email", "service_catalog"]
    trigger["type"] = rng.choice([t for t in choices if t != trigger.get("type")])
    flow["trigger"] = trigger
    return flow


def drop_trigger_inputs(rng: random.Random, flow: Flow) -> Flow:
    if isinstance(flow.get("trigger"), dict):
        flow["trigger"].pop("inputs", None)
    return flow


def lowercase_flowlogic(rng: random.Random, flow: Flow) -> Flow:
    for comp in flow["components"]:
        if comp.get("category") == "flowlogic":
            comp["definition"] = comp["definition"].lower()
    return flow


def strip_defaults(rng: random.Random, flow: Flow) -> Flow:
    """No `scope` or `category` on actions (the reference assumes global / action)."""
    for comp in flow["components"]:
        if comp.get("category") == "action":
            comp.pop("scope", None)
            if rng.random() < 0.5:
                comp.pop("category")
    return flow


def starflow_subflow(rng: random.Random, flow: Flow) -> Flow:
    """StarFlow's subflow shape: no trigger, top-level inputs/outputs with `items`."""
    flow["trigger"] = None
    flow["description"] = "A subflow made from " + str(flow.get("name", "a flow"))
    flow["inputs"] = {
        "items": [
            {"name": "record", "type": "reference", "reference": "incident", "label": "Record"},
            {"name": "note", "type": "string", "mandatory": False},
        ]
    }
    flow["outputs"] = {"items": [{"name": "result", "type": "records", "reference": "task"}]}
    if rng.random() < 0.5:
        flow["outputs"]["items"].append({"name": "count", "type": "integer"})
    return flow


def starflow_io_edit(rng: random.Random, flow: Flow) -> Flow:
    flow = starflow_subflow(rng, flow)
    items = flow["inputs"]["items"]
    choice = rng.randrange(3)
    if choice == 0:
        items[0]["reference"] = "problem"
    elif choice == 1:
        items.pop()
    else:
        items.append({"name": "extra"})
    return flow


PERTURBATIONS: dict[str, Callable[[random.Random, Flow], Flow]] = {
    "drop_step": drop_step,
    "rename_step": rename_step,
    "rescope_step": rescope_step,
    "reorder_steps": reorder_steps,
    "renest_step": renest_step,
    "wrap_in_if": wrap_in_if,
    "edit_condition": edit_condition,
    "edit_value": edit_value,
    "drop_input": drop_input,
    "change_trigger": change_trigger,
    "drop_trigger_inputs": drop_trigger_inputs,
    "lowercase_flowlogic": lowercase_flowlogic,
    "strip_defaults": strip_defaults,
    "starflow_subflow": starflow_subflow,
}

# Text and JSON the reference reads in its own way (fenced output, not JSON, wrong shapes).
ODD_PREDICTIONS: dict[str, Callable[[Flow], str]] = {
    "unparseable": lambda f: json.dumps(f)[:-7],
    "empty_text": lambda f: "",
    "prose": lambda f: "I cannot build this flow.",
    "fenced": lambda f: "Here it is:\n```json\n" + json.dumps(f) + "\n```\nDone.",
    "fence_unclosed": lambda f: "```json\n" + json.dumps(f),
    "empty_object": lambda f: "{}",
    "empty_flow": lambda f: json.dumps({"trigger": None, "components": []}),
    "json_null": lambda f: "null",
    "json_list": lambda f: json.dumps([f]),
    "json_string": lambda f: json.dumps("no trigger here"),
    "json_number": lambda f: "42",
    "trigger_null_type": lambda f: json.dumps({**f, "trigger": {"type": None}}),
    "trigger_empty": lambda f: json.dumps({**f, "trigger": {}}),
    "trigger_string": lambda f: json.dumps({**f, "trigger": "record_create"}),
    "io_as_list": lambda f: json.dumps({**f, "inputs": [{"name": "x", "type": "string"}]}),
    "io_empty_list": lambda f: json.dumps({**f, "outputs": []}),
    "io_null": lambda f: json.dumps({**f, "inputs": None, "outputs": None}),
    "components_null": lambda f: json.dumps({**f, "components": None}),
    "order_strings": lambda f: json.dumps(
        {**f, "components": [{**c, "order": str(c.get("order"))} for c in f["components"]]}
    ),
    "block_missing_parent": lambda f: json.dumps(
        {**f, "components": [{**c, "block": 99} for c in f["components"]]}
    ),
    "value_types": lambda f: json.dumps(
        {
            **f,
            "components": [
                {**c, "inputs": [{**i, "value": 3} for i in c.get("inputs", [])]}
                for c in f["components"]
            ],
        }
    ),
    "input_name_quirks": lambda f: json.dumps(
        {
            **f,
            "components": [
                {
                    **c,
                    "inputs": [
                        *c.get("inputs", []),
                        {"name": "inputs", "value": "x"},
                        {"name": "action_type", "value": "y"},
                        {"name": "note", "value": "a\n12:00 b"},
                        {"value": "nameless"},
                    ],
                }
                for c in f["components"]
            ],
        }
    ),
}


def build_pairs(seed: int = 20) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    flows = corpus_flows()
    pairs: list[dict[str, Any]] = []

    def add(kind: str, pred: Any, gold: Flow) -> None:
        text = pred if isinstance(pred, str) else json.dumps(pred, ensure_ascii=False)
        pairs.append(
            {
                "id": f"p{len(pairs):04d}",
                "kind": kind,
                "pred": text,
                "gold": json.dumps(gold, ensure_ascii=False),
            }
        )

    sample = rng.sample(flows, 150)
    for gold in sample[:20]:
        add("identical", copy.deepcopy(gold), gold)
    for i, gold in enumerate(sample):
        name = list(PERTURBATIONS)[i % len(PERTURBATIONS)]
        add(name, PERTURBATIONS[name](rng, copy.deepcopy(gold)), gold)
    # Two and three edits at once, the usual shape of a model's mistakes.
    for gold in sample[:60]:
        pred = copy.deepcopy(gold)
        names = rng.sample(sorted(PERTURBATIONS), rng.randint(2, 3))
        for name in names:
            pred = PERTURBATIONS[name](rng, pred)
        add("+".join(names), pred, gold)
    # StarFlow-shaped flows on both sides.
    for gold in sample[60:80]:
        subflow = starflow_subflow(rng, copy.deepcopy(gold))
        add("starflow_io_edit", starflow_io_edit(rng, copy.deepcopy(gold)), subflow)
        add("starflow_vs_flow", copy.deepcopy(gold), subflow)
    for i, (name, make) in enumerate(ODD_PREDICTIONS.items()):
        for gold in (sample[80 + 2 * i], sample[81 + 2 * i]):
            add(name, make(copy.deepcopy(gold)), gold)
    # Two flows from different cases, and real predictions of our models.
    for _ in range(20):
        a, b = rng.sample(flows, 2)
        add("unrelated", a, b)
    for kind, pred, gold in result_pairs(rng, 40):
        add(kind.split(":")[0], pred, gold)
    return pairs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reference", type=Path, required=True, help="StarFlow checkout")
    parser.add_argument("--pairs", type=Path, help="score stored pairs instead of building")
    parser.add_argument("--write", action="store_true", help=f"store pairs in {PAIRS}")
    args = parser.parse_args()
    reference = reference_metric(args.reference)
    if args.pairs:
        lines = args.pairs.read_text(encoding="utf-8").splitlines()
        pairs = [json.loads(line) for line in lines if line.strip()]
    else:
        pairs = build_pairs()
    worst, failures = 0.0, []
    for pair in pairs:
        pair["reference"] = reference(pair["pred"], pair["gold"])
        for variant in ("outline", "full"):
            ours = flowsim(pair["pred"], pair["gold"], variant)  # type: ignore[arg-type]
            diff = abs(ours - pair["reference"][variant])
            worst = max(worst, diff)
            if diff > TOLERANCE:
                failures.append(
                    {"id": pair["id"], "kind": pair["kind"], "variant": variant, "ours": ours}
                    | {"reference": pair["reference"][variant]}
                )
    for failure in failures[:20]:
        print(json.dumps(failure), file=sys.stderr)
    print(
        json.dumps(
            {
                "pairs": len(pairs),
                "disagreements": len(failures),
                "max_abs_difference": worst,
                "kinds": len({p["kind"] for p in pairs}),
            }
        )
    )
    if args.write:
        PAIRS.parent.mkdir(parents=True, exist_ok=True)
        with PAIRS.open("w", encoding="utf-8") as fh:
            for pair in pairs:
                fh.write(json.dumps(pair, ensure_ascii=False) + "\n")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
