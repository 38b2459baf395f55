"""The in-process engine: transformers + peft on the CPU, greedy decoding, xgrammar.

One base model, any number of LoRA adapters chosen per request. The decoding loop is
ours (not `model.generate`) so that each step can apply the grammar's token bitmask and
so that the KV cache of the last prompt can be reused when the next prompt starts the
same way (the populateInputs calls of one flow share most of their prompt).
"""

from __future__ import annotations

import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowgen.engine.base import (
    EngineError,
    GenerationRequest,
    GenerationResult,
    Timings,
    Usage,
)
from flowgen.engine.base_model import BASE_MODEL_NAME, ensure_base_model


def cpu_has_fast_bf16() -> bool:
    """bf16 autocast only where the CPU computes bf16 natively (AVX512-BF16 or AMX).

    Elsewhere it is emulated: on this project's AVX2 machines it made decoding 1.6x
    slower and the first token 6x slower than fp32. `FLOWGEN_BF16=0/1` overrides."""
    forced = os.environ.get("FLOWGEN_BF16")
    if forced in ("0", "1"):
        return forced == "1"
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            flags = next((line for line in fh if line.startswith("flags")), "")
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


@dataclass
class _PrefixCache:
    adapter: str | None
    tokens: list[int]
    past: Any  # a transformers DynamicCache holding `tokens`


