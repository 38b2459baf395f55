"""A choice named by its label after "to" or "as" (graph/labeled_choice.py)."""

from __future__ import annotations

import pytest
from flows import gold_steps, inputs_of, query_rule, shipped_catalogs

from flowgen.flow.encoded_query import join_parts, parse_query
from flowgen.graph.labeled_choice import labeled_choices, set_labeled_choices

ONBOARDING = ("acme-itsm", "x_acme_onboarding_request")
EQUIPMENT = "onboarding_stage=equipment"


@pytest.mark.unit
@pytest.mark.parametrize(
    ("where", "span", "values", "grounded"),
    [
        # the model's guess on a column the rest of the words never name gives way
        (ONBOARDING, "set the stage to equipment", "equipment_delivered=true", EQUIPMENT),
        (ONBOARDING, "set the stage to Equipment and note it", None, EQUIPMENT),
        # beside a named term; on the column's own term
        (
            ("acme-itsm", "change_request"),
            "send it back to Assess with a work note naming the freeze",
            "work_notes=Frozen",
            "work_notes=Frozen^state=-4",
        ),
        (ONBOARDING, "move it on to Ready", "onboarding_stage=accounts", "onboarding_stage=ready"),
        # a label several columns share: the one the words also name
        (("initech-secops", "sn_si_incident"), "raise the severity to High", None, "severity=1"),
    ],
)
def test_a_choice_named_by_its_label(
    where: tuple[str, str], span: str, values: str | None, grounded: str
) -> None:
    assert query_rule(set_labeled_choices, *where, span, values) == grounded


@pytest.mark.unit
@pytest.mark.parametrize(
    ("where", "span", "values"),
    [
        # shared by severity, priority, impact and urgency, and none named
        (("initech-secops", "sn_si_incident"), "raise it to High", None),
        # the label opens a longer name: a group, not the Network category
        (("acme-itsm", "incident"), "set the assignment group to Network Operations", None),
        # said already on another column
        (("acme-itsm", "sc_request"), "close it as rejected", "request_state=closed_rejected"),
        # no "to" or "as" before it
        (ONBOARDING, "once equipment is ready, email the manager", None),
    ],
)
def test_words_that_name_no_one_choice(
    where: tuple[str, str], span: str, values: str | None
) -> None:
    assert query_rule(set_labeled_choices, *where, span, values) is None


@pytest.mark.unit
def test_the_choices_words_name_no_other_column() -> None:
    columns = shipped_catalogs()["acme-itsm"].columns(ONBOARDING[1])
    named, rest = labeled_choices("set the stage to equipment", columns)
    assert named == [("onboarding_stage", "equipment", "equipment")]
    assert rest.split() == ["set", "the", "stage"]


@pytest.mark.unit
def test_no_gold_value_changes_and_a_named_choice_comes_back() -> None:
    """The updates and creates of the hand-written and synthetic train and dev flows: the
    rule changes none; with the named choice's term taken out, it writes it back."""
    catalogs = shipped_catalogs()
    changed: list[str] = []
    fired = exact = 0
    for case, item in gold_steps("handwritten", "synthetic"):
        if item["definition"] not in ("update_record", "create_record"):
            continue
        catalog = catalogs[case.installation]
        about = catalog.table(inputs_of(item).get("table_name") or "")
        values = inputs_of(item).get("values")
        if about is None or not values:
            continue
        span, columns = item.get("annotation") or "", catalog.columns(about.name)
        if set_labeled_choices(values, about.name, about.label, span, columns):
            changed.append(case.id)
        named = {column for column, _, _ in labeled_choices(span, columns)[0]}
        terms = parse_query(values)
        for drop, term in enumerate(terms):
            if term.field not in named:
                continue
            kept = join_parts([(t.connector, t.raw) for i, t in enumerate(terms) if i != drop])
            back = set_labeled_choices(kept or None, about.name, about.label, span, columns)
            fired += back is not None
            exact += back is not None and {t.raw for t in parse_query(back)} == {
                t.raw for t in terms
            }
    assert changed == []
    assert fired >= 1000
    assert exact / fired >= 0.9
