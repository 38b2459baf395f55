"""Malformed flows and catalogs give clear, path-named errors, never a traceback."""

from __future__ import annotations

import json

import pytest
import yaml
from conftest import REPO

from flowgen.flow.catalog import CatalogError, load_catalog, parse_catalog
from flowgen.flow.parsing import load_flow
from flowgen.flow.validator import validate_flow


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a flow is a JSON object, got list"),
        ('"a string"', "a flow is a JSON object, got str"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
    ],
)
def test_bad_text(raw: str, expected: str) -> None:
    loaded = load_flow(raw)
    assert loaded.flow is None and expected in loaded.problems[0]


def test_wrong_types_name_the_path() -> None:
    raw = {
        "trigger": {"type": "daily", "inputs": [{"name": "time", "value": 9}]},
        "components": [
            {"order": 1, "category": "action", "definition": "log"},
            {"order": 2, "category": "robot", "definition": "x"},
            {"order": 3, "category": "action"},
        ],
    }
    problems = load_flow(raw).problems
    joined = "\n".join(problems)
    assert "trigger.inputs[0].value: input should be a valid string, got int 9" in joined
    assert "components[1].category: unknown value 'robot'" in joined
    assert "components[2].definition: required key is missing" in joined
    assert len(problems) == 3  # every problem, not just the first


def test_huge_flow_is_rejected_cleanly() -> None:
    big = json.dumps(
        {"components": [{"order": 1, "category": "action", "definition": "x" * 2_000_000}]}
    )
    assert [e.code for e in validate_flow(big).errors] == ["too_large"]
    # A case line's already-decoded flow gets the same limit.
    assert [e.code for e in validate_flow(json.loads(big)).errors] == ["too_large"]


def test_catalog_problems_are_all_named_by_path() -> None:
    data = yaml.safe_load((REPO / "catalogs" / "acme-itsm.yaml").read_text())
    data["steps"][3]["inputs"][1]["type"] = "tabel"
    data["steps"][5]["inputs"][0]["requried"] = True
    data["tables"][1]["extends"] = "tsk"
    data["tables"][2]["columns"].append({"name": "x", "type": "reference"})
    with pytest.raises(CatalogError) as info:
        parse_catalog(data, "acme.yaml")
    problems = info.value.problems
    assert "steps[3].inputs[1].type: unknown type 'tabel'" in problems[0]
    assert any(p.startswith("steps[5].inputs[0].requried: unknown key") for p in problems)
    # Cross-reference problems are found once the shapes are right.
    data["steps"][3]["inputs"][1]["type"] = "table"
    del data["steps"][5]["inputs"][0]["requried"]
    with pytest.raises(CatalogError) as info:
        parse_catalog(data, "acme.yaml")
    assert info.value.problems == [
        "tables[1].extends: unknown table 'tsk'",
        "tables[2].columns[10].reference: a reference column names its table",
    ]


def test_catalog_file_errors(tmp_path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("installation: [unclosed\n")
    with pytest.raises(CatalogError, match="not valid yaml"):
        load_catalog(bad_yaml)
    with pytest.raises(CatalogError, match="no such file"):
        load_catalog(tmp_path / "missing.yaml")
    not_mapping = tmp_path / "list.json"
    not_mapping.write_text("[1]")
    with pytest.raises(CatalogError, match="a catalog is a mapping"):
        load_catalog(not_mapping)


def test_inherited_columns(catalog) -> None:
    assert catalog.column("incident", "assigned_to").reference == "sys_user"  # from task
    assert catalog.column("incident", "state").choice_values() == {"1", "2", "3", "6", "7", "8"}
    assert catalog.column("sys_user", "assigned_to") is None
