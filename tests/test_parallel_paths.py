"""Branches the words ask to run at once, put in a PARALLEL (graph/parallel_paths.py)."""

from __future__ import annotations

from flows import flow, gold_cases, shipped_catalogs, step

from flowgen.flow.model import Flow
from flowgen.graph.outline_repair import repair_outline
from flowgen.graph.parallel_paths import add_parallel_paths

MAJOR = (
    "When an incident is created with priority 1, the flow does the following in parallel."
    " First, it opens a Slack channel named after the incident number and posts the short"
    " description there. Second, it pages the on-call engineer of the PagerDuty service."
    " When both branches are complete, the flow adds a work note to the incident."
)


def outline(*steps: dict) -> Flow:
    return Flow.model_validate(
        flow(*steps, trigger=("record_create", {"table": "incident"}),
             annotation="When an incident is created with priority 1")
    )  # fmt: skip


def shape(f: Flow) -> list[tuple[str, int, str | None]]:
    depths = f.depths()
    return [(c.definition, depths[c.order], c.annotation) for c in f.components]


CHANNEL = "it opens a Slack channel named after the incident number"


def test_marked_branches_become_paths_and_the_join_stays_after() -> None:
    written = outline(
        step(1, "create_channel", annotation=CHANNEL),
        step(2, "post_message", annotation="posts the short description there"),
        step(3, "create_pagerduty_incident", annotation="it pages the on-call engineer"),
        step(4, "add_work_note", annotation="the flow adds a work note to the incident"),
    )  # fmt: skip
    new, added = add_parallel_paths(written, MAJOR)
    assert added == ["PARALLEL | the flow does the following in parallel"]
    assert shape(new) == [
        ("PARALLEL", 0, "the flow does the following in parallel"),
        ("PATH", 1, "First"),
        ("create_channel", 2, CHANNEL),
        ("post_message", 2, "posts the short description there"),
        ("PATH", 1, "Second"),
        ("create_pagerduty_incident", 2, "it pages the on-call engineer"),
        ("add_work_note", 0, "the flow adds a work note to the incident"),
    ]
    assert [c.order for c in new.components] == list(range(1, 8))


def test_a_step_written_inside_an_earlier_branch_s_loop_moves_to_its_own_branch() -> None:
    """soc-dev-voices-16 with adapter v11: the second branch's work note was written
    inside the first branch's loop, so the branches' steps were not in a row."""
    requirement = (
        "When a malware security incident moves to the Eradicate state, do the following in"
        " parallel. First, look up the hash observables of the incident; for each one, set its"
        " finding to Malicious. Second, run a Splunk search for the host and add the event"
        " count to the work notes. Finally, when both paths are done, set the risk score to 70."
    )
    written = outline(
        step(1, "look_up_records", annotation="look up the hash observables of the incident"),
        step(2, "FOREACH", category="flowlogic", annotation="for each one"),
        step(3, "update_record", 2, annotation="set its finding to Malicious"),
        step(4, "update_record", 2, annotation="add the event count to the work notes"),
        step(5, "run_splunk_search", annotation="run a Splunk search for the host"),
        step(6, "update_record", annotation="set the risk score to 70"),
    )  # fmt: skip
    new, added = add_parallel_paths(written, requirement)
    assert added == ["PARALLEL | do the following in parallel"]
    assert [(d, depth) for d, depth, _ in shape(new)] == [
        ("PARALLEL", 0),
        ("PATH", 1),
        ("look_up_records", 2),
        ("FOREACH", 2),
        ("update_record", 3),
        ("PATH", 1),
        ("run_splunk_search", 2),
        ("update_record", 2),
        ("update_record", 0),
    ]
    # where no PARALLEL can be built, the step stays where the model wrote it
    unasked = requirement.replace("do the following in parallel", "do the following")
    assert add_parallel_paths(written, unasked) == (written, [])


def test_the_outline_repairs_put_the_parallel_in_last() -> None:
    """After the other repairs (here the work note the flow adds at the join, said in the
    third person, is added since the forty-ninth session), with its trace key."""
    written = outline(
        step(1, "create_channel", annotation=CHANNEL),
        step(2, "create_pagerduty_incident", annotation="it pages the on-call engineer"),
    )
    repaired, changes = repair_outline(written, shipped_catalogs()["acme-itsm"], requirement=MAJOR)
    assert changes["uncovered_asks_added"] == ["update_record | adds a work note to the incident"]
    assert changes["parallel_paths_added"] == ["PARALLEL | the flow does the following in parallel"]
    assert [c.definition for c in repaired.components] == [
        "PARALLEL", "PATH", "create_channel", "PATH", "create_pagerduty_incident", "add_work_note",
    ]  # fmt: skip


