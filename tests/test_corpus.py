"""The corpus tooling: authoring format, features, checks, the synthetic generator, the
`flowgen data` commands, and training examples made by replaying cases through the graph."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from flowgen.cli.app import app
from flowgen.flow.model import Flow, flow_json
from flowgen.flow.validator import validate_flow
from flowgen.prompts.line_format import LineFormatError
from flowgen.training.authoring import parse_authored
from flowgen.training.cases import (
    Case,
    CaseSourceError,
    authored_cases,
    read_cases,
    training_cases,
)
from flowgen.training.checks import check_cases, without_near_duplicates
from flowgen.training.features import flow_features
from flowgen.training.synthetic import LONG_RECIPES, Skip, _spans_ok, synthesize

REPO = Path(__file__).resolve().parent.parent
GOLD = [json.loads(line) for line in (REPO / "examples" / "gold.jsonl").read_text().splitlines()]
runner = CliRunner()

AUTHORED = """\
T record_update | Every time a user becomes inactive
  table = sys_user
  condition = activeCHANGESTOfalse
- look_up_records | find all incidents assigned to them
  table = incident
  conditions = assigned_to={{trigger.current}}^active=true
- FOREACH | find all incidents
  items = {{1.records}}
  - update_record | assign them to their manager
    table_name = incident
    record = {{2.item}}
    values = assigned_to={{trigger.current.manager}}
"""


def test_authoring_format_gives_the_gold_flow(catalog) -> None:
    flow = parse_authored(AUTHORED, catalog, name=GOLD[0]["flow"]["name"])
    assert flow is not None
    assert flow_json(flow) == GOLD[0]["flow"]
    assert parse_authored("REFUSE | not a workflow", catalog) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("  table = incident\nT daily | x\n", "line 1: an input before any trigger"),
        ("T daily | x\n    time = 1970-01-01 09:00:00\n- log | y\n", "line 2: inputs go 2"),
        ("T daily | x\n- teleport_user | y\n", "no step 'teleport_user'"),
        ("T daily | x\n  time 09:00\n- log | y\n", "line 2: line 1: expected `name = value`"),
    ],
)
def test_authoring_errors_name_the_line(catalog, text: str, message: str) -> None:
    with pytest.raises(LineFormatError, match=message):
        parse_authored(text, catalog)


def test_features_are_read_off_the_flow(catalog) -> None:
    flow = parse_authored(AUTHORED, catalog)
    assert flow_features(flow) >= {"record_update", "FOREACH", "dot_walk", "data_pill"}
    assert "multi_condition" in flow_features(flow) and "work_notes" not in flow_features(flow)
    assert flow_features(None) == {"refusal"}


BAD_STEP = """\
  - id: b
    requirement: y
    flow: |
      T daily | y
        time = 1970-01-01 09:00:00
      - teleport_user | y
"""


def test_a_source_file_reports_every_problem(tmp_path, catalog) -> None:
    source = tmp_path / "bad.yaml"
    source.write_text(
        "installation: acme-itsm\nsplit: dev\ncases:\n"
        "  - {id: a, requirement: x, tags: [spicy], flow: 'REFUSE | no'}\n" + BAD_STEP
    )
    with pytest.raises(CaseSourceError) as info:
        authored_cases(source, {"acme-itsm": catalog})
    assert len(info.value.problems) == 2
    assert "unknown tags ['spicy']" in info.value.problems[0]
    assert "teleport_user" in info.value.problems[1]


NOT_IN_CATALOG = """\
  - id: c
    requirement: Every morning, close the old incidents.
    flow: |
      T daily | Every morning
        time = 1970-01-01 09:00:00
      - look_up_records | find the old incidents
        table = incidnet
