"""Inputs a new user brings, end to end: a case file with its own `split` and `source`
(`flowgen eval`), a catalog whose choices are plain strings (`flowgen catalog sync`), and
flows in StarFlow's shape (`flowgen validate` and `flowgen score`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from conftest import REPO, flowgen
from flows import log, step
from typer.testing import CliRunner

from flowgen.cli.app import app
from flowgen.metrics.flowsim import flowsim
from flowgen.training.cases import read_cases

runner = CliRunner()


def starflow_subflow(**changes: object) -> dict:
    """A subflow as StarFlow's data set writes it: no trigger, top-level `inputs` and
    `outputs` objects with `items`, and keys of its own (`description`)."""
    flow = {
        "name": "Close child tasks",
        "description": "Closes the tasks of a record",
        "trigger": None,
        "inputs": {
            "items": [
                {"name": "parent", "type": "reference", "reference": "incident", "label": "P"},
                {"name": "note", "type": "string", "mandatory": False},
            ]
        },
        "outputs": {"items": [{"name": "closed", "type": "integer"}]},
        "components": [
            step(
                1,
                "look_up_records",
                table="incident",
                conditions="parent={{subflow_inputs.parent}}",
            ),
            {**log(2), "inputs": [{"name": "log_message", "value": "{{subflow_inputs.note}}"}]},
        ],
    }
    flow.update(changes)
    return flow


# -- case files ------------------------------------------------------------------------------
def own_cases(tmp_path: Path) -> Path:
    gold = [
        json.loads(line) for line in (REPO / "examples" / "gold.jsonl").read_text().splitlines()
    ]
    rows = []
    for i, case in enumerate(gold):
        row = {k: case[k] for k in ("id", "installation", "requirement", "flow")}
        # Their own split and source names, and keys of their own.
        row["split"] = "holdout" if i % 2 == 0 else "later"
        row["source"] = "servicenow-docs"
        row["notes"] = {"reviewer": "kim"}
        rows.append(row)
    path = tmp_path / "cases.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_case_files_keep_any_split_and_source(tmp_path: Path) -> None:
    cases = read_cases([own_cases(tmp_path)])
    assert {c.split for c in cases} == {"holdout", "later"}
    assert {c.source for c in cases} == {"servicenow-docs"}
    assert cases[0].model_extra == {"notes": {"reviewer": "kim"}}
    bare = tmp_path / "bare.jsonl"  # only what the scorer needs
    bare.write_text(json.dumps({"id": "x", "installation": "a", "requirement": "r", "flow": None}))
    assert read_cases([bare])[0].split is None


def test_eval_reads_a_case_file_with_its_own_split(synced_store, tmp_path: Path) -> None:
    cases = own_cases(tmp_path)
    holdout = [c for c in read_cases([cases]) if c.split == "holdout"]
    out = tmp_path / "run"
    command = ["eval", "run", str(cases), "--baseline", "nearest", "--split", "holdout"]
    result = runner.invoke(app, [*command, "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "summary.json").read_text())["n"] == len(holdout)
    rows = [json.loads(line) for line in (out / "cases.jsonl").read_text().splitlines()]
    assert {r["split"] for r in rows} == {"holdout"}


# -- catalogs --------------------------------------------------------------------------------
def test_catalog_sync_accepts_plain_string_choices(engine, embedder, tmp_path: Path) -> None:
    from flowgen.db.store import CatalogStore

    catalog = {
        "installation": "choices-shorthand",
        "triggers": [
            {"name": "record_create", "inputs": [{"name": "table", "type": "table"}]},
        ],
        "steps": [
            {
                "name": "set_urgency",
                "inputs": [
                    {"name": "level", "type": "choice", "choices": ["low", "normal", "high"]},
                    {
                        "name": "mode",
                        "type": "choice",
                        "choices": [{"value": "a", "label": "Automatic"}, "manual"],
                    },
                ],
                "outputs": [{"name": "result", "type": "choice", "choices": ["ok", "failed"]}],
            }
        ],
        "tables": [
            {
                "name": "u_ticket",
                "columns": [{"name": "size", "type": "choice", "choices": ["S", "M", 3]}],
            }
        ],
    }
    path = tmp_path / "shorthand.yaml"
    # Written as a person writes it: `choices: [low, normal, high]`.
    path.write_text(yaml.safe_dump(catalog, default_flow_style=None))
    assert "[low, normal, high]" in path.read_text()
    result = flowgen("catalog", "sync", path)
    assert result.returncode == 0, result.stderr
    stored = CatalogStore(engine, embedder).load_catalog("choices-shorthand")
    level, mode = stored.steps[0].inputs
    assert [(c.value, c.label) for c in level.choices or []] == [
        ("low", "low"),
        ("normal", "normal"),
        ("high", "high"),
    ]
    assert [(c.value, c.label) for c in mode.choices or []] == [
        ("a", "Automatic"),
        ("manual", "manual"),
    ]
    assert [c.value for c in stored.steps[0].outputs[0].choices or []] == ["ok", "failed"]
    assert stored.tables[0].columns[0].choice_values() == {"S", "M", "3"}


# -- StarFlow-shaped flows -------------------------------------------------------------------
def test_validate_reads_a_starflow_subflow(tmp_path: Path) -> None:
    path = tmp_path / "subflow.json"
    path.write_text(json.dumps(starflow_subflow()))
    result = flowgen("validate", path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "invalid_type" not in result.stdout


def test_score_reads_starflow_subflows(tmp_path: Path) -> None:
    gold = starflow_subflow()
    edited = starflow_subflow(outputs={"items": [{"name": "closed", "type": "string"}]})
    golds = tmp_path / "gold.jsonl"
    golds.write_text(
        "".join(
            json.dumps({"id": i, "installation": "acme-itsm", "flow": gold}) + "\n"
            for i in ("same", "edited")
        )
    )
    preds = tmp_path / "pred.jsonl"
    preds.write_text(
        json.dumps({"id": "same", "flow": gold})
        + "\n"
        + json.dumps({"id": "edited", "flow": edited})
    )
    per_case = tmp_path / "cases.jsonl"
    result = flowgen("score", preds, golds, "--per-case", per_case)
    assert result.returncode == 0, result.stderr
    rows = {r["id"]: r for r in map(json.loads, per_case.read_text().splitlines())}
    assert not any(r["structure_error"] or r["unparseable"] for r in rows.values())
    assert rows["same"]["flowsim_full"] == rows["same"]["flowsim_full_validated"] == 1.0
    # One subflow output's type edited: one plain relabel (cost 1) in the outline.
    expected = flowsim(edited, gold, "outline")
    assert rows["edited"]["flowsim_outline"] == pytest.approx(expected, abs=1e-12)
    assert 0 < expected < 1