def test_unmarked_steps_of_the_asking_sentence_are_a_path_each() -> None:
    requirement = (
        "When a knowledge article is published, notify its author and post a link in the"
        " Knowledge channel in Teams at the same time."
    )
    written = outline(
        step(1, "send_email", annotation="notify its author"),
        step(2, "post_a_message", annotation="post a link in the Knowledge channel"),
    )
    new, added = add_parallel_paths(written, requirement)
    assert added == ["PARALLEL | at the same time"]
    assert [(d, depth) for d, depth, _ in shape(new)] == [
        ("PARALLEL", 0), ("PATH", 1), ("send_email", 2), ("PATH", 1), ("post_a_message", 2),
    ]  # fmt: skip


def test_a_list_after_the_ask_and_a_loop_body() -> None:
    requirement = (
        "Every day, find the applications whose support ends within 90 days. For each one,"
        " do the following in parallel: create a Jira story for an upgrade plan. Email the"
        " owner of the application. Lastly, post the count to Teams."
    )
    written = outline(
        step(1, "look_up_records", annotation="find the applications whose support ends"),
        step(2, "FOREACH", category="flowlogic", annotation="For each one"),
        step(3, "create_issue", 2, annotation="create a Jira story for an upgrade plan"),
        step(4, "send_email", 2, annotation="Email the owner of the application"),
        step(5, "post_a_message", annotation="post the count to Teams"),
    )
    new, _ = add_parallel_paths(written, requirement)
    assert [(d, depth) for d, depth, _ in shape(new)] == [
        ("look_up_records", 0), ("FOREACH", 0), ("PARALLEL", 1), ("PATH", 2),
        ("create_issue", 3), ("PATH", 2), ("send_email", 3), ("post_a_message", 0),
    ]  # fmt: skip


def test_outlines_it_leaves_alone() -> None:
    one = step(1, "create_channel", annotation=CHANNEL)
    page = step(2, "create_pagerduty_incident", annotation="it pages the on-call engineer")
    # one branch with steps is no PARALLEL
    assert add_parallel_paths(outline(one), MAJOR)[1] == []
    # the branches' steps out of order: the model's own structure is kept
    swapped = outline({**page, "order": 1}, {**one, "order": 2})
    assert add_parallel_paths(swapped, MAJOR)[1] == []
    # nothing asks for it ("at once" means now)
    now = "When a user is deactivated, cut off their access at once: suspend Okta, email HR."
    assert add_parallel_paths(outline(one, page), now)[1] == []
    # a PARALLEL already written
    written = outline(
        step(1, "PARALLEL", category="flowlogic", annotation="in parallel"),
        step(2, "PATH", 1, category="flowlogic", annotation="First"),
        {**one, "order": 3, "block": 2},
        step(4, "PATH", 1, category="flowlogic", annotation="Second"),
        {**page, "order": 5, "block": 4},
    )
    assert add_parallel_paths(written, MAJOR)[1] == []


def test_gold_parallels_taken_out_come_back_and_no_other_flow_changes() -> None:
    """Every PARALLEL of the hand-written and synthetic train and dev gold flows, taken
    out (its PATHs' steps moved up), is put back as gold has it; flows without one stay."""
    restored = changed = total = 0
    for case in gold_cases("handwritten", "synthetic"):
        gold = Flow.model_validate(case.flow)
        if not any(c.definition == "PARALLEL" for c in gold.components):
            changed += bool(add_parallel_paths(gold, case.requirement)[1])
            continue
        total += 1
        new, _ = add_parallel_paths(_without_parallels(gold), case.requirement)
        restored += _structure(new) == _structure(gold)
    assert (restored, total, changed) == (246, 246, 0)


def _structure(f: Flow) -> list[tuple[str, int]]:
    return [(definition, depth) for definition, depth, _ in shape(f)]


def _without_parallels(f: Flow) -> Flow:
    gone = {c.order: c.block for c in f.components if c.definition in ("PARALLEL", "PATH")}

    def up(block: int | None) -> int | None:
        while block in gone:
            block = gone[block]
        return block

    kept = [
        c.model_copy(update={"block": up(c.block)}) for c in f.components if c.order not in gone
    ]
    return f.with_components(kept)
