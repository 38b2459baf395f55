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
from pathlib import Path
from typing import Any

from flowgen.engine.base import EngineError
from flowgen.engine.base_model import ensure_tokenizer
from flowgen.engine.decoding import ConstrainedDecoder, common_prefix
from flowgen.engine.gguf_files import WeightType, adapter_gguf, base_model_gguf

DEFAULT_CONTEXT = 4096
DEFAULT_WEIGHTS: WeightType = "q8_0"

_QUIET: Any = None


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


class LlamaCppEngine(ConstrainedDecoder):
    def __init__(
        self,
        adapters: dict[str, Path] | None = None,
        *,
        weights: WeightType = DEFAULT_WEIGHTS,
        context: int = DEFAULT_CONTEXT,
        threads: int | None = None,
        prefix_cache: bool = True,
    ):
        quiet_llama()
        import llama_cpp

        self._llama_cpp = llama_cpp
        threads = threads or len(os.sched_getaffinity(0))
        model_file = base_model_gguf(weights)
        self._llm = llama_cpp.Llama(
            model_path=str(model_file),
            n_ctx=context,
            n_batch=512,
            n_ubatch=512,
            n_threads=threads,
            n_threads_batch=threads,
            verbose=False,
        )
        super().__init__(ensure_tokenizer(), vocab_size=self._llm.n_vocab())
        self.weights = weights
        self.context = context
        self.use_prefix_cache = prefix_cache
        self._lora: dict[str, Any] = {}
        for name, folder in (adapters or {}).items():
            path = adapter_gguf(folder)
            handle = llama_cpp.llama_adapter_lora_init(self._llm.model, str(path).encode())
            if not handle:
                raise EngineError(f"llama.cpp could not load adapter {name!r} from {folder}")
            self._lora[name] = handle
        # Freed before the interpreter tears down the ctypes bindings: left to
        # `Llama.__del__` at exit, the free function is already gone and Python prints
        # a traceback after every command.
        atexit.register(_close, weakref.ref(self._llm))
        self._active: str | bool | None = False  # False: nothing set yet
        self._cached: list[int] = []  # the tokens whose keys and values the cache holds
        self._cached_adapter: str | None = None

    def adapters(self) -> list[str]:
        return list(self._lora)

    @property
    def max_context(self) -> int:
        return self.context

    # -- the model, for ConstrainedDecoder -------------------------------------------------
    def _prefill(self, adapter: str | None, prompt_ids: list[int]) -> tuple[int, Any]:
        if len(prompt_ids) >= self.context:
            raise EngineError(
                f"the prompt is {len(prompt_ids)} tokens; the engine's context holds {self.context}"
            )
        self._activate(adapter)
        reused = 0
        if self.use_prefix_cache and self._cached_adapter == adapter:
            reused = common_prefix(self._cached, prompt_ids)
        # Llama.eval appends after `n_tokens` and drops whatever the cache held beyond it.
        self._llm.n_tokens = reused
        self._eval(prompt_ids[reused:])
        return reused, self._logits()

    def _feed(self, token: int) -> Any:
        if self._llm.n_tokens >= self.context:
            raise EngineError(f"the answer ran past the engine's context of {self.context}")
        self._eval([token])
        return self._logits()

    def _finish(self, adapter: str | None, fed: list[int]) -> None:
        self._cached = fed[: self._llm.n_tokens]
        self._cached_adapter = adapter

    def _eval(self, tokens: list[int]) -> None:
        try:
            self._llm.eval(tokens)
        except RuntimeError as exc:  # llama_decode's non-zero return
            self._cached = []
            raise EngineError(f"llama.cpp could not run the prompt: {exc}") from exc

    def _logits(self) -> Any:
        import numpy as np
        import torch

        row = self._llama_cpp.llama_get_logits_ith(self._llm.ctx, -1)
        # A copy: the grammar mask is applied in place, and llama.cpp reuses its buffer.
        values = np.ctypeslib.as_array(row, shape=(self.vocab_size,)).copy()
        return torch.from_numpy(values).unsqueeze(0)

    def _activate(self, adapter: str | None) -> None:
        if adapter == self._active:
            return
        llama_cpp = self._llama_cpp
        if adapter is None:
            rc = llama_cpp.llama_set_adapters_lora(self._llm.ctx, None, 0, None)
        else:
            handles = (llama_cpp.llama_adapter_lora_p_ctypes * 1)(self._lora[adapter])
            scales = (ctypes.c_float * 1)(1.0)
            rc = llama_cpp.llama_set_adapters_lora(self._llm.ctx, handles, 1, scales)
        if rc != 0:
            raise EngineError(f"llama.cpp could not switch to adapter {adapter!r}")
        self._active = adapter


def _close(ref: weakref.ref) -> None:
    llm = ref()
    if llm is not None:
        llm.close()
