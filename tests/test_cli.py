"""The `flowgen` command as a user runs it: a real subprocess, exit codes and output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, flowgen
from flows import flow, log, step

EXAMPLE = REPO / "examples" / "reassign_inactive_user_incidents.json"
CATALOG = REPO / "catalogs" / "acme-itsm.yaml"
SUMMARY_KEYS = {
    "n",
    "flowsim_outline",
    "flowsim_full",
    "flowsim_outline_validated",
    "flowsim_full_validated",
    "lcss",
    "structure_error_rate",
    "unparseable_rate",
}


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_validate_valid_flow() -> None:
    result = flowgen("validate", EXAMPLE, "--catalog", CATALOG)
    assert result.returncode == 0, result.stderr
    assert "valid" in result.stdout


def test_validate_reports_errors_and_exits_1(tmp_path: Path) -> None:
    bad = json.loads(EXAMPLE.read_text())
    bad["components"][0]["inputs"][0]["value"] = "incidnet"
    bad["components"][2]["block"] = 9
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(bad))
    result = flowgen("validate", path, "--catalog", CATALOG)
    assert result.returncode == 1
    assert "unknown_table" in result.stdout and "block_unknown" in result.stdout
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        (b"\xff\xfe garbage", "can't decode"),
        ("x" * 50_000_000, "over the 1 MB limit"),
    ],
)
def test_validate_bad_files(tmp_path: Path, content: bytes | str | None, message: str) -> None:
    path = tmp_path / "flow.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content)
    result = flowgen("validate", path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_validate_deeply_nested_json(tmp_path: Path) -> None:
    path = tmp_path / "deep.json"
    path.write_text('{"a":' * 50_000 + "1" + "}" * 50_000)
    result = flowgen("validate", path)
    assert result.returncode == 1
    assert "nested too deeply" in result.stdout and "Traceback" not in result.stderr


def test_validate_bad_catalog_names_every_problem(tmp_path: Path) -> None:
    text = CATALOG.read_text().replace(
        "{name: table, type: table, required: true}", "{name: table, type: tabel, required: true}"
    )
    bad = tmp_path / "cat.yaml"
    bad.write_text(text)
    result = flowgen("validate", EXAMPLE, "--catalog", bad)
    assert result.returncode == 2
    assert "triggers[0].inputs[0].type: unknown type 'tabel'" in result.stderr
    assert "steps[0].inputs[0].type: unknown type 'tabel'" in result.stderr


def test_show_draws_the_tree() -> None:
    result = flowgen("show", EXAMPLE)
    assert result.returncode == 0
    out = result.stdout
    assert "trigger record_update" in out and '"Every time a user becomes inactive"' in out
    assert out.index("2. FOREACH") < out.index("3. update_record")
    assert "table = incident" in out


def test_score(tmp_path: Path) -> None:
    example = json.loads(EXAMPLE.read_text())
    wrong = flow(log(1), trigger=("record_update", {"table": "sys_user"}))
    broken = flow(log(1), log(3))  # orders 1, 3: a structure error
    gold = write_jsonl(
        tmp_path / "gold.jsonl",
        [
            {"id": "a", "installation": "acme-itsm", "flow": example},
            {"id": "b", "installation": "acme-itsm", "flow": example},
            {"id": "c", "installation": "acme-itsm", "flow": example},
            {"id": "d", "installation": "acme-itsm", "flow": None},
            {"id": "e", "installation": "acme-itsm", "flow": example},
        ],
    )
    pred = write_jsonl(
        tmp_path / "pred.jsonl",
        [
            {"id": "a", "flow": example},
            {"id": "b", "flow": wrong},
            {"id": "c", "flow": "Sure! Here is your flow: {"},
            {"id": "d", "flow": None},
            {"id": "e", "flow": broken},
            {"id": "zzz", "flow": None},
        ],
    )
    per_case = tmp_path / "cases.jsonl"
    result = flowgen("score", pred, gold, "--per-case", per_case)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert set(summary) == SUMMARY_KEYS
    assert summary["n"] == 5
    assert summary["unparseable_rate"] == pytest.approx(1 / 5)
    assert summary["structure_error_rate"] == pytest.approx(2 / 5)  # c and e
    rows = {r["id"]: r for r in map(json.loads, per_case.read_text().splitlines())}
    assert rows["a"]["flowsim_full"] == 1.0 and rows["d"]["flowsim_full"] == 1.0
    assert rows["c"]["flowsim_full"] == 0.0 and rows["c"]["unparseable"]
    assert 0 < rows["e"]["flowsim_outline"] < 1 and rows["e"]["flowsim_outline_validated"] == 0
    assert 0 < rows["b"]["flowsim_outline"] < 1
    expected = sum(r["flowsim_full"] for r in rows.values()) / 5
    assert summary["flowsim_full"] == pytest.approx(expected)
    assert "match no gold case" in result.stderr


def test_score_with_catalog_zeroes_catalog_errors(tmp_path: Path) -> None:
    gold_flow = flow(step(1, "look_up_record", table="incident"))
    pred_flow = flow(step(1, "look_up_record", table="incidnet"))
    gold = write_jsonl(
        tmp_path / "gold.jsonl", [{"id": "a", "installation": "acme-itsm", "flow": gold_flow}]
    )
    pred = write_jsonl(tmp_path / "pred.jsonl", [{"id": "a", "flow": pred_flow}])
    plain = json.loads(flowgen("score", pred, gold).stdout)
    checked = json.loads(flowgen("score", pred, gold, "--catalog", CATALOG).stdout)
    assert plain["flowsim_full_validated"] > 0
    assert checked["flowsim_full_validated"] == 0
    assert checked["flowsim_full"] == plain["flowsim_full"]


def test_score_rejects_bad_case_lines(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    gold.write_text('{"id": "a", "flow": null}\n{"id": "a" oops\n')
    pred = write_jsonl(tmp_path / "pred.jsonl", [{"id": "a", "flow": None}])
    result = flowgen("score", pred, gold)
    assert result.returncode == 2
    assert f"{gold}:2: not valid JSON" in result.stderr and "Traceback" not in result.stderr
    result = flowgen("score", pred, tmp_path / "nope.jsonl")
    assert result.returncode == 2 and "cannot read" in result.stderr


def test_commands_are_found_where_a_user_looks(tmp_path: Path) -> None:
    """`eval run|compare` and `data build|synth|check` are subcommands, and the shipped
    files are found from any working directory."""
    evals = flowgen("eval", "--help", cwd=tmp_path)
    assert evals.returncode == 0
    assert " run " in evals.stdout and " compare " in evals.stdout
    data = flowgen("data", "--help", cwd=tmp_path)
    assert all(f" {name} " in data.stdout for name in ("build", "synth", "check"))
    # A shipped catalog by its installation id, from a folder that is not the checkout.
    shipped = flowgen("validate", EXAMPLE, "--catalog", "acme-itsm", cwd=tmp_path)
    assert shipped.returncode == 0, shipped.stderr
    assert "structure and catalog" in shipped.stdout
    unknown = flowgen("validate", EXAMPLE, "--catalog", "acme-itsm-v9", cwd=tmp_path)
    assert unknown.returncode == 2 and "nor a shipped catalog (acme-itsm," in unknown.stderr
    # The corpus's default paths are the repository's: outside it the error names them.
    check = flowgen("data", "check", "--no-embed", cwd=tmp_path)
    assert check.returncode == 2 and "data/*.jsonl" in check.stderr
