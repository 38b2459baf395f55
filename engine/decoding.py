"""One decoding loop for every in-process runtime: chat template, grammar, sampling, stops.

The embedded engines differ only in how they run the model: `LocalEngine` with
transformers + peft, `LlamaCppEngine` with llama.cpp. Both subclass `ConstrainedDecoder`
and supply three things (load the prompt, reusing what they can of the last one; feed
one token; remember what the cache holds); everything a caller can observe (which tokens
the grammar allows, how a token is chosen, when output stops, how a cut-off is flagged,
the time split) is decided here, once, so the runtimes cannot drift apart.

The loop needs neither torch nor transformers: logits are numpy arrays, the grammar is
matched by llguidance (our grammars are written in the GBNF dialect that xgrammar and
vLLM read; llguidance converts them), the tokenizer is `engine/tokenizer.py`. A serving
process that runs llama.cpp therefore never imports torch (docs/engine.md: memory).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from flowgen.engine.base import (
    EngineError,
    GenerationRequest,
    GenerationResult,
    Timings,
    Usage,
)
from flowgen.engine.base_model import BASE_MODEL_NAME
from flowgen.engine.grammar import to_lark
from flowgen.engine.speculation import DRAFT_TOKENS, PromptLookup
from flowgen.engine.tokenizer import ChatTokenizer

# Compiled grammars kept per engine. Most of a flow's grammars are its own (the offered
# names and the requirement's spans differ), so a cache barely pays: on 40 dev flows (143
# calls) 2 hit a cache of 2 and 6 one of 16, each hit saving a ~5 ms compile, while every
# kept matcher holds ~1 MB (its lexer's caches grow with use): 16 of them took 12 MB of
# the service's peak (docs/engine.md). Two keep a retry and an immediate repeat.
GRAMMAR_CACHE_SIZE = 2


class ConstrainedDecoder:
    """Tokenizer, grammar compiler and the token loop; subclasses run the model."""

    def __init__(self, tokenizer_dir: Path, vocab_size: int | None = None):
        import llguidance

        self._llg = llguidance
        self.tokenizer = ChatTokenizer(tokenizer_dir, n_vocab=vocab_size)
        self.vocab_size = vocab_size or len(self.tokenizer)
        self.stop_token_ids = self.tokenizer.stop_token_ids
        # Special tokens other than the stops (`<|endoftext|>`, `<filename>`, ...) are never
        # wanted in a flow; constrained decoding masks them out whatever the grammar says.
        self.banned_token_ids = sorted(
            i
            for i in self.tokenizer.special_ids
            if i not in self.stop_token_ids and i < self.vocab_size
        )
        self._never_drafted = frozenset(self.stop_token_ids) | frozenset(self.banned_token_ids)
        # The grammar ends the answer with any stop token (llguidance calls them EOS).
        self._lltokenizer = self.tokenizer.lltokenizer
        # A per-engine LRU: a failed compile raises and is not kept.
        self._compiled = lru_cache(maxsize=GRAMMAR_CACHE_SIZE)(self._compile)
        self._lock = threading.Lock()  # one model, one decoding loop at a time

    # -- what a runtime supplies --------------------------------------------------------
    def adapters(self) -> list[str]:
        raise NotImplementedError

    @property
    def max_context(self) -> int:
        """The most tokens (prompt and answer) one call can hold."""
        raise NotImplementedError

    def _prefill(self, adapter: str | None, prompt_ids: list[int]) -> tuple[int, Any]:
        """Run the prompt (reusing the cached prefix where it can) with `adapter` active;
        the number of prompt tokens served from cache and the last position's logits as
        a float32 numpy vector of length vocab."""
        raise NotImplementedError

    def _feed(self, token: int) -> Any:
        """Run one more token; the next logits, as `_prefill` returns them."""
        raise NotImplementedError

    def _finish(self, adapter: str | None, fed: list[int]) -> None:
        """The call is over: the cache now holds exactly the tokens `fed`."""

    # Runtimes that can run several tokens at once and return the logits after each set
    # this and supply `_feed_many` and `_drop`: the loop then decodes speculatively.
    speculative = False
    # Speculating, the text the grammar forces is run ahead first (benchmarks turn it off
    # to measure what it saves).
    draft_forced = True
    # The most tokens guessed ahead at once: as many as a batch costs little more than
    # one token to run.
    draft_tokens = DRAFT_TOKENS

    def _feed_many(self, tokens: list[int]) -> list[Any]:
        """Run `tokens`; the logits after each, as `_feed` returns them, or (after the
        first) a handle `_row` turns into them while no other tokens have run since."""
        raise NotImplementedError

    def _row(self, logits: Any) -> Any:
        """The logits `_feed_many` handed back for a later position, as a vector."""
        return logits

    def _drop(self, n: int) -> None:
        """Forget the last `n` tokens run (guesses the model did not choose)."""
        raise NotImplementedError

    # -- Engine protocol ----------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return BASE_MODEL_NAME

    def tokenize(self, text: str) -> list[int]:
        return self.tokenizer.encode(text)

    def render(self, request: GenerationRequest) -> str:
        if request.messages is not None:
            return self.tokenizer.apply_chat_template(
                [m.model_dump() for m in request.messages], add_generation_prompt=True
            )
        if request.prompt is None:
            raise EngineError("a request needs `messages` or `prompt`")
        return request.prompt

    def compile(self, grammar: str) -> Any:
        """A matcher for an EBNF grammar (GBNF dialect), in its start state: callers
        `deep_copy()` it. Compiled once per grammar text (the last GRAMMAR_CACHE_SIZE are
        kept); raises EngineError, naming the problem, if the grammar is invalid."""
        return self._compiled(grammar)

    def _compile(self, grammar: str) -> Any:
        llg = self._llg
        pristine = llg.LLMatcher(
            self._lltokenizer, llg.LLMatcher.grammar_from_lark(to_lark(grammar)), log_level=0
        )
        if pristine.is_error():
            raise EngineError(f"invalid grammar: {pristine.get_error()}")
        return pristine

    def _matcher(self, grammar: str | None) -> Any:
        """A fresh matcher for the grammar (None: unconstrained)."""
        return self.compile(grammar).deep_copy() if grammar else None

    def generate(self, request: GenerationRequest) -> GenerationResult:
        *_, result = self._run(request, deltas=False)
        assert isinstance(result, GenerationResult)
        return result

    def stream(self, request: GenerationRequest) -> Iterator[str | GenerationResult]:
        """Text deltas as tokens are chosen, then the result (`StreamingEngine`)."""
        return self._run(request, deltas=True)

    def _run(self, request: GenerationRequest, deltas: bool) -> Iterator[str | GenerationResult]:
        self._check_adapter(request)
        started = time.perf_counter()
        matcher = self._matcher(request.grammar)
        compile_s = time.perf_counter() - started
        prompt_ids = self.tokenize(self.render(request))
        with self._lock:
            yield from self._decode(request, prompt_ids, matcher, started, compile_s, deltas)

    def first_token_logprobs(
        self, request: GenerationRequest, top: int = 5, also: tuple[int, ...] = ()
    ) -> dict[int, float]:
        """Log-probabilities of the `top` tokens the model would write first, among those
        the grammar allows, and of the tokens in `also`, with the request's logit bias
        applied: what the greedy first choice is and by how much (used to tune the
        refusal bias). A token the grammar forbids has -inf."""
        self._check_adapter(request)
        matcher = self._matcher(request.grammar)
        prompt_ids = self.tokenize(self.render(request))
        with self._lock:
            _, raw = self._prefill(request.adapter, prompt_ids)
            self._finish(request.adapter, prompt_ids)
            logprobs = _log_softmax(self._allowed_logits(raw, request, matcher))
        best = np.argsort(-logprobs, kind="stable")[:top]
        chosen = {int(i): float(logprobs[i]) for i in best}
        chosen.update({t: float(logprobs[t]) for t in also})
        return chosen

    # -- the loop -----------------------------------------------------------------------
    def _decode(
        self,
        request: GenerationRequest,
        prompt_ids: list[int],
        matcher: Any,
        started: float,
        compile_s: float,
        deltas: bool,
    ) -> Iterator[str | GenerationResult]:
        """The token loop; with `deltas`, text is yielded as it becomes final (decoding
        the answer so far at every token, which `generate` has no use for)."""
        sampler = None
        if request.temperature > 0:
            sampler = np.random.default_rng(request.seed or 0)
        t = time.perf_counter()
        reused, logits = self._prefill(request.adapter, prompt_ids)
        prompt_s = time.perf_counter() - t
        fed = list(prompt_ids)
        generated: list[int] = []
        finish = "length"
        first_token_s = decode_s = mask_s = 0.0
        emitted = ""
        lookup = (
            PromptLookup(prompt_ids, draft_tokens=self.draft_tokens) if self.speculative else None
        )
        # Guessed tokens already run, each with the logits after it, not yet chosen.
        ahead: list[tuple[int, Any]] = []
        drafted = accepted = 0
        ended_at_line = False
        # Lines flagged by `ends_after_line` may be written again (`request.redo_lines`):
        # the allowed logits of each choice since the newline before the current line
        # (sparse: a dense row is 192 KB, and a line of 40 tokens held 8 MB of them), the
        # tokens barred at a position by a redo, and the logits to choose from next when a
        # redo has already worked them out.
        rewinds = request.ends_after_line is not None and request.redo_lines > 0
        redos = 0
        window: list[tuple[int, _Allowed]] = []
        barred: dict[int, set[int]] = {}
        preset: Any = None
        try:
            for step in range(request.max_tokens):
                t = time.perf_counter()
                if preset is None:
                    logits = self._allowed_logits(logits, request, matcher)
                else:
                    logits, preset = preset, None
                token = self._choose(logits, request.temperature, sampler)
                if (
                    request.may_end is not None
                    and token in self.stop_token_ids
                    and not request.may_end(self._text(generated))
                ):
                    token = self._without_stops(logits, request, sampler, token)
                mask_s += time.perf_counter() - t
                if step == 0:
                    first_token_s = time.perf_counter() - started
                if rewinds:
                    window.append((len(generated), _Allowed.of(logits)))
                if matcher is not None:
                    if not matcher.consume_token(token):  # cannot happen after the mask
                        finish = "grammar_rejected"
                        break
                    if token in self.stop_token_ids:
                        finish = "stop"
                        break
                elif token in self.stop_token_ids:
                    finish = "stop"
                    break
                generated.append(token)
                if matcher is not None and matcher.is_stopped():
                    # The grammar admits nothing more: the model could only choose a stop
                    # next, so running it once more would change nothing.
                    finish = "stop"
                    break
                if request.stop and self._hit_stop(generated, request.stop):
                    finish = "stop"
                    break
                # Only calls with a line hook need to know where lines end.
                ends_after_line = request.ends_after_line
                ends_line = ends_after_line is not None and "\n" in self._text([token])
                if (
                    ends_after_line is not None
                    and ends_line
                    and ends_after_line(self._text(generated))
                ):
                    back = None
                    if redos < request.redo_lines and (
                        request.may_redo is None or request.may_redo(self._text(generated))
                    ):
                        back = _least_certain(window[:-1], generated, self.stop_token_ids)
                    if back is None:
                        finish = "stop"
                        ended_at_line = True
                        break
                    # Write the line again from its least certain choice, which is barred
                    # there: the cache, the grammar and the guesses go back to before it.
                    redos += 1
                    at, allowed = back
                    if matcher is not None:
                        matcher.rollback(len(generated) - at)
                    if ahead:
                        self._drop(len(ahead))
                        ahead = []
                    self._drop(len(fed) - len(prompt_ids) - at)
                    del fed[len(prompt_ids) + at :]
                    barred = {p: bar for p, bar in barred.items() if p < at}
                    barred[at] = {generated[at], *barred.get(at, ()), *self.stop_token_ids}
                    del generated[at:]
                    window = [(p, row) for p, row in window if p < at]
                    preset = allowed.dense(len(logits))
                    preset[sorted(barred[at])] = -np.inf
                    if lookup is not None:
                        lookup = PromptLookup(prompt_ids, draft_tokens=self.draft_tokens)
                    continue
                if rewinds and ends_line:
                    window = window[-1:]  # a redo may still go back to this newline
                # Deltas are cut where decoding is stable (a token may be half a character)
                # and, where a line may be written again, before that line's newline.
                if deltas and not request.stop:
                    text = self._text(generated[: window[0][0]] if rewinds else generated)
                    if not text.endswith("\ufffd") and len(text) > len(emitted):
                        yield text[len(emitted) :]
                        emitted = text
                if step + 1 == request.max_tokens:
                    break  # the token budget is spent: no need to run the model again
                if ahead and ahead[0][0] == token:  # the model chose the guess: already run
                    fed.append(token)
                    logits = self._row(ahead.pop(0)[1])
                    accepted += 1
                    continue
                t = time.perf_counter()
                if ahead:  # it chose otherwise: the rest of the guesses leave the cache
                    self._drop(len(ahead))
                    ahead = []
                draft = self._draft(lookup, generated, matcher)
                if draft:
                    rows = self._feed_many([token, *draft])
                    logits = rows[0]
                    ahead = list(zip(draft, rows[1:], strict=True))
                    drafted += len(draft)
                else:
                    logits = self._feed(token)
                fed.append(token)
                decode_s += time.perf_counter() - t
        finally:
            if ahead:
                self._drop(len(ahead))
            self._finish(request.adapter, fed)
        # Special tokens are kept: the grammar saw the vocabulary's special tokens (e.g.
        # `<filename>`) as text, so dropping them would return text the grammar never
        # accepted. Stop tokens are never in `generated`.
        text = self._text(generated)
        if request.stop:
            text = _cut_at_stop(text, request.stop)
        if ended_at_line:  # the newline's token may carry the next line's indent
            text = text[: text.rfind("\n") + 1]
        if deltas and len(text) > len(emitted) and text.startswith(emitted):
            yield text[len(emitted) :]
        total_s = time.perf_counter() - started
        yield GenerationResult(
            text=text,
            finish_reason=finish,
            usage=Usage(
                prompt_tokens=len(prompt_ids),
                completion_tokens=len(generated),
                cached_prompt_tokens=reused,
                draft_tokens=drafted,
                accepted_draft_tokens=accepted,
                redone_lines=redos,
            ),
            timings=Timings(
                first_token_s=first_token_s,
                total_s=total_s,
                compile_s=compile_s,
                prompt_s=prompt_s,
                decode_s=decode_s,
                mask_s=mask_s,
            ),
            model=self.model_name,
            adapter=request.adapter,
        )

    def _draft(self, lookup: PromptLookup | None, generated: list[int], matcher: Any) -> list[int]:
        """Tokens to run ahead after the one just chosen (`generated[-1]`): the text the
        grammar forces next (the only tokens the model may choose, so certain to be
        kept), then the prompt lookup's guess, cut where the grammar would refuse it (a
        guess it refuses cannot be chosen, so running it is wasted)."""
        if lookup is None:
            return []
        lookup.extend(generated[len(lookup.tokens) - lookup.prompt_length :])
        forced: list[int] = []
        if matcher is not None and self.draft_forced:
            forced = matcher.compute_ff_tokens()[: lookup.draft_tokens]
        draft = (forced + lookup.propose(forced))[: lookup.draft_tokens]
        keep = 0
        while keep < len(draft) and draft[keep] not in self._never_drafted:
            keep += 1
        if matcher is not None and keep:
            keep = matcher.validate_tokens(draft[:keep])
        return draft[:keep]

    def _choose(self, logits: Any, temperature: float, sampler: Any) -> int:
        if sampler is None:
            return int(np.argmax(logits))  # the first of equal maxima, as torch.argmax
        scaled = logits.astype(np.float64) / temperature
        probs = np.exp(scaled - scaled.max())
        cumulative = np.cumsum(probs)
        drawn = sampler.random() * cumulative[-1]
        return int(min(np.searchsorted(cumulative, drawn, side="right"), len(probs) - 1))

    def _without_stops(
        self, logits: Any, request: GenerationRequest, sampler: Any, token: int
    ) -> int:
        """The choice with the stop tokens ruled out, if the grammar admits anything else."""
        logits[self.stop_token_ids] = -np.inf
        if not np.isfinite(logits).any():
            return token
        return self._choose(logits, request.temperature, sampler)

    def _text(self, tokens: list[int]) -> str:
        return self.tokenizer.decode(tokens)

    def _check_adapter(self, request: GenerationRequest) -> None:
        if request.adapter is not None and request.adapter not in self.adapters():
            known = ", ".join(self.adapters()) or "none"
            raise EngineError(f"unknown adapter {request.adapter!r} (loaded: {known})")

    def _allowed_logits(self, logits: Any, request: GenerationRequest, matcher: Any) -> Any:
        """The logits (a float32 vector) biased as the request asks, with what the
        grammar forbids (and special tokens other than the stops) at -inf. Modifies
        `logits` in place."""
        for token, bias in request.logit_bias.items():
            if 0 <= token < logits.shape[-1]:
                logits[token] += bias
        if matcher is not None:
            # One bit per token, least significant first within each 32-bit word.
            bits = np.frombuffer(matcher.compute_bitmask(), dtype=np.uint8)
            if matcher.is_error():
                raise EngineError(f"the grammar matcher failed: {matcher.get_error()}")
            allowed = np.unpackbits(bits, bitorder="little", count=len(logits)).astype(bool)
            logits[~allowed] = -np.inf
            logits[self.banned_token_ids] = -np.inf
        return self._rescore_best(logits, request.logit_bias)

    def _rescore_best(self, logits: Any, bias: dict[int, float]) -> Any:
        """The allowed, biased logits with the best few recomputed exactly, for runtimes
        whose logits are rounded (the bf16 engine's products): a rounding must not
        decide between two near-equal tokens. Others return `logits` as it is."""
        return logits

    def _hit_stop(self, generated: list[int], stops: list[str]) -> bool:
        tail = self.tokenizer.decode(generated[-16:], skip_special_tokens=True)
        return any(s in tail for s in stops)


@dataclass(frozen=True)
class _Allowed:
    """The allowed logits at one position, kept sparse: the tokens not at -inf, with
    their values (a grammar admits a handful of the 49k tokens at most positions)."""

    ids: Any  # int32 token ids, ascending
    values: Any  # their float32 logits

    @classmethod
    def of(cls, logits: Any) -> _Allowed:
        ids = np.flatnonzero(logits != -np.inf).astype(np.int32)
        return cls(ids, logits[ids])  # indexing by an array copies

    def dense(self, size: int) -> Any:
        row = np.full(size, -np.inf, dtype=np.float32)
        row[self.ids] = self.values
        return row


def _least_certain(
    window: list[tuple[int, _Allowed]], generated: list[int], stops: list[int]
) -> tuple[int, _Allowed] | None:
    """Of the choices in `window` (each position with its allowed logits), the one the
    chosen token won by the smallest margin over another allowed token that is not a
    stop (a line written again goes on: ending is what the answer does without redos);
    None when every choice was the only one."""
    best: tuple[float, int, _Allowed] | None = None
    for at, allowed in window:
        chosen = generated[at]
        others = ~np.isin(allowed.ids, [chosen, *stops])
        if not others.any():
            continue
        runner_up = float(allowed.values[others].max())
        mine = allowed.values[allowed.ids == chosen]
        margin = (float(mine[0]) if mine.size else -np.inf) - runner_up
        if best is None or margin < best[0]:
            best = (margin, at, allowed)
    return None if best is None else (best[1], best[2])


def _log_softmax(logits: Any) -> Any:
    """Log-probabilities of a logits vector (-inf stays -inf), in float64."""
    values = logits.astype(np.float64)
    top = values[np.isfinite(values)].max()
    return values - top - np.log(np.exp(values - top).sum())


def common_prefix(cached: list[int], prompt: list[int], left: int = 1) -> int:
    """How many leading tokens of `prompt` the cache can serve; at least `left` prompt
    tokens are always left to run (one at least, since its logits start the answer)."""
    n = 0
    limit = min(len(cached), len(prompt) - left)
    while n < limit and cached[n] == prompt[n]:
        n += 1
    return n


def _cut_at_stop(text: str, stops: list[str]) -> str:
    cuts = [text.index(s) for s in stops if s in text]
    return text[: min(cuts)] if cuts else text
