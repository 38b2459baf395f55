"""Running one arm of an evaluation over a case file.

Arms: the generator with an engine (the fine-tuned adapter, the base model, any
OpenAI-compatible LLM), shown `examples` solved flows in each prompt (the nearest of the
installation's own and the shared library), optionally offered every gold step
(`perfect_rag`, the study's ablation that separates retrieval misses from model errors);
or the nearest-example baseline, which answers with the flow of the most similar train
requirement and calls no model.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

from flowgen.db.store import CatalogStore
from flowgen.engine.base import Engine
from flowgen.evaluation.component_counts import components
from flowgen.evaluation.summary import feature_matrix, matrix_csv, matrix_markdown, summary
from flowgen.flow.model import Flow, flow_json
from flowgen.graph.coverage import DEFAULT_COVERAGE, Coverage
from flowgen.metrics.scoring import score_case
from flowgen.tools.example_index import ExampleIndex, SolvedCase
from flowgen.training.cases import Case, source_case


@dataclass
class Arm:
    name: str
    kind: Literal["generator", "nearest"] = "generator"
    adapter: str | None = "default"
    # Solved flows shown in each prompt (graph/flow_graph.py); None: as many as the
    # adapter was trained with.
    examples: int | None = None
    perfect_rag: bool = False
    max_rounds: int = 2
    consensus: int = 0  # outlines sampled besides the greedy one (graph/flow_graph.py)
    coverage: Coverage = DEFAULT_COVERAGE  # the outline's coverage rule (graph/coverage.py)
    ground_choices: bool = True  # graph/choice_grounding.py
    name_steps: bool = True  # graph/named_steps.py
    shown_steps_only: bool = True  # spoke/custom steps only where the prompt shows them


def solved_cases(train: list[Case]) -> list[SolvedCase]:
    return [
        SolvedCase(
            c.id,
            c.installation,
            c.requirement,
            Flow.model_validate(c.flow) if c.flow else None,
            c.refusal,
        )
        for c in train
    ]


def gold_steps(case: Case) -> list[str]:
    if not case.flow:
        return []
    return [c["definition"] for c in case.flow["components"] if c["category"] != "flowlogic"]


def run_arm(
    arm: Arm,
    cases: list[Case],
    store: CatalogStore,
    engine: Engine | None,
    train: list[Case],
    out_dir: Path,
    progress: Callable[[], None] | None = None,
    selection: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Score every case and write the results to `out_dir`. Each finished case is appended
    to `cases.partial.jsonl` first, so an eval stopped part-way (hours on a CPU) picks up
    where it stopped when run again with the same arm and folder."""
    from flowgen.engine.base import EngineError
    from flowgen.graph.generator import FlowGenerator, GenerationOutcome

    index = ExampleIndex(solved_cases(train)) if arm.kind == "nearest" else None
    generators: dict[str, FlowGenerator] = {}
    out_dir.mkdir(parents=True, exist_ok=True)
    partial = out_dir / PARTIAL
    done = finished_records(partial, arm)
    records = []
    for case in cases:
        if case.id in done:
            records.append(done[case.id])
            if progress:
                progress()
            continue
        start = time.perf_counter()
        if arm.kind == "nearest":
            assert index is not None
            # Same installation first; an unseen one (ood) gets the nearest of any.
            near = index.nearest(case.requirement, 1, case.installation) or index.nearest(
                case.requirement, 1
            )
            flow = flow_json(near[0].flow) if near and near[0].flow else None
            outcome: dict[str, Any] = {
                "status": "refused" if flow is None else "ok",
                "flow": flow,
                "refusal": None,
                "errors": [],
                "model_calls": 0,
                "tokens_in": 0,
                "tokens_out": 0,
            }
        else:
            if case.installation not in generators:
                generators[case.installation] = FlowGenerator(
                    case.installation,
                    store=store,
                    engine=engine,
                    adapter=arm.adapter,
                    checkpoints=False,
                    max_rounds=arm.max_rounds,
                    consensus=arm.consensus,
                    coverage=arm.coverage,
                    ground_choices=arm.ground_choices,
                    name_steps=arm.name_steps,
                    shown_steps_only=arm.shown_steps_only,
                    examples=arm.examples,
                )
            generator = generators[case.installation]
            # A rephrased train case is never shown the train flow it restates, as in
            # training (data/rephrased/, training/cases.py's `source_case`).
            source = source_case(case.id)
            generator.examples = replace(
                generator.examples, exclude=(source,) if source != case.id else ()
            )
            try:
                result = generator.generate(
                    case.requirement, extra_steps=gold_steps(case) if arm.perfect_rag else None
                )
            except EngineError as exc:  # one case the model could not run: scored 0, named
                error = {"code": "engine_error", "message": str(exc)}
                result = GenerationOutcome(
                    run_id="",
                    installation=case.installation,
                    requirement=case.requirement,
                    status="invalid",
                    flow=None,
                    errors=[error],
                )
            outcome = result.model_dump(
                include={
                    "status",
                    "flow",
                    "refusal",
                    "errors",
                    "model_calls",
                    "tokens_in",
                    "tokens_out",
                    "run_id",
                }
            )
        seconds = time.perf_counter() - start
        score = score_case(case.id, outcome["flow"], case.flow, store.catalog(case.installation))
        records.append(
            {
                "id": case.id,
                "installation": case.installation,
                "split": case.split,
                "requirement": case.requirement,
                "features": case.features,
                "gold_refusal": case.flow is None,
                "gold_components": components(case.flow),
                "refused": outcome["status"] == "refused",
                **outcome,
                "seconds": round(seconds, 3),
                "score": asdict(score),
            }
        )
        with partial.open("a", encoding="utf-8") as fh:
            fh.write(json.dumps({"arm": asdict(arm), **records[-1]}, ensure_ascii=False) + "\n")
        if progress:
            progress()
    write_results(out_dir, arm, records, selection)
    partial.unlink(missing_ok=True)
    return summary(records)


PARTIAL = "cases.partial.jsonl"


def partial_records(partial: Path) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(arm, scored case) for each line of a partial file; a torn last line from a kill
    is skipped."""
    for line in partial.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        yield record.pop("arm"), record


def finished_records(partial: Path, arm: Arm) -> dict[str, dict[str, Any]]:
    """Cases an earlier, interrupted run of the same arm already scored; lines of another
    arm are ignored (not mixed in)."""
    if not partial.exists():
        return {}
    wanted = asdict(arm)
    return {r["id"]: r for run_arm, r in partial_records(partial) if run_arm == wanted}


def write_results(
    out_dir: Path,
    arm: Arm,
    records: list[dict[str, Any]],
    selection: dict[str, Any] | None = None,
) -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    figures = {"arm": asdict(arm), "selection": selection or {}, **summary(records)}
    (out_dir / "summary.json").write_text(json.dumps(figures, indent=2) + "\n")
    with (out_dir / "cases.jsonl").open("w", encoding="utf-8") as fh:
        for record in records:
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    rows = feature_matrix(records)
    (out_dir / "features.md").write_text(
        f"# Feature matrix: {arm.name}\n\n" + matrix_markdown(rows)
    )
    (out_dir / "features.csv").write_text(matrix_csv(rows))
    from flowgen.evaluation.plots import plot_features, plot_summary

    plot_summary({arm.name: figures}, out_dir / "summary.png")
    plot_features(rows, arm.name, out_dir / "features.png")
