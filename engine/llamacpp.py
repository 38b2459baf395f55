"""The embedded default engine: llama.cpp on the CPU, LoRA adapters per request.

The same base model and adapters as the transformers engine (engine/local.py), run by
llama.cpp's quantised CPU kernels: on this project's 2-core machines it processes
prompts faster than torch fp32 and decodes several times faster (docs/engine.md). The
grammar, sampling and stopping rules are the shared loop's (engine/decoding.py); this
module only runs the model: the prompt in batches, then one token at a time, keeping the
KV cache of the last call so a prompt that starts the same way runs only its new tail.

Adapters are the peft folders `flowgen train` writes, converted to llama.cpp's LoRA
GGUF on first use and cached by content (engine/gguf_files.py). All are loaded once;
a request switches the active one, which costs nothing but the cached prefix.
"""

from __future__ import annotations

import atexit
import ctypes
import os
import weakref
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowgen.engine.base import EngineError
from flowgen.engine.base_model import ensure_tokenizer
from flowgen.engine.decoding import ConstrainedDecoder, common_prefix
from flowgen.engine.gguf_files import WeightType, adapter_gguf, base_model_gguf, merged_model_gguf
from flowgen.engine.zero_pages import anonymous_memory, drop_zero_pages

DEFAULT_CONTEXT = 4096
# Tokens per forward pass while running a prompt. Without flash attention each pass
# holds its tokens' attention scores against the whole context (tokens × context × 9
# heads in f32: 37 MB for 256 tokens against 4,096), so the compute buffer grows with
# the batch: 96 tokens keep it at 19 MB, 12 MB less resident at the service's peak than
# 256, and ran prompts as fast or faster on 2 cores. The logits are bit for bit those
# of 256 unless one setting ends the prompt on a batch of a single token, which llama.cpp
# computes on its one-token kernel (docs/engine.md, "Memory").
PROMPT_BATCH = 96
# The smallest batch a prompt's last token runs in. llama.cpp computes the logits of a
# batch of one token on its one-token path, whose sums round otherwise (0.12-0.34 apart
# on recorded dev prompts); in any batch of two or more they are bit for bit the same.
# A prompt whose last token ran alone (all but one token served from the cache, as when
# the same request comes again, or a tail of 97 tokens) could get another answer.
LAST_BATCH = 2
DEFAULT_WEIGHTS: WeightType = "q8_0"

_QUIET: Any = None


