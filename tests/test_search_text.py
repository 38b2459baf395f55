"""Query rewriting of the hybrid ranker (no database needed)."""

from flowgen.db.lexicon import expansion
from flowgen.db.search import name_variants, tsquery_text


def test_verbs_imply_record_operations() -> None:
    assert expansion("set the incident to resolved") == "update record"
    assert expansion("find all incidents assigned to them") == "look up records multiple records"
    assert expansion("purge closed incidents") == "delete records"
    assert expansion("email the caller") == ""
    assert expansion("settle the invoice") == ""  # whole words only


def test_name_variants() -> None:
    assert "incident" in name_variants("#incident")
    assert "incident" in name_variants("Incident table")
    assert "look_up_records" in name_variants("look up records")


def test_tsquery_is_an_or_of_words() -> None:
    assert tsquery_text("Find the user's manager!") == "find | the | user | s | manager"
    assert tsquery_text("!!!") is None
