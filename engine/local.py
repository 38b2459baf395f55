"""The transformers engine: peft LoRA adapters on the fp32 base model, CPU or GPU.

The reference runtime (training runs on it, tests compare against it); the embedded
default is llama.cpp (engine/llamacpp.py). One base model, any number of LoRA adapters
chosen per request. The token loop is the shared one (engine/decoding.py); the KV cache
of the last call is reused when the next prompt starts the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flowgen.engine.base_model import ensure_base_model
from flowgen.engine.decoding import ConstrainedDecoder, common_prefix
from flowgen.settings import get_settings, quiet_hf_libraries


def cpu_flags() -> set[str]:
    """The CPU's feature flags (/proc/cpuinfo; none where it cannot be read)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="ignore") as fh:
            line = next((line for line in fh if line.startswith("flags")), "")
    except OSError:
        return set()
    return set(line.partition(":")[2].split())


def cpu_has_fast_bf16() -> bool:
    """bf16 autocast only where the CPU computes bf16 natively (AVX512-BF16 or AMX).

    Elsewhere it is emulated: on this project's AVX2 machines it made decoding 1.6x
    slower and the first token 6x slower than fp32. `FLOWGEN_BF16=0/1` overrides."""
    forced = get_settings().bf16
    if forced is not None:
        return forced
    return bool({"avx512_bf16", "amx_bf16"} & cpu_flags())


class LocalEngine(ConstrainedDecoder):
    def __init__(
        self,
        model_dir: Path | None = None,
        adapters: dict[str, Path] | None = None,
        *,
        bf16: bool | None = None,
        prefix_cache: bool = True,
    ):
        quiet_hf_libraries()
        import torch
        from transformers import AutoModelForCausalLM

        self._torch = torch
        path = model_dir or ensure_base_model()
        # A GPU when torch sees one (a larger base tuned or evaluated on the GPU machine);
        # the embedded default runs on the CPU. Logits come back to the CPU for xgrammar.
        self.device = "cuda" if torch.cuda.is_available() else "cpu"
        # transformers' decorator on `to` types its argument as a model; a device is right.
        model = AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32).to(self.device)  # type: ignore[arg-type]
        model.eval()
        super().__init__(path, vocab_size=model.config.vocab_size)
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
            # On the CPU this engine is the reference the others are measured against, so
            # it computes in fp32 unless `FLOWGEN_BF16=1`: under autocast its greedy
            # answers matched fp32 ones on 92% of dev calls (docs/engine.md, "Choosing
            # the runtime"). Training keeps autocast where the CPU has native bf16.
            on_gpu = self.device == "cuda"
            bf16 = torch.cuda.is_bf16_supported() if on_gpu else get_settings().bf16 is True
        self.bf16 = bf16
        self.use_prefix_cache = prefix_cache
        self._prefix: _PrefixCache | None = None
        self._past: Any = None

    def adapters(self) -> list[str]:
        return list(self._adapters)

    @property
    def max_context(self) -> int:
        return int(self.model.config.max_position_embeddings)

    # -- the model, for ConstrainedDecoder -------------------------------------------------
    def _forward(self, ids: list[int]) -> Any:
        torch = self._torch
        feed = torch.tensor([ids], device=self.device)
        with (
            torch.inference_mode(),
            torch.autocast(self.device, dtype=torch.bfloat16, enabled=self.bf16),
        ):
            out = self.model(input_ids=feed, cache=self._past, use_cache=True)
        # A copy: the loop masks the logits in place (without autocast `.float()` makes
        # none, and the numpy view would share the model's output).
        return out.logits[0, -1, :].float().cpu().numpy().copy()

    def _prefill(self, adapter: str | None, prompt_ids: list[int]) -> tuple[int, Any]:
        from transformers import DynamicCache

        self._activate(adapter)
        reused = 0
        cached = self._prefix
        if self.use_prefix_cache and cached is not None and cached.adapter == adapter:
            reused = common_prefix(cached.tokens, prompt_ids)
        if reused:
            self._past = cached.past  # type: ignore[union-attr]
            surplus = self._past.get_seq_length() - reused
            if surplus > 0:
                self._past.crop(-surplus)  # transformers 5: a negative count removes tokens
        else:
            self._past = DynamicCache()
        return reused, self._forward(prompt_ids[reused:])

    def _feed(self, token: int) -> Any:
        return self._forward([token])

    def _drop(self, n: int) -> None:
        if n > 0:  # crop(0) would empty the cache
            self._past.crop(-n)

    def _finish(self, adapter: str | None, fed: list[int]) -> None:
        self._prefix = _PrefixCache(adapter, fed, self._past)
        self._past = None

    def _activate(self, adapter: str | None) -> None:
        """Run the model with `adapter` (None: the base model, adapters disabled)."""
        if not self._adapters:
            return
        if adapter is None:
            self.model.base_model.disable_adapter_layers()
            return
        self.model.base_model.enable_adapter_layers()
        self.model.set_adapter(adapter)


@dataclass
class _PrefixCache:
    adapter: str | None
    tokens: list[int]  # exactly the tokens whose keys and values `past` holds
    past: Any  # a transformers DynamicCache