"""


def test_a_source_file_is_checked_against_the_catalog_and_the_requirement(
    tmp_path, catalog
) -> None:
    # The line format admits both problems; only the catalog and the requirement say no.
    source = tmp_path / "unchecked.yaml"
    source.write_text("installation: acme-itsm\nsplit: train\ncases:\n" + NOT_IN_CATALOG)
    with pytest.raises(CaseSourceError) as info:
        authored_cases(source, {"acme-itsm": catalog})
    problems = info.value.problems
    assert any("cases[0] (c)" in p and "incidnet" in p for p in problems)
    assert any("'find the old incidents' is not in the requirement" in p for p in problems)


def _case(case_id: str, requirement: str, flow: dict | None, split: str = "train") -> Case:
    return Case(
        id=case_id,
        installation="acme-itsm",
        requirement=requirement,
        flow=flow,
        split=split,  # type: ignore[arg-type]
        refusal="no" if flow is None else None,
    )


def test_check_finds_invalid_flows_bad_spans_duplicates_and_leaks(catalog) -> None:
    good = GOLD[0]["flow"]
    broken = json.loads(json.dumps(good))
    broken["components"][0]["inputs"][0]["value"] = "incidnet"
    off_span = json.loads(json.dumps(good))
    off_span["components"][0]["annotation"] = "find every ticket"
    cases = [
        _case("ok", GOLD[0]["requirement"], good),
        _case("broken", GOLD[0]["requirement"] + " now", broken, "dev"),
        _case("span", GOLD[0]["requirement"], off_span, "test"),
        _case("ok", "Write me a poem about the sea.", None, "ood"),
    ]
    report = check_cases(cases, {"acme-itsm": catalog}, embed=False)
    assert any("unknown_table" in p for p in report.invalid["broken"])
    assert any("not in the requirement" in p for p in report.invalid["span"])
    assert "duplicate id" in report.invalid["ok"]
    leaks = {(d.held_out, d.train) for d in report.near_duplicates}
    assert ("broken", "ok") in leaks and ("span", "ok") in leaks
    assert report.counts["split"] == {"train": 1, "dev": 1, "test": 1, "ood": 1}
    assert not report.ok


def test_synthetic_cases_are_valid_spanned_deterministic_and_train_only(catalog) -> None:
    excluded = "every friday at 5pm, find all open incidents and remind the assignee by email."
    cases, report = synthesize(catalog, 300, seed=7, exclude={excluded})
    again, _ = synthesize(catalog, 300, seed=7, exclude={excluded})
    assert [c.requirement for c in cases] == [c.requirement for c in again]
    assert report.made == 300 and not report.dropped
    assert len(report.per_recipe) >= 8
    assert {c.split for c in cases} == {"train"} and {c.source for c in cases} == {"synthetic"}
    assert len({c.requirement for c in cases}) == 300
    assert excluded not in {" ".join(c.requirement.lower().split()) for c in cases}
    check = check_cases(cases, {"acme-itsm": catalog}, embed=False)
    assert check.invalid == {}
    assert any(c.flow is None for c in cases)  # refusals are part of training
    for case in cases[:50]:
        assert validate_flow(case.flow, catalog).ok if case.flow else case.refusal


def test_synthetic_updates_of_many_records_are_written_as_the_hand_written_flows_write_them(
    catalog,
) -> None:
    """The same values for every record found: one update_multiple_records, as 33 of 37
    such updates in the hand-written train flows; a loop only where the words say each."""
    cases, _ = synthesize(catalog, 400, seed=7)
    many = loops = 0
    for case in cases:
        components = (case.flow or {}).get("components", [])
        many += sum(c["definition"] == "update_multiple_records" for c in components)
        for loop in (c for c in components if c["definition"] == "FOREACH"):
            body = [c for c in components if c.get("block") == loop["order"]]
            if len(body) != 1 or body[0]["definition"] != "update_record":
                continue
            values = next(i["value"] for i in body[0]["inputs"] if i["name"] == "values")
            if ".item" not in values:  # nothing of the record itself: the words said each
                loops += 1
                assert "each" in body[0]["annotation"], case.requirement
    assert many >= 10 and loops >= 1


def test_synthetic_cases_near_a_held_out_requirement_are_dropped_and_the_rest_kept() -> None:
    def case(id_: str, text: str, split: str) -> Case:
        return Case(id=id_, installation="acme-itsm", requirement=text, flow=None, split=split)

    held = [case("t1", "Create a subflow that takes an incident and posts a note", "test")]
    made = [
        case("s0", "Create a subflow that takes an incident and posts a work note", "train"),
        case("s1", "When a change is approved, email its requester", "train"),
    ]
    kept, found = without_near_duplicates(made, held, embed=False)
    assert [c.id for c in kept] == ["s1"]
    assert [(d.held_out, d.train) for d in found] == [("t1", "s0")] and found[0].jaccard >= 0.6


def test_synthetic_emails_leave_out_what_hand_written_emails_never_name(catalog) -> None:
    """No email names the optional `table_name` / `record`: none of the 62 emails of the
    hand-written train flows does, and the model copies what its examples show."""
    cases, _ = synthesize(catalog, 400, seed=7)
    emails = 0
    for case in cases:
        for c in (case.flow or {}).get("components", []):
            if c["definition"] == "send_email":
                emails += 1
                names = {i["name"] for i in c.get("inputs", [])}
                assert "ah_to" in names and not names & {"table_name", "record"}, case.requirement
    assert emails >= 50


@pytest.mark.parametrize("name", sorted(LONG_RECIPES))
def test_synthetic_long_recipe_makes_valid_long_spanned_flows(catalog, name) -> None:
    import random

    rng, made = random.Random(3), 0
    for _ in range(20):
        try:
            draft = LONG_RECIPES[name](rng, catalog)
        except Skip:
            continue
        requirement = draft.requirement[0].upper() + draft.requirement[1:]
        flow = parse_authored(draft.flow, catalog, name=requirement[:60])
        assert flow is not None and validate_flow(flow, catalog).ok, draft.flow
        assert 6 <= len(flow.components) <= 15
        assert _spans_ok(flow, requirement), (requirement, draft.flow)
        made += 1
    assert made >= 15
    cases, report = synthesize(catalog, 200, seed=5)
    assert not report.dropped and set(LONG_RECIPES) <= set(report.per_recipe)
    assert sum(1 for c in cases if c.flow and len(c.flow["components"]) >= 6) >= 30


def test_data_commands(tmp_path) -> None:
    checked = runner.invoke(
        app, ["data", "check", str(REPO / "data" / "handwritten.jsonl"), "--no-embed"]
    )
    assert checked.exit_code == 0, checked.output
    assert "0 invalid" in checked.output and "by feature" in checked.output
    sources = tmp_path / "src"
    sources.mkdir()
    (sources / "x.yaml").write_text("installation: acme-itsm\nsplit: dev\ncases:\n" + BAD_STEP)
    target = tmp_path / "out.jsonl"
    target.write_text("kept\n")
    built = runner.invoke(
        app,
        [
            "data",
            "build",
            "--sources",
            str(sources),
            "--out",
            str(target),
            "--catalogs",
            str(REPO / "catalogs"),
        ],
    )
    assert built.exit_code == 2 and "teleport_user" in built.output
    assert target.read_text() == "kept\n"  # a failed build leaves the file as it was


def test_examples_replay_the_graph_prompts(synced_store) -> None:
    from flowgen.training.examples import examples_for_case

    case = Case.model_validate({**GOLD[0], "split": "train"})
    examples, rejected = examples_for_case(case, synced_store)
    assert rejected == 0
    # the outline call, and the last inputs call, whose conversation holds every inputs call
    assert [e.task for e in examples] == ["outline", "inputs"]
    assert examples[0].answer.startswith("T record_update | Every time a user becomes inactive")
    conversation = examples[1].messages
    assert conversation[0] == examples[0].messages[0]  # the same system text, cached
    first = conversation[1]["content"]
    assert first.startswith(f"## Requirement\n{case.requirement}\n## Flow\nT record_update")
    assert not any("## Steps" in m["content"] for m in conversation)  # no catalog again
    answers = [m["content"] for m in conversation if m["role"] == "assistant"]
    assert answers[0] == "table = sys_user\ncondition = activeCHANGESTOfalse\n"
    assert len(answers) == 3  # the trigger and steps 1 and 2
    assert "## Step 3. update_record" in conversation[-1]["content"]


def test_training_cases_leave_refusals_to_the_guard_unless_asked() -> None:
    cases = read_cases([REPO / "data" / "handwritten.jsonl"])
    tenant, left = training_cases(cases, installation="globex-csm")
    assert tenant and left > 0
    assert all(c.split == "train" and c.installation == "globex-csm" for c in tenant)
    assert all(c.flow is not None for c in tenant)
    with_refusals, none_left = training_cases(
        cases, installation="globex-csm", refusal_examples=True
    )
    assert none_left == 0
    assert len(with_refusals) == len(tenant) + left
    general, _ = training_cases(cases, leave_out=["globex-csm"], refusal_examples=True)
    assert general and all(c.installation != "globex-csm" for c in general)


def test_rephrased_cases_train_but_stay_out_of_the_library() -> None:
    """Each rephrased case restates a hand-written train case's flow in another voice:
    it is trained on (every hand-written case is kept in a sample), never a library
    flow, and its source is a train case."""
    from flowgen.training.cases import source_case
    from flowgen.training.examples import library_cases

    original = read_cases([REPO / "data" / "handwritten.jsonl"])
    rephrased = read_cases([REPO / "data" / "rephrased" / "cases.jsonl"])
    by_id = {c.id: c for c in original}
    assert len(rephrased) >= 150
    for case in rephrased:
        source = by_id[source_case(case.id)]
        assert source.split == case.split == "train"
        assert _spanless(source.flow) == _spanless(case.flow)  # the same flow, other spans
        assert case.requirement != source.requirement
    chosen, _ = training_cases([*original, *rephrased], max_cases=10)
    assert {c.id for c in rephrased} <= {c.id for c in chosen}
    library = {c.id for c in library_cases([*original, *rephrased])}
    assert library and not library & {c.id for c in rephrased}


def _spanless(flow: dict | None) -> object:
    assert flow is not None
    trigger = {k: v for k, v in (flow.get("trigger") or {}).items() if k != "annotation"}
    steps = [{k: v for k, v in c.items() if k != "annotation"} for c in flow["components"]]
    return trigger, steps, flow.get("inputs"), flow.get("outputs")


def _subflows(chosen: list[Case]) -> int:
    return sum(c.flow is not None and Flow.model_validate(c.flow).is_subflow for c in chosen)


def _long_synthetic(chosen: list[Case]) -> int:
    return sum(c.source != "handwritten" and "long_flow" in c.features for c in chosen)


@pytest.mark.parametrize(
    ("subflow_share", "long_share", "counted", "at_least"),
    [(0.25, 0.0, _subflows, 10), (0.0, 0.8, _long_synthetic, 32)],
    ids=["subflows", "long flows"],
)
def test_a_share_puts_its_kind_in_a_small_sample(
    subflow_share: float,
    long_share: float,
    counted: Callable[[list[Case]], int],
    at_least: int,
) -> None:
    cases = read_cases([REPO / "data" / "handwritten.jsonl", REPO / "data" / "synthetic.jsonl"])
    hand = sum(c.split == "train" and c.source == "handwritten" for c in cases)
    plain, _ = training_cases(cases, refusal_examples=True, max_cases=hand + 40, seed=4)
    shared, _ = training_cases(
        cases,
        refusal_examples=True,
        max_cases=hand + 40,
        seed=4,
        subflow_share=subflow_share,
        long_share=long_share,
    )
    assert len(plain) == len(shared) == hand + 40
    assert counted(shared) >= at_least > counted(plain)
