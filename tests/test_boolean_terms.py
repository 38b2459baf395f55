"""A query's term on a boolean column takes `true` or `false`: the small model had
written `escalatedCHANGESTOnegative` (the value of the sentiment choice beside it) as a
case trigger's condition. Gold writes every one of its 1,294 boolean terms so."""

from __future__ import annotations

from typing import Any

import pytest
from flows import flow, grammar_rejections, step

REQUIREMENT = "Every time a user becomes inactive, lock the user out."


def _answered(condition: str, values: str) -> dict[str, Any]:
    return flow(
        step(
            1,
            "update_record",
            annotation="lock the user out",
            table_name="sys_user",
            record="{{trigger.current}}",
            values=values,
        ),
        trigger=("record_update", {"table": "sys_user", "condition": condition}),
        annotation="Every time a user becomes inactive",
    )


@pytest.mark.parametrize(
    ("condition", "values", "refused"),
    [
        ("activeCHANGESTOfalse", "locked_out=true", []),
        ("active=false^vip!=true", "locked_out=false", []),
        ("activeCHANGESTOinactive", "locked_out=true", ["trigger"]),
        ("activeCHANGESTOfalse", "locked_out=yes", ["step 1"]),
    ],
)
def test_a_boolean_column_takes_true_or_false(
    synced_store, condition: str, values: str, refused: list[str]
) -> None:
    rejected = grammar_rejections(synced_store, _answered(condition, values), REQUIREMENT)
    assert sorted(rejected) == refused, rejected
