"""The evaluation's aggregation on small hand-made results: summary figures, refusal
precision/recall, latency percentiles, the feature matrix and its files; and the
nearest-example arm end to end through `flowgen eval`."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from flowgen.cli.app import app
from flowgen.evaluation.summary import (
    feature_matrix,
    matrix_csv,
    matrix_markdown,
    percentile,
    refusal_figures,
    summary,
)

REPO = Path(__file__).resolve().parent.parent
runner = CliRunner()


def record(
    outline: float,
    full: float,
    features: list[str],
    seconds: float = 1.0,
    refused: bool = False,
    gold_refusal: bool = False,
    structure: bool = False,
) -> dict:
    return {
        "features": features,
        "refused": refused,
        "gold_refusal": gold_refusal,
        "seconds": seconds,
        "tokens_in": 100,
        "tokens_out": 10,
        "model_calls": 3,
        "score": {
            "id": "x",
            "flowsim_outline": outline,
            "flowsim_full": full,
            "flowsim_outline_validated": 0.0 if structure else outline,
            "flowsim_full_validated": 0.0 if structure else full,
            "lcss": outline,
            "structure_error": structure,
            "catalog_error": False,
            "unparseable": False,
            "errors": [],
        },
    }


RECORDS = [
    record(1.0, 0.8, ["IF", "record_update"], seconds=2.0),
    record(0.5, 0.4, ["FOREACH", "record_update"], seconds=4.0, structure=True),
    record(1.0, 1.0, ["refusal", "harmful"], seconds=1.0, refused=True, gold_refusal=True),
    record(0.0, 0.0, ["refusal", "out_of_scope"], seconds=3.0, gold_refusal=True),
    record(0.0, 0.0, ["daily"], seconds=10.0, refused=True),
]


def test_percentiles_are_nearest_rank() -> None:
    values = [2.0, 4.0, 1.0, 3.0, 10.0]
    assert percentile(values, 0.5) == 3.0
    assert percentile(values, 0.9) == 10.0 and percentile(values, 0.1) == 1.0
    assert percentile([], 0.5) == 0.0


def test_refusal_precision_and_recall() -> None:
    figures = refusal_figures(RECORDS)
    assert figures["refusal_precision"] == pytest.approx(1 / 2)  # 2 refused, 1 right
    assert figures["refusal_recall"] == pytest.approx(1 / 2)  # 2 expected, 1 refused
    assert refusal_figures([record(1, 1, [])]) == {"refusal_precision": 1.0, "refusal_recall": 1.0}


def test_summary_has_the_score_keys_and_the_eval_figures() -> None:
    figures = summary(RECORDS)
    assert figures["n"] == 5
    assert figures["flowsim_outline"] == pytest.approx(2.5 / 5)
    assert figures["flowsim_full_validated"] == pytest.approx((0.8 + 1.0) / 5)
    assert figures["structure_error_rate"] == pytest.approx(1 / 5)
    assert (figures["latency_p10"], figures["latency_p50"], figures["latency_p90"]) == (
        1.0,
        3.0,
        10.0,
    )
    assert figures["model_calls"] == 3 and figures["tokens_in"] == 100


def test_feature_matrix_groups_cases_by_feature() -> None:
    rows = {r["feature"]: r for r in feature_matrix(RECORDS)}
    assert rows["all"]["cases"] == 5
    assert rows["record_update"]["cases"] == 2
    assert rows["record_update"]["flowsim_outline"] == pytest.approx(0.75)
    assert rows["record_update"]["flowsim_full"] == pytest.approx(0.6)
    assert rows["refusal"]["flowsim_outline"] == pytest.approx(0.5)
    ordered = [r["feature"] for r in feature_matrix(RECORDS)]
    assert ordered[0] == "all" and ordered.index("record_update") < ordered.index("IF")
    table = matrix_markdown(feature_matrix(RECORDS))
    assert "| record_update | 2 | 0.750 | 0.600 |" in table
    parsed = list(csv.DictReader(io.StringIO(matrix_csv(feature_matrix(RECORDS)))))
    assert parsed[0] == {
        "feature": "all",
        "cases": "5",
        "flowsim_outline": "0.5000",
        "flowsim_full": "0.4400",
    }


def gold_case_file(tmp_path: Path) -> tuple[Path, list[dict]]:
    """The five sample gold cases as a case file of their own."""
    cases = tmp_path / "cases.jsonl"
    gold = [
        json.loads(line) for line in (REPO / "examples" / "gold.jsonl").read_text().splitlines()
    ]
    cases.write_text("".join(json.dumps(c) + "\n" for c in gold))
    return cases, gold


def test_eval_nearest_example_arm_writes_every_output(synced_store, tmp_path) -> None:
    cases, _ = gold_case_file(tmp_path)
    out = tmp_path / "nearest"
    result = runner.invoke(
        app, ["eval", "run", str(cases), "--baseline", "nearest", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    figures = json.loads((out / "summary.json").read_text())
    assert figures["n"] == 5 and figures["arm"]["kind"] == "nearest"
    assert figures["model_calls"] == 0
    assert len((out / "cases.jsonl").read_text().splitlines()) == 5
    assert (out / "features.md").read_text().startswith("# Feature matrix: nearest-example")
    for png in ("summary.png", "features.png"):
        assert (out / png).read_bytes()[:4] == b"\x89PNG"
    compared = runner.invoke(app, ["eval", "compare", str(out), str(out)])
    assert compared.exit_code == 0 and "nearest-example" in compared.output
    assert runner.invoke(app, ["eval", "run", str(cases)]).exit_code == 2  # no --out
    # `flowgen eval CASES.jsonl ...` is short for `flowgen eval run CASES.jsonl ...`.
    short = runner.invoke(app, ["eval", str(cases), "--baseline", "nearest", "--out", str(out)])
    assert short.exit_code == 0, short.output
    assert runner.invoke(app, ["eval", str(cases)]).exit_code == 2


def test_a_sample_is_seeded_kept_in_file_order_and_covers_installations() -> None:
    from flowgen.cli.eval_commands import select_cases
    from flowgen.training.cases import read_cases

    cases = read_cases([REPO / "data" / "handwritten.jsonl"])
    first = select_cases(cases, "dev", None, 30, seed=0)
    again = select_cases(cases, "dev", None, 30, seed=0)
    other = select_cases(cases, "dev", None, 30, seed=1)
    assert [c.id for c in first] == [c.id for c in again] != [c.id for c in other]
    assert len(first) == 30 and all(c.split == "dev" for c in first)
    smaller = select_cases(cases, "dev", None, 15, seed=0)
    assert {c.id for c in smaller} < {c.id for c in first}
    order = {c.id: i for i, c in enumerate(cases)}
    assert [order[c.id] for c in first] == sorted(order[c.id] for c in first)
    # The dev split is grouped by installation; a prefix of 30 would be acme only.
    assert len({c.installation for c in first}) == 3
    globex = select_cases(cases, "test", "globex-csm", None, seed=0)
    assert globex and {c.installation for c in globex} == {"globex-csm"}


def test_an_interrupted_eval_resumes_from_its_partial_file(synced_store, tmp_path) -> None:
    from dataclasses import asdict

    from flowgen.evaluation.runner import PARTIAL, Arm

    cases, _ = gold_case_file(tmp_path)
    out = tmp_path / "nearest"
    command = ["eval", "run", str(cases), "--baseline", "nearest", "--out", str(out)]
    assert runner.invoke(app, command).exit_code == 0
    first, second = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()][
        :2
    ]
    # As a killed run leaves it: one case scored by this arm (marked with a score a re-run
    # would not produce), one scored by another arm, and a torn last line.
    arm = asdict(Arm(name="nearest-example", kind="nearest", adapter=None))
    first["score"]["flowsim_outline"] = second["score"]["flowsim_outline"] = 0.123456
    (out / PARTIAL).write_text(
        json.dumps({"arm": arm, **first})
        + "\n"
        + json.dumps({"arm": {**arm, "examples": 5}, **second})
        + "\n"
        + '{"arm": {"na'
    )
    assert runner.invoke(app, command).exit_code == 0
    by_id = {
        r["id"]: r
        for r in (json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines())
    }
    assert len(by_id) == 5
    assert by_id[first["id"]]["score"]["flowsim_outline"] == 0.123456
    assert by_id[second["id"]]["score"]["flowsim_outline"] != 0.123456
    assert not (out / PARTIAL).exists()
    figures = json.loads((out / "summary.json").read_text())
    assert figures["selection"]["n"] == 5 and figures["selection"]["sample"] is None


def test_compare_scores_runs_on_the_cases_they_share(synced_store, tmp_path) -> None:
    cases, gold = gold_case_file(tmp_path)
    full, part = tmp_path / "full", tmp_path / "part"
    base = ["eval", "run", str(cases), "--baseline", "nearest", "--out"]
    assert runner.invoke(app, [*base, str(full)]).exit_code == 0
    assert runner.invoke(app, [*base, str(part), "--sample", "3"]).exit_code == 0
    shown = runner.invoke(app, ["eval", "compare", str(full), str(part)], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    assert "3 cases scored by every run" in shown.output
    assert "0 / 0" in shown.output  # the same arm on the same cases: no case differs
    assert "+0.000 ± 0.000" in shown.output
    # One case scored 0.5 lower: the paired mean moves by 0.5 / 5, its error with it.
    lower = tmp_path / "lower"
    lower.mkdir()
    (lower / "summary.json").write_text((full / "summary.json").read_text())
    records = [json.loads(line) for line in (full / "cases.jsonl").read_text().splitlines()]
    records[0]["score"]["flowsim_full"] -= 0.5
    (lower / "cases.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    shown = runner.invoke(app, ["eval", "compare", str(full), str(lower)], terminal_width=200)
    assert "-0.100 ± 0.100" in shown.output and "0 / 1" in shown.output
    refusals = sum(1 for c in gold if c["flow"] is None)
    flows = runner.invoke(
        app, ["eval", "compare", str(full), str(full), "--flows-only"], terminal_width=200
    )
    assert f"{5 - refusals} cases scored by every run, gold refusals left out" in flows.output
    # A run still going is read from its partial file.
    (part / "cases.jsonl").rename(part / "cases.partial.jsonl")
    summary_arm = json.loads((part / "summary.json").read_text())["arm"]
    lines = (part / "cases.partial.jsonl").read_text().splitlines()[:2]
    (part / "cases.partial.jsonl").write_text(
        "".join(json.dumps({"arm": summary_arm, **json.loads(line)}) + "\n" for line in lines)
    )
    shown = runner.invoke(app, ["eval", "compare", str(full), str(part)], terminal_width=200)
    assert "2 cases scored by every run" in shown.output and "(unfinished)" in shown.output
    nowhere = runner.invoke(
        app, ["eval", "compare", str(full), str(part), "--installation", "globex-csm"]
    )
    assert nowhere.exit_code != 0 and "no case in common in globex-csm" in nowhere.output


def test_an_adapter_is_a_shipped_name_or_a_folder_written_by_train(tmp_path) -> None:
    import typer

    from flowgen.cli.adapter_option import local_adapter

    shipped = REPO / "training" / "adapters" / "default"
    assert local_adapter("default") == ("default", None)
    assert local_adapter("none") == ("none", None)
    assert local_adapter(str(shipped)) == ("default", None)  # the shipped folder by path
    tenant = tmp_path / "globex-csm-trial"
    tenant.mkdir()
    (tenant / "adapter_config.json").write_text("{}")
    assert local_adapter(str(tenant)) == ("globex-csm-trial", tenant)
    impostor = tmp_path / "default"
    impostor.mkdir()
    (impostor / "adapter_config.json").write_text("{}")
    for spec in (str(impostor), str(tmp_path / "nowhere"), "globex-csm-v9"):
        with pytest.raises(typer.Exit):
            local_adapter(spec)


def test_eval_names_an_unknown_adapter_before_any_work(tmp_path) -> None:
    cases, _ = gold_case_file(tmp_path)
    out = tmp_path / "run"
    result = runner.invoke(
        app, ["eval", "run", str(cases), "--adapter", "globex-csm-v9", "--out", str(out)]
    )
    assert result.exit_code == 2
    assert "globex-csm-v9" in result.output and "flowgen train" in result.output
    assert not out.exists()


def test_component_ratio_counts_a_refused_or_short_flow_against_its_gold() -> None:
    from flowgen.evaluation.component_counts import count_figures

    def record(gold: int, predicted: int | None) -> dict[str, Any]:
        flow = None if predicted is None else {"components": [{}] * predicted}
        return {"gold_components": gold, "flow": flow}

    figures = count_figures(
        [record(2, 2), record(8, 1), record(10, None), record(0, None)]  # the last: a refusal
    )
    assert figures["component_ratio"] == round(3 / 20, 3)
    assert figures["component_ratio_long"] == round(1 / 18, 3) and figures["long_cases"] == 2
    assert figures["component_ratio_1-2"] == 1.0 and figures["component_ratio_3-5"] is None


def test_a_case_the_engine_cannot_run_is_scored_zero_and_the_eval_goes_on(
    synced_store, tmp_path
) -> None:
    from flowgen.engine.base import EngineError
    from flowgen.evaluation.runner import Arm, run_arm
    from flowgen.flow.model import Flow
    from flowgen.training.cases import read_cases
    from flowgen.training.replay import ReplayEngine

    path, gold = gold_case_file(tmp_path)
    cases = read_cases([path])

    class FailsOnSecond(ReplayEngine):
        def generate(self, request: Any) -> Any:
            if self.requirement == cases[1].requirement:
                raise EngineError("the prompt is 4143 tokens; the engine's context holds 4096")
            return super().generate(request)

    engine = FailsOnSecond(Flow.model_validate(gold[0]["flow"]))
    requirements = iter(c.requirement for c in cases)

    def progress() -> None:
        engine.requirement = next(requirements, "")

    progress()
    run_arm(
        Arm(name="replay", adapter=None),
        cases,
        synced_store,
        engine,
        [],
        tmp_path / "out",
        progress,
    )
    rows = [
        json.loads(line) for line in (tmp_path / "out" / "cases.jsonl").read_text().splitlines()
    ]
    assert len(rows) == len(cases)
    failed = rows[1]
    assert failed["status"] == "invalid" and failed["flow"] is None
    assert (
        failed["errors"][0]["code"] == "engine_error" and "4143" in failed["errors"][0]["message"]
    )
    assert failed["score"]["flowsim_full"] == 0.0
    assert rows[0]["status"] == "ok"  # the cases around it ran
