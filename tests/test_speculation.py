"""Prompt lookup: the draft tokens speculative decoding runs ahead (engine/speculation.py)."""

from flowgen.engine.speculation import PromptLookup


def test_the_tokens_after_the_last_ngram_in_the_prompt_are_proposed() -> None:
    lookup = PromptLookup([1, 2, 3, 4, 5, 6, 7], draft_tokens=3)
    lookup.extend([9, 2, 3])
    assert lookup.propose() == [4, 5, 6]


def test_the_longest_and_most_recent_match_wins() -> None:
    lookup = PromptLookup([7, 2, 3, 10, 11, 1, 2, 3, 20, 21], draft_tokens=2)
    lookup.extend([5, 1, 2, 3])
    assert lookup.propose() == [20, 21]  # (1, 2, 3) beats the older (2, 3)


def test_nothing_is_proposed_without_a_shared_ngram_or_from_the_suffix_itself() -> None:
    lookup = PromptLookup([1, 2, 3])
    assert lookup.propose() == []  # (2, 3) occurs only as the suffix itself
    lookup.extend([8])
    assert lookup.propose() == []


def test_a_guess_can_follow_tokens_not_yet_written() -> None:
    # The grammar forces (2, 3) next: the guess is what followed them in the prompt.
    lookup = PromptLookup([1, 2, 3, 4, 5, 6], draft_tokens=2)
    lookup.extend([9])
    assert lookup.propose() == []
    assert lookup.propose([2, 3]) == [4, 5]
    assert lookup.tokens[-1] == 9  # nothing was written
