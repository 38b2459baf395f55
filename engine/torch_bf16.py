"""The embedded engine on CPUs with AMX: the model in bf16 on torch's oneDNN kernels.

On a CPU with AMX tiles (Intel Sapphire Rapids and later) torch multiplies bf16
matrices about fifteen times faster than llama.cpp's bf16 kernels do on the same two
cores (2.2 TFLOPS against ~150 GFLOPS on the shapes of a 256-token prompt), so prompts
run at ~2,500 tokens/s instead of ~550, and a batch of nine drafted tokens costs little
more than one. Decoding one token is bound by memory either way (~25 ms here against
llama.cpp's 17 ms). docs/engine.md has the measurements.

The network is SmolLM2's LLaMA block written out in torch (`Bf16Llama`) rather than run
through transformers: transformers' generic forward spends ~15 ms a token in Python and
cache bookkeeping, more than the matrix products of a 135M model, and its bf16 model
keeps the residual stream in bf16. Here the residual stream and the norms stay in fp32
(as llama.cpp keeps them), only the matrix products run in bf16, and the KV cache is one
preallocated tensor per layer, so dropping drafted tokens is moving a length back.

Adapters: the `default` one is added into its own copy of the weights (W + alpha/r·B·A,
in fp32, then bf16), like llama.cpp's merged model; the others run as LoRA on the base
weights, which are loaded only when a request needs them. The token loop, grammar and
speculation are the shared ones (engine/decoding.py).
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import json
import os
from collections.abc import Collection
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from flowgen.engine.base import EngineError
from flowgen.engine.base_model import ensure_base_model, ensure_tokenizer
from flowgen.engine.decoding import ConstrainedDecoder, common_prefix
from flowgen.engine.local import cpu_flags
from flowgen.settings import limit_onednn_kernel_cache

DEFAULT_CONTEXT = 4096
# Prompt tokens per forward pass: long enough for AMX's tiles to pay, short enough that
# the attention scores of a chunk (heads x chunk x context, fp32) stay a few MB.
PROMPT_CHUNK = 512
# Compiled products oneDNN keeps: the 17 decoding shapes (1 token and 1 + up to 16
# guesses) and a few dozen prompt lengths.
PRODUCT_CACHE = 64
# The batch size oneDNN lays the packed weights out for; the layout serves any batch
# (one token ran as fast as with a layout for one).
PACK_HINT = 256
_MODULES = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


def cpu_has_amx() -> bool:
    """AMX bf16 tiles: where this engine beats llama.cpp (docs/engine.md)."""
    return "amx_bf16" in cpu_flags()


def _pack(weight: Any) -> Any:
    """`weight` (bf16, out x in) in oneDNN's blocked layout, or as it is where torch has
    no oneDNN. Packed once, a product skips the per-call reorder of the weight: one
    token's pass over every weight of the model takes 4 ms instead of 7 per 30 MLP
    weights, a 256-token chunk 11 instead of 18 (docs/engine.md)."""
    import torch

    if not torch.backends.mkldnn.is_available() or not _onednn_bf16():
        return weight
    return torch.ops.mkldnn._reorder_linear_weight(weight, PACK_HINT)


@cache  # /proc/cpuinfo once, not once for each weight packed
def _onednn_bf16() -> bool:
    """Whether oneDNN packs bf16 weights on this CPU: it needs AVX-512 (BW, VL and DQ) or
    AVX-NE-CONVERT, and raises on a CPU with AVX2 alone, where torch's own bf16 product
    (emulated, slow) still runs."""
    flags = cpu_flags()
    return {"avx512bw", "avx512vl", "avx512dq"} <= flags or "avx_ne_convert" in flags


def _product(x: Any, weight: Any) -> Any:
    """x·weightᵀ for a weight `_pack` returned."""
    import torch

    if weight.is_mkldnn:
        return torch.ops.mkldnn._linear_pointwise(x, weight, None, "none", [], "")
    return torch.nn.functional.linear(x, weight)


@dataclass
class _Linear:
    """A packed bf16 weight, and optionally a LoRA beside it: y = xWᵀ + scale·(xAᵀ)Bᵀ."""

    weight: Any
    lora_a: Any = None
    lora_b: Any = None
    scale: float = 1.0

    def __call__(self, x: Any) -> Any:
        import torch.nn.functional as F

        y = _product(x, self.weight)
        if self.lora_a is not None:
            y = y + F.linear(F.linear(x, self.lora_a), self.lora_b) * self.scale
        return y


@dataclass
class _Layer:
    attn_norm: Any
    qkv: _Linear  # q, k and v projections stacked: one product instead of three
    out: _Linear
    mlp_norm: Any
    gate_up: _Linear  # gate and up stacked
    down: _Linear
    keys: Any = None  # (kv_heads, context, head_dim) bf16, allocated on first use
    values: Any = None


@dataclass
class _Config:
    hidden: int
    heads: int
    kv_heads: int
    head_dim: int
    intermediate: int
    layers: int
    eps: float
    rope_theta: float
    vocab: int

    @classmethod
    def read(cls, folder: Path) -> _Config:
        raw = json.loads((folder / "config.json").read_text())
        if raw.get("model_type") != "llama" or not raw.get("tie_word_embeddings"):
            raise EngineError(f"{folder}: the bf16 engine runs LLaMA models with tied embeddings")
        rope = raw.get("rope_parameters") or {}
        if rope.get("rope_type", "default") != "default":
            raise EngineError(f"{folder}: rope type {rope['rope_type']!r} is not supported")
        heads = int(raw["num_attention_heads"])
        return cls(
            hidden=int(raw["hidden_size"]),
            heads=heads,
            kv_heads=int(raw["num_key_value_heads"]),
            head_dim=int(raw.get("head_dim") or raw["hidden_size"] // heads),
            intermediate=int(raw["intermediate_size"]),
            layers=int(raw["num_hidden_layers"]),
            eps=float(raw["rms_norm_eps"]),
            rope_theta=float(rope.get("rope_theta", raw.get("rope_theta", 10000.0))),
            vocab=int(raw["vocab_size"]),
        )


@dataclass
class _Lora:
    scale: float
    pairs: dict[tuple[int, str], tuple[Any, Any]]  # (layer, module) -> (A, B), fp32

    @classmethod
    def read(cls, folder: Path) -> _Lora:
        import torch
        from safetensors import safe_open

        config_file = folder / "adapter_config.json"
        weights_file = folder / "adapter_model.safetensors"
        for f in (config_file, weights_file):
            if not f.is_file():
                raise EngineError(f"adapter folder {folder} has no {f.name}")
        config = json.loads(config_file.read_text())
        if config.get("peft_type") != "LORA" or config.get("use_dora") or config.get("use_rslora"):
            raise EngineError(f"{folder}: only plain LoRA adapters (no DoRA, no rsLoRA) run here")
        if config.get("rank_pattern") or config.get("alpha_pattern"):
            raise EngineError(f"{folder}: per-module ranks or alphas are not supported")
        found: dict[tuple[int, str], dict[str, Any]] = {}
        with safe_open(str(weights_file), "pt") as fh:
            for name in fh.keys():  # noqa: SIM118 (safe_open is not a mapping)
                # base_model.model.model.layers.{i}.{self_attn|mlp}.{module}.lora_{A,B}.weight
                parts = name.split(".")
                if "layers" not in parts or parts[-3] not in _MODULES:
                    raise EngineError(f"{folder}: unexpected adapter tensor {name}")
                layer = int(parts[parts.index("layers") + 1])
                found.setdefault((layer, parts[-3]), {})[parts[-2]] = fh.get_tensor(name).to(
                    torch.float32
                )
        pairs = {}
        for key, pair in found.items():
            if set(pair) != {"lora_A", "lora_B"}:
                raise EngineError(f"{folder}: adapter tensor {key} lacks lora_A or lora_B")
            pairs[key] = (pair["lora_A"], pair["lora_B"])
        return cls(float(config["lora_alpha"]) / float(config["r"]), pairs)


class Bf16Llama:
    """A LLaMA decoder (SmolLM2's shape) with its KV cache: bf16 weights and products,
    fp32 residual stream and norms."""

    def __init__(self, folder: Path, context: int, merged: _Lora | None = None):
        import torch
        from safetensors import safe_open

        self.torch = torch
        self.config = c = _Config.read(folder)
        self.context = context
        self.length = 0  # positions the KV cache holds
        bf16 = torch.bfloat16

        checkpoint = folder / "model.safetensors"

        def read(name: str) -> Any:
            # One tensor per opening: safetensors maps the whole file, and every page
            # read stays resident while the mapping lives; reading the checkpoint
            # through one mapping made the load peak 538 MB higher. A copy, so that
            # nothing kept holds the mapping.
            with safe_open(str(checkpoint), "pt") as fh:
                return fh.get_tensor(name).clone()

        def weight(layer: int, module: str, part: str) -> Any:
            w = read(f"model.layers.{layer}.{part}.{module}.weight")
            if merged is not None and (layer, module) in merged.pairs:
                a, b = merged.pairs[(layer, module)]
                w = w + merged.scale * (b @ a)
            return w.to(bf16)

        self.head = _pack(read("model.embed_tokens.weight").to(bf16))
        self.norm = read("model.norm.weight").float()
        self.layers = []
        for i in range(c.layers):
            attn = [weight(i, m, "self_attn") for m in ("q_proj", "k_proj", "v_proj")]
            mlp = [weight(i, m, "mlp") for m in ("gate_proj", "up_proj")]
            self.layers.append(
                _Layer(
                    attn_norm=read(f"model.layers.{i}.input_layernorm.weight").float(),
                    qkv=_Linear(_pack(torch.cat(attn))),
                    out=_Linear(_pack(weight(i, "o_proj", "self_attn"))),
                    mlp_norm=read(f"model.layers.{i}.post_attention_layernorm.weight").float(),
                    gate_up=_Linear(_pack(torch.cat(mlp))),
                    down=_Linear(_pack(weight(i, "down_proj", "mlp"))),
                )
            )
        # Token embeddings are read by row (the prompt's tokens, the few near-best logits
        # recomputed) straight from the checkpoint, mapped: only rows read are resident,
        # where a second bf16 copy beside the packed head would hold 57 MB.
        self.embed = _mapped_tensor(folder / "model.safetensors", "model.embed_tokens.weight")
        # Rotary tables as transformers computes them (fp32, then the activations' dtype).
        inv_freq = 1.0 / (
            c.rope_theta ** (torch.arange(0, c.head_dim, 2, dtype=torch.int64).float() / c.head_dim)
        )
        angles = torch.outer(torch.arange(context, dtype=torch.float32), inv_freq)
        angles = torch.cat((angles, angles), dim=-1)
        self.cos = angles.cos().to(bf16)
        self.sin = angles.sin().to(bf16)

    def use_lora(self, lora: _Lora | None) -> None:
        """Run with `lora` beside the weights (None: the weights alone)."""
        import torch

        c = self.config
        groups = {
            "qkv": ("q_proj", "k_proj", "v_proj"),
            "out": ("o_proj",),
            "gate_up": ("gate_proj", "up_proj"),
            "down": ("down_proj",),
        }
        for i, layer in enumerate(self.layers):
            for attr, modules in groups.items():
                linear: _Linear = getattr(layer, attr)
                if lora is None or not any((i, m) in lora.pairs for m in modules):
                    linear.lora_a = linear.lora_b = None
                    continue
                # Stacked modules get stacked A's and a block-diagonal B: one pair of
                # small products per stacked weight, exact for each module's rows.
                a_parts, b_blocks = [], []
                for module in modules:
                    pair = lora.pairs.get((i, module))
                    out_rows = _out_rows(c, module)
                    if pair is None:
                        width = c.intermediate if module == "down_proj" else c.hidden
                        a_parts.append(torch.zeros(1, width))
                        b_blocks.append(torch.zeros(out_rows, 1))
                    else:
                        a_parts.append(pair[0])
                        b_blocks.append(pair[1])
                linear.lora_a = torch.cat(a_parts).to(torch.bfloat16)
                linear.lora_b = torch.block_diag(*b_blocks).to(torch.bfloat16)
                linear.scale = lora.scale
        self.length = 0

    def forward(self, ids: list[int], all_logits: bool = False) -> list[Any]:
        """Run `ids` after the cached positions; the logits after the last token, or after
        each with `all_logits`: fp32 numpy rows, each holding the final hidden state it
        came from (`Logits.hidden`) for `exact_logits`."""
        torch = self.torch
        if self.length + len(ids) > self.context:
            raise EngineError(f"the call ran past the engine's context of {self.context}")
        rows = []
        with torch.inference_mode():
            for start in range(0, len(ids), PROMPT_CHUNK):
                chunk = ids[start : start + PROMPT_CHUNK]
                last = start + PROMPT_CHUNK >= len(ids)
                hidden = self._run(chunk)
                if all_logits:
                    rows.append(hidden)
                elif last:
                    rows.append(hidden[-1:])
            hidden = torch.cat(rows)
            logits = _product(hidden.to(torch.bfloat16), self.head).float().numpy()
        out = []
        for i in range(len(hidden)):
            row = logits[i].view(Logits)
            row.hidden = hidden[i]
            out.append(row)
        return out

    def exact_logits(self, hidden: Any, tokens: Any) -> Any:
        """The logits of `tokens` from `hidden` in fp32: what the bf16 product rounds (to
        2^-8 of the logit, ~0.1 at the logits a choice is made between)."""
        with self.torch.inference_mode():
            rows = self.torch.from_numpy(np.ascontiguousarray(self.embed[tokens]))
            return (rows @ hidden).numpy()

    def _run(self, ids: list[int]) -> Any:
        """The final-norm hidden states (fp32) of `ids`; their keys and values cached."""
        torch = self.torch
        F = torch.nn.functional
        c = self.config
        n, start = len(ids), self.length
        end = start + n
        bf16 = torch.bfloat16
        x = torch.from_numpy(self.embed[np.asarray(ids)])
        cos, sin = self.cos[start:end, None], self.sin[start:end, None]
        # Each new token sees the cache and the new tokens up to itself.
        mask = None
        if n > 1:
            mask = torch.ones(n, end, dtype=torch.bool).tril(diagonal=start)
        rotated = c.heads + c.kv_heads  # q's heads then k's, rotated in one go
        for layer in self.layers:
            if layer.keys is None:
                shape = (c.kv_heads, self.context, c.head_dim)
                layer.keys = torch.empty(shape, dtype=bf16)
                layer.values = torch.empty(shape, dtype=bf16)
            h = F.rms_norm(x, (c.hidden,), layer.attn_norm, c.eps).to(bf16)
            qkv = layer.qkv(h).view(n, rotated + c.kv_heads, c.head_dim)
            qk = _rope(qkv[:, :rotated], cos, sin).transpose(0, 1)
            layer.keys[:, start:end] = qk[c.heads :]
            layer.values[:, start:end] = qkv[:, rotated:].transpose(0, 1)
            attn = F.scaled_dot_product_attention(
                qk[: c.heads].unsqueeze(0),
                layer.keys[:, :end].unsqueeze(0),
                layer.values[:, :end].unsqueeze(0),
                attn_mask=mask,
                enable_gqa=True,
            )
            x = x + layer.out(attn[0].transpose(0, 1).reshape(n, c.hidden)).float()
            h = F.rms_norm(x, (c.hidden,), layer.mlp_norm, c.eps).to(bf16)
            gate, up = layer.gate_up(h).chunk(2, dim=-1)
            x = x + layer.down(F.silu(gate) * up).float()
        self.length = end
        return F.rms_norm(x, (c.hidden,), self.norm, c.eps)


def _return_freed_memory() -> None:
    """Hand back to the system what loading freed: the fp32 checkpoint passed through the
    heap tensor by tensor, and glibc keeps freed heap memory (~60 MB here) unless asked."""
    name = ctypes.util.find_library("c")
    if name is None:
        return
    with contextlib.suppress(OSError, AttributeError):  # not glibc
        ctypes.CDLL(name).malloc_trim(0)


def _mapped_tensor(path: Path, name: str) -> Any:
    """An fp32 tensor of a safetensors file as a read-only numpy memory map."""
    with path.open("rb") as fh:
        size = int.from_bytes(fh.read(8), "little")
        header = json.loads(fh.read(size))
    info = header.get(name)
    if info is None or info["dtype"] != "F32":
        raise EngineError(f"{path} has no fp32 tensor {name}")
    start = info["data_offsets"][0]
    shape = tuple(info["shape"])
    return np.memmap(path, dtype=np.float32, mode="r", offset=8 + size + start, shape=shape)


def _out_rows(c: _Config, module: str) -> int:
    return {
        "q_proj": c.heads * c.head_dim,
        "k_proj": c.kv_heads * c.head_dim,
        "v_proj": c.kv_heads * c.head_dim,
        "o_proj": c.hidden,
        "gate_proj": c.intermediate,
        "up_proj": c.intermediate,
        "down_proj": c.hidden,
    }[module]


def _rope(x: Any, cos: Any, sin: Any) -> Any:
    import torch

    half = x.shape[-1] // 2
    rotated = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rotated * sin


class Logits(np.ndarray):
    """A logits row that remembers the hidden state it came from."""

    hidden: Any = None


# Tokens whose rounded logit is within this of the best are recomputed exactly: the bf16
# product's rounding (at most 2^-8 of the value, twice: the hidden state in, the logit
# out) with room to spare.
RESCORE_MARGIN = 0.5


@dataclass
class _Model:
    """One set of weights with its KV cache, and what the cache holds."""

    net: Bf16Llama
    active: str | bool | None = False  # the LoRA running beside it; False: none set yet
    cached: list[int] = field(default_factory=list)
    cached_adapter: str | None = None


class TorchBf16Engine(ConstrainedDecoder):
    speculative = True
    # Nine tokens cost 1.2x one here (llama.cpp: 2.8x), so longer guesses pay: replaying
    # 132 recorded dev calls, 16 took 8% less decoding time than 8 (docs/engine.md).
    draft_tokens = 16

    def __init__(
        self,
        adapters: dict[str, Path] | None = None,
        *,
        context: int = DEFAULT_CONTEXT,
        threads: int | None = None,
        merged: Collection[str] = (),
        prefix_cache: bool = True,
        speculative: bool = True,
    ):
        """`merged` names adapters added into their own copy of the weights; the others
        run as LoRA on the base weights, loaded when a request first needs them."""
        # oneDNN keeps 1,024 compiled products by default, one per batch shape it met; a
        # prompt of each length is a new shape, and a serving process grew ~100 MB over
        # twenty flows. Read when oneDNN first compiles, so set before any product runs.
        limit_onednn_kernel_cache(PRODUCT_CACHE)
        import torch

        torch.set_num_threads(threads or len(os.sched_getaffinity(0)))
        adapters = adapters or {}
        unknown = set(merged) - set(adapters)
        if unknown:
            raise EngineError(f"cannot merge unknown adapter {sorted(unknown)[0]!r}")
        self._folder = ensure_base_model()
        self.context = context
        self.use_prefix_cache = prefix_cache
        self.speculative = speculative
        self._merged = {
            name: _Model(Bf16Llama(self._folder, context, _Lora.read(adapters[name])))
            for name in merged
        }
        self._lora_folders = {n: f for n, f in adapters.items() if n not in merged}
        self._loras: dict[str, _Lora] = {}
        self._base: _Model | None = None
        if not self._merged:
            self._load_base()
        self._current = self._base or next(iter(self._merged.values()))
        super().__init__(ensure_tokenizer(), vocab_size=self._current.net.config.vocab)
        _return_freed_memory()
        self._adapter_names = list(adapters)

    def _load_base(self) -> _Model:
        if self._base is None:
            self._base = _Model(Bf16Llama(self._folder, self.context))
            _return_freed_memory()
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
            reused = common_prefix(model.cached, prompt_ids)
        model.net.length = reused
        model.cached = []  # until `_finish` says what the cache holds
        return reused, self._forward(prompt_ids[reused:])[-1]

    def _feed(self, token: int) -> Any:
        return self._forward([token])[-1]

    def _feed_many(self, tokens: list[int]) -> list[Any]:
        return self._forward(tokens, all_logits=True)

    def _rescore_best(self, logits: Any, bias: dict[int, float]) -> Any:
        hidden = getattr(logits, "hidden", None)
        if hidden is None:
            return logits
        top = logits.max()
        if not np.isfinite(top):
            return logits
        # The margin grows with the logit: rounding is relative.
        near = np.flatnonzero(logits >= top - RESCORE_MARGIN * max(1.0, abs(top) / 16))
        if len(near) > 1:
            exact = self._current.net.exact_logits(hidden, near)
            logits[near] = exact + np.array([bias.get(int(t), 0.0) for t in near])
        return logits

    def _drop(self, n: int) -> None:
        self._current.net.length -= n

    def _finish(self, adapter: str | None, fed: list[int]) -> None:
        self._current.cached = fed[: self._current.net.length]
        self._current.cached_adapter = adapter

    def _forward(self, tokens: list[int], all_logits: bool = False) -> Any:
        try:
            return self._current.net.forward(tokens, all_logits)
        except EngineError:
            raise
        except RuntimeError as exc:
            self._current.cached = []
            raise EngineError(f"the bf16 engine could not run the tokens: {exc}") from exc

    def _activate(self, model: _Model, adapter: str | None) -> None:
        if adapter == model.active:
            return
        lora = None
        if adapter is not None:
            if adapter not in self._loras:
                self._loras[adapter] = _Lora.read(self._lora_folders[adapter])
            lora = self._loras[adapter]
        model.net.use_lora(lora)
        model.cached = []
        model.active = adapter