def prompt_batches(n: int, size: int = PROMPT_BATCH, last: int = LAST_BATCH) -> list[int]:
    """Batch sizes for `n` prompt tokens: `size` each, but the last batch holds at least
    `last` tokens where `n` allows (97 tokens: 95 and 2, not 96 and 1)."""
    sizes = [size] * (n // size) + ([n % size] if n % size else [])
    if len(sizes) > 1 and sizes[-1] < last:
        sizes[-2] -= last - sizes[-1]
        sizes[-1] = last
    return sizes


def quiet_llama() -> None:
    """llama.cpp logs every tensor it loads to stderr; our users see none of it."""
    global _QUIET
    if _QUIET is not None:
        return
    import llama_cpp

    @llama_cpp.llama_log_callback
    def _drop(level: int, text: bytes, user_data: ctypes.c_void_p) -> None:
        return None

    _QUIET = _drop  # the C side keeps only a pointer: the callback must stay alive
    llama_cpp.llama_log_set(_QUIET, ctypes.c_void_p(0))


# Weight types whose matrix products ggml's AMX kernels would take (quantised blocks).
_UNQUANTISED: frozenset[str] = frozenset({"bf16", "f16", "f32"})


def check_amx_build(weights: WeightType, system_info: str) -> None:
    """Refuse quantised weights on a llama.cpp built with ggml's AMX kernels: on this
    project's AMX machines they segfault on the first batch (llama.cpp issue 20824),
    taking the process with them. `scripts/setup.sh` builds without them."""
    if weights in _UNQUANTISED or "AMX_INT8 = 1" not in system_info:
        return
    raise EngineError(
        f"FLOWGEN_WEIGHTS={weights}: this llama.cpp was built with ggml's AMX kernels,"
        " which crash on quantised weights (llama.cpp issue 20824). Rebuild it without"
        " them (bash scripts/setup.sh does) or use FLOWGEN_WEIGHTS=bf16."
    )


# ggml's type ids for the KV cache's keys (`type_k`).
_KEY_TYPES = {"f16": 1, "q8_0": 8}


@dataclass(frozen=True)
class _LaterRow:
    """The logits after the `position`-th token of the last batch, not yet copied."""

    position: int


class _Model:
    """One llama.cpp model and context, with what its KV cache holds."""

    def __init__(
        self,
        llama_cpp: Any,
        path: Path,
        context: int,
        threads: int,
        flash_attention: bool,
        keys: str,
    ):
        before = anonymous_memory()
        self.llm = llama_cpp.Llama(
            model_path=str(path),
            n_ctx=context,
            n_batch=PROMPT_BATCH,
            n_ubatch=PROMPT_BATCH,
            n_threads=threads,
            n_threads_batch=threads,
            flash_attn=flash_attention,
            type_k=_KEY_TYPES[keys],
            verbose=False,
        )
        # The cleared KV cache is zeros: given back, only the cells a call fills are
        # resident (engine/zero_pages.py).
        self.zero_pages_dropped = drop_zero_pages(before)
        # Freed before the interpreter tears down the ctypes bindings: left to
        # `Llama.__del__` at exit, the free function is already gone and Python prints
        # a traceback after every command.
        atexit.register(_close, weakref.ref(self.llm))
        self.active: str | bool | None = False  # the LoRA set; False: nothing set yet
        self.cached: list[int] = []  # the tokens whose keys and values the cache holds
        self.cached_adapter: str | None = None


class LlamaCppEngine(ConstrainedDecoder):
    speculative = True

    def __init__(
        self,
        adapters: dict[str, Path] | None = None,
        *,
        weights: WeightType = DEFAULT_WEIGHTS,
        context: int = DEFAULT_CONTEXT,
        threads: int | None = None,
        prefix_cache: bool = True,
        merged: Collection[str] = (),
        speculative: bool = True,
        flash_attention: bool = False,
        keys: str = "f16",
    ):
        """`merged` names adapters run as their own model, the adapter added into the
        base weights (engine/gguf_files.merged_model_gguf): no LoRA work per token, one
        more model in memory each. The others run as LoRA on the base model, which is
        loaded only when a request needs it. `keys`: the KV cache's type for keys, f16
        or q8_0 (half their memory; `FLOWGEN_KV_KEYS`)."""
        quiet_llama()
        import llama_cpp

        check_amx_build(weights, llama_cpp.llama_print_system_info().decode())
        self._llama_cpp = llama_cpp
        self._threads = threads or len(os.sched_getaffinity(0))
        adapters = adapters or {}
        unknown = set(merged) - set(adapters)
        if unknown:
            raise EngineError(f"cannot merge unknown adapter {sorted(unknown)[0]!r}")
        self.weights = weights
        self.context = context
        self.use_prefix_cache = prefix_cache
        self.speculative = speculative
        self.flash_attention = flash_attention
        if keys not in _KEY_TYPES:
            raise EngineError(f"KV cache keys {keys!r}: choose one of {', '.join(_KEY_TYPES)}")
        self.keys = keys
        self._merged: dict[str, _Model] = {
            name: self._model(merged_model_gguf(adapters[name], weights)) for name in merged
        }
        self._lora_files = {
            name: adapter_gguf(folder) for name, folder in adapters.items() if name not in merged
        }
        self._base: _Model | None = None
        self._lora: dict[str, Any] = {}
        if self._lora_files or not self._merged:
            self._load_base()
        self._current = self._base or next(iter(self._merged.values()))
        super().__init__(ensure_tokenizer(), vocab_size=self._current.llm.n_vocab())
        self._adapter_names = list(adapters)

    def _model(self, path: Path) -> _Model:
        return _Model(
            self._llama_cpp, path, self.context, self._threads, self.flash_attention, self.keys
        )

    def _load_base(self) -> _Model:
        if self._base is None:
            base = self._model(base_model_gguf(self.weights))
            for name, path in self._lora_files.items():
                handle = self._llama_cpp.llama_adapter_lora_init(base.llm.model, str(path).encode())
                if not handle:
                    raise EngineError(f"llama.cpp could not load adapter {name!r} from {path}")
                self._lora[name] = handle
            self._base = base
        return self._base

    def adapters(self) -> list[str]:
        return list(self._adapter_names)

    @property
    def max_context(self) -> int:
        return self.context

    # -- the model, for ConstrainedDecoder -------------------------------------------------
    def _prefill(self, adapter: str | None, prompt_ids: list[int]) -> tuple[int, Any]:
        if len(prompt_ids) >= self.context:
            raise EngineError(
                f"the prompt is {len(prompt_ids)} tokens; the engine's context holds {self.context}"
            )
        model = self._merged.get(adapter) if adapter is not None else None
        if model is None:
            model = self._load_base()
            self._activate(model, adapter)
        self._current = model
        reused = 0
        if self.use_prefix_cache and model.cached_adapter == adapter:
            # The answer must not depend on what the cache held: the last token never
            # runs alone (LAST_BATCH), so a prompt served but for one token gives one back.
            reused = common_prefix(model.cached, prompt_ids, left=LAST_BATCH)
        # Llama.eval appends after `n_tokens` and drops whatever the cache held beyond it.
        model.llm.n_tokens = start = reused
        for size in prompt_batches(len(prompt_ids) - reused):
            self._eval(prompt_ids[start : start + size])
            start += size
        return reused, self._logits()

    def _feed(self, token: int) -> Any:
        if self._current.llm.n_tokens >= self.context:
            raise EngineError(f"the answer ran past the engine's context of {self.context}")
        self._eval([token])
        return self._logits()

    def _feed_many(self, tokens: list[int]) -> list[Any]:
        llm = self._current.llm
        if llm.n_tokens + len(tokens) > self.context:
            raise EngineError(f"the answer ran past the engine's context of {self.context}")
        # Llama.eval asks llama.cpp for the last position's logits only; speculation needs
        # every position's, so the batch is set up here as eval does it, all flagged.
        start = llm.n_tokens
        llm._ctx.kv_cache_seq_rm(-1, start, -1)
        llm._batch.set_batch(batch=tokens, n_past=start, logits_all=True)
        try:
            llm._ctx.decode(llm._batch)
        except RuntimeError as exc:
            self._current.cached = []
            raise EngineError(f"llama.cpp could not run the tokens: {exc}") from exc
        llm.input_ids[start : start + len(tokens)] = tokens
        llm.n_tokens += len(tokens)
        # Only the first row is surely used; a guess's row (192 KB) is copied out of
        # llama.cpp's buffer when the model chose the guess before it (`_row`), which
        # the decoding loop does before it runs anything else. Most guesses are not.
        return [self._logits(0), *(_LaterRow(i) for i in range(1, len(tokens)))]

    def _row(self, logits: Any) -> Any:
        return self._logits(logits.position) if isinstance(logits, _LaterRow) else logits

    def _drop(self, n: int) -> None:
        # The next eval removes everything past `n_tokens` from the KV cache.
        self._current.llm.n_tokens -= n

    def _finish(self, adapter: str | None, fed: list[int]) -> None:
        self._current.cached = fed[: self._current.llm.n_tokens]
        self._current.cached_adapter = adapter

    def _eval(self, tokens: list[int]) -> None:
        try:
            self._current.llm.eval(tokens)
        except RuntimeError as exc:  # llama_decode's non-zero return
            self._current.cached = []
            raise EngineError(f"llama.cpp could not run the prompt: {exc}") from exc

    def _logits(self, position: int = -1) -> Any:
        """The logits after the `position`-th token of the last batch run."""
        import numpy as np

        row = self._llama_cpp.llama_get_logits_ith(self._current.llm.ctx, position)
        # A copy: the grammar mask is applied in place, and llama.cpp reuses its buffer.
        return np.ctypeslib.as_array(row, shape=(self.vocab_size,)).copy()

    def _activate(self, model: _Model, adapter: str | None) -> None:
        if adapter == model.active:
            return
        llama_cpp = self._llama_cpp
        if adapter is None:
            rc = llama_cpp.llama_set_adapters_lora(model.llm.ctx, None, 0, None)
        else:
            handles = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self._lora[adapter])
            scales = (ctypes.c_float * 1)(1.0)
            rc = llama_cpp.llama_set_adapters_lora(model.llm.ctx, handles, 1, scales)
        if rc != 0:
            raise EngineError(f"llama.cpp could not switch to adapter {adapter!r}")
        model.active = adapter


def _close(ref: weakref.ref) -> None:
    llm = ref()
    if llm is not None:
        llm.close()
