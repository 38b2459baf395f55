"""Draft tokens for speculative decoding, looked up in the prompt (prompt lookup decoding).

Much of what the graph's model calls write is copied: an outline's annotations are
spans of the requirement, a step's inputs repeat table and column names from the
prompt's suggestions or the example flow's values. When the last tokens written also
occur in the prompt, the tokens that followed them there are a good guess at what comes
next. The decoding loop (engine/decoding.py) runs the guess through the model in one
batch with the token just chosen, which costs a CPU little more than one token, and
keeps the longest run of guesses the model itself would have chosen: the answer is
exactly the one decoded a token at a time, only sooner.
"""

from __future__ import annotations

MIN_NGRAM = 2  # a single shared token predicts the next one too rarely to pay for its batch
MAX_NGRAM = 4
DRAFT_TOKENS = 8


class PromptLookup:
    """The tokens that followed the most recent earlier occurrence of the sequence's last
    n tokens (longest n first), in the prompt or the answer so far."""

    def __init__(
        self,
        prompt: list[int],
        *,
        min_ngram: int = MIN_NGRAM,
        max_ngram: int = MAX_NGRAM,
        draft_tokens: int = DRAFT_TOKENS,
    ):
        self.tokens: list[int] = []
        self.min_ngram = min_ngram
        self.max_ngram = max_ngram
        self.draft_tokens = draft_tokens
        # n-gram -> the position just after its most recent occurrence
        self._after: dict[tuple[int, ...], int] = {}
        self.extend(prompt)
        self.prompt_length = len(prompt)

    def extend(self, tokens: list[int]) -> None:
        for token in tokens:
            self.tokens.append(token)
            end = len(self.tokens)
            # Indexed only up to the previous token: the n-grams ending at the last one
            # are what the next lookup asks for, so their own occurrence must not answer.
            for n in range(self.min_ngram, self.max_ngram + 1):
                if end - 1 >= n:
                    self._after[tuple(self.tokens[end - 1 - n : end - 1])] = end - 1

    def propose(self, then: list[int] | None = None) -> list[int]:
        """The guess; with `then`, the guess for after those tokens too (tokens certain
        to come next, not yet written: the grammar's forced text)."""
        tail = self.tokens[-self.max_ngram :] + (then or [])
        for n in range(self.max_ngram, self.min_ngram - 1, -1):
            if len(tail) < n:
                continue
            after = self._after.get(tuple(tail[-n:]))
            if after is not None:
                return self.tokens[after : after + self.draft_tokens]
        return []