class LocalEngine:
    def __init__(
        self,
        model_dir: Path | None = None,
        adapters: dict[str, Path] | None = None,
        *,
        bf16: bool | None = None,
        prefix_cache: bool = True,
    ):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        import torch
        import xgrammar as xgr
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self._torch = torch
        self._xgr = xgr
        path = model_dir or ensure_base_model()
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        # A GPU when torch sees one (a larger base tuned or evaluated on the GPU machine);
        # the embedded default runs on the CPU. Logits come back to the CPU for xgrammar.
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(self.device)
        model.eval()
        self._adapters: list[str] = []
        if adapters:
            from peft import PeftModel

            names = list(adapters)
            model = PeftModel.from_pretrained(model, adapters[names[0]], adapter_name=names[0])
            for name in names[1:]:
                model.load_adapter(adapters[name], adapter_name=name)
            self._adapters = names
        self.model = model
        if bf16 is None:
            on_gpu = self.device == "cuda"
            bf16 = torch.cuda.is_bf16_supported() if on_gpu else cpu_has_fast_bf16()
        self.bf16 = bf16
        self.use_prefix_cache = prefix_cache
        self._prefix: _PrefixCache | None = None
        self._lock = threading.Lock()  # one model, one decoding loop at a time
        self.vocab_size = model.config.vocab_size
        self.stop_token_ids = sorted(
            {
                t
                for t in (self.tokenizer.eos_token_id, self._token_id("<|im_end|>"))
                if t is not None
            }
        )
        # Special tokens other than the stops (`<|endoftext|>`, `<filename>`, ...) are text
        # to the grammar, so a constrained call could write them into a value; they are
        # never wanted in a flow, so constrained decoding masks them out.
        self.banned_token_ids = sorted(
            i
            for i, t in self.tokenizer.added_tokens_decoder.items()
            if t.special and i not in self.stop_token_ids and i < self.vocab_size
        )
        info = xgr.TokenizerInfo.from_huggingface(
            self.tokenizer, vocab_size=self.vocab_size, stop_token_ids=self.stop_token_ids
        )
        self._compiler = xgr.GrammarCompiler(info, max_threads=2)

    # -- Engine protocol -------------------------------------------------------------------
    @property
    def model_name(self) -> str:
        return BASE_MODEL_NAME

    def adapters(self) -> list[str]:
        return list(self._adapters)

    def tokenize(self, text: str) -> list[int]:
        return list(self.tokenizer(text, add_special_tokens=False).input_ids)

    def first_token_logprobs(
        self, request: GenerationRequest, top: int = 5, also: tuple[int, ...] = ()
    ) -> dict[int, float]:
        """Log-probabilities of the `top` tokens the model would write first, among those
        the grammar allows, and of the tokens in `also`, with the request's logit bias
        applied: what the greedy first choice is and by how much (used to tune the
        refusal bias). A token the grammar forbids has -inf."""
        torch, xgr = self._torch, self._xgr
        self._check_adapter(request)
        compiled = self.compile(request.grammar) if request.grammar else None
        matcher = xgr.GrammarMatcher(compiled) if compiled is not None else None
        bitmask = xgr.allocate_token_bitmask(1, self.vocab_size) if matcher else None
        prompt_ids = self.tokenize(self.render(request))
        with self._lock, torch.inference_mode(), self._select_adapter(request.adapter):
            with torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.bf16):
                feed = torch.tensor([prompt_ids], device=self.device)
                raw = self.model(input_ids=feed).logits[:, -1, :]
            logits = self._allowed_logits(raw, request, matcher, bitmask)
            logprobs = torch.log_softmax(logits[0], dim=-1)
            values, ids = torch.topk(logprobs, top)
            chosen = {int(i): float(v) for i, v in zip(ids, values, strict=True)}
            chosen.update({t: float(logprobs[t]) for t in also})
        return chosen

    def render(self, request: GenerationRequest) -> str:
        if request.messages is not None:
            return self.tokenizer.apply_chat_template(
                [m.model_dump() for m in request.messages],
                tokenize=False,
                add_generation_prompt=True,
            )
        if request.prompt is None:
            raise EngineError("a request needs `messages` or `prompt`")
        return request.prompt

    def compile(self, grammar: str) -> Any:
        """Compile an EBNF grammar (cached by xgrammar); raises EngineError if invalid."""
        try:
            return self._compiler.compile_grammar(grammar)
        except Exception as exc:  # xgrammar raises RuntimeError subclasses with the reason
            raise EngineError(f"invalid grammar: {exc}") from exc

    def generate(self, request: GenerationRequest) -> GenerationResult:
        self._check_adapter(request)
        compiled = self.compile(request.grammar) if request.grammar else None
        prompt_ids = self.tokenize(self.render(request))
        with self._lock:
            return self._decode(request, prompt_ids, compiled)

    # -- decoding --------------------------------------------------------------------------
    def _check_adapter(self, request: GenerationRequest) -> None:
        if request.adapter is not None and request.adapter not in self._adapters:
            known = ", ".join(self._adapters) or "none"
            raise EngineError(f"unknown adapter {request.adapter!r} (loaded: {known})")

    def _allowed_logits(
        self, raw: Any, request: GenerationRequest, matcher: Any, bitmask: Any
    ) -> Any:
        """The last position's logits on the CPU, biased as the request asks, with what
        the grammar forbids (and special tokens other than the stops) at -inf."""
        logits = raw.float().cpu()
        for token, bias in request.logit_bias.items():
            if 0 <= token < logits.shape[-1]:
                logits[:, token] += bias
        if matcher is not None:
            matcher.fill_next_token_bitmask(bitmask)
            self._xgr.apply_token_bitmask_inplace(logits, bitmask)
            logits[:, self.banned_token_ids] = float("-inf")
        return logits

    def _token_id(self, token: str) -> int | None:
        tid = self.tokenizer.convert_tokens_to_ids(token)
        return tid if isinstance(tid, int) and tid != self.tokenizer.unk_token_id else None

    def _select_adapter(self, adapter: str | None) -> Any:
        """A context manager running the model with `adapter` (None: the base model)."""
        from contextlib import nullcontext

        if not self._adapters:
            return nullcontext()
        if adapter is None:
            return self.model.disable_adapter()
        self.model.set_adapter(adapter)
        return nullcontext()

    def _reusable(self, adapter: str | None, prompt_ids: list[int]) -> tuple[int, Any]:
        """How many prompt tokens the cached KV covers, and the cache cropped to them."""
        cached = self._prefix
        if not self.use_prefix_cache or cached is None or cached.adapter != adapter:
            return 0, None
        n = 0
        limit = min(len(cached.tokens), len(prompt_ids) - 1)  # always feed >= 1 new token
        while n < limit and cached.tokens[n] == prompt_ids[n]:
            n += 1
        if n == 0:
            return 0, None
        surplus = cached.past.get_seq_length() - n
        if surplus > 0:
            cached.past.crop(-surplus)  # transformers 5: a negative count removes tokens
        return n, cached.past

    def _decode(
        self, request: GenerationRequest, prompt_ids: list[int], compiled: Any
    ) -> GenerationResult:
        torch, xgr = self._torch, self._xgr
        started = time.perf_counter()
        matcher = xgr.GrammarMatcher(compiled) if compiled is not None else None
        bitmask = xgr.allocate_token_bitmask(1, self.vocab_size) if matcher else None
        reused, past = self._reusable(request.adapter, prompt_ids)
        generated: list[int] = []
        finish = "length"
        first_token_s = 0.0
        with (
            torch.inference_mode(),
            torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.bf16),
            self._select_adapter(request.adapter),
        ):
            if past is None:
                from transformers import DynamicCache

                past = DynamicCache()
            feed = torch.tensor([prompt_ids[reused:]], device=self.device)
            for step in range(request.max_tokens):
                out = self.model(input_ids=feed, past_key_values=past, use_cache=True)
                logits = self._allowed_logits(out.logits[:, -1, :], request, matcher, bitmask)
                token = int(torch.argmax(logits, dim=-1))
                if step == 0:
                    first_token_s = time.perf_counter() - started
                if matcher is not None:
                    if not matcher.accept_token(token):  # cannot happen after the bitmask
                        finish = "grammar_rejected"
                        break
                    if matcher.is_terminated():
                        finish = "stop"
                        break
                elif token in self.stop_token_ids:
                    finish = "stop"
                    break
                generated.append(token)
                if request.stop and self._hit_stop(generated, request.stop):
                    finish = "stop"
                    break
                feed = torch.tensor([[token]], device=self.device)
        self._prefix = _PrefixCache(request.adapter, prompt_ids + generated, past)
        # Special tokens are kept: the grammar saw the vocabulary's special tokens (e.g.
        # `<filename>`) as text, so dropping them would return text the grammar never
        # accepted. Stop tokens are never in `generated`.
        text = self.tokenizer.decode(
            generated, skip_special_tokens=False, clean_up_tokenization_spaces=False
        )
        if request.stop:
            text = _cut_at_stop(text, request.stop)
        return GenerationResult(
            text=text,
            finish_reason=finish,
            usage=Usage(
                prompt_tokens=len(prompt_ids),
                completion_tokens=len(generated),
                cached_prompt_tokens=reused,
            ),
            timings=Timings(first_token_s=first_token_s, total_s=time.perf_counter() - started),
            model=self.model_name,
            adapter=request.adapter,
        )

    def _hit_stop(self, generated: list[int], stops: list[str]) -> bool:
        tail = self.tokenizer.decode(generated[-16:], skip_special_tokens=True)
        return any(s in tail for s in stops)


def _cut_at_stop(text: str, stops: list[str]) -> str:
    cuts = [text.index(s) for s in stops if s in text]
    return text[: min(cuts)] if cuts else text
