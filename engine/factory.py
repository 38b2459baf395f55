"""Which engine serves the model: resolved here, once, for every caller.

`FLOWGEN_MODEL_URL` names an OpenAI-compatible server (vLLM in production); without it
the model runs in-process on the embedded runtime (`FLOWGEN_RUNTIME`): by default the
bf16 engine on CPUs with AMX (engine/torch_bf16.py: prompts about five times faster
there) and llama.cpp elsewhere; `torch` for the transformers reference; `FLOWGEN_WEIGHTS` picks
llama.cpp's weight type: bf16 on CPUs with AVX-512, Q8_0 on AVX2 ones; the `default`
adapter merged into the weights unless `FLOWGEN_MERGE_DEFAULT=0`), with the
adapters that ship in the package (`training/adapters/NAME/`, a tenant adapter named
after its installation; found by `flowgen.shipped`).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Literal, cast

from flowgen import shipped
from flowgen.engine.base import Engine
from flowgen.settings import get_settings

if TYPE_CHECKING:
    from flowgen.engine.gguf_files import WeightType

Runtime = Literal["llamacpp", "torch-bf16", "torch"]
RUNTIMES: tuple[Runtime, ...] = ("llamacpp", "torch-bf16", "torch")


def shipped_adapters() -> dict[str, Path]:
    """The adapters that ship in the package, by name (`flowgen.shipped.adapter_folders`;
    a test points `flowgen.shipped.adapters_dir` elsewhere to ship others)."""
    return shipped.adapter_folders()


def default_weights(flags: set[str]) -> WeightType:
    """bf16 where the CPU has AVX-512 (native bf16 products with AVX512-BF16 or AMX; with
    AVX-512 alone ggml widens bf16 to f32 in registers, and prompts still ran 12% faster
    than Q8_0 on the Intel machine without them, and its answers are the bf16 hosts');
    f16 on CPUs with AVX2 and F16C alone (ggml widens f16 to f32 with F16C: on the
    AVX2-only AMD EPYC of the thirty-eighth session prompts ran 12% faster a dev flow than
    Q8_0's, and 191 of 197 recorded dev calls answered as the f32 reference does, against
    Q8_0's 148); Q8_0 where there is neither (docs/engine.md, "Choosing the runtime")."""
    if {"avx512f", "avx512_bf16", "amx_bf16"} & flags:
        return "bf16"
    return "f16" if "f16c" in flags else "q8_0"


def weights_from_env() -> WeightType:
    """The llama.cpp engine's weight type (`FLOWGEN_WEIGHTS`), by default the CPU's
    (`default_weights`)."""
    from typing import get_args

    from flowgen.engine.gguf_files import WeightType
    from flowgen.engine.local import cpu_flags

    default = default_weights(cpu_flags())
    value = get_settings().weights or default
    if value not in get_args(WeightType):
        choices = ", ".join(get_args(WeightType))
        raise ValueError(f"FLOWGEN_WEIGHTS={value!r}: choose one of {choices}")
    return cast("WeightType", value)


def runtime_from_env() -> Runtime:
    """`FLOWGEN_RUNTIME`; `auto` (the default) is the fastest runtime measured on this
    kind of CPU: the bf16 engine where the CPU has AMX, llama.cpp elsewhere."""
    value = get_settings().runtime
    if value == "auto":
        from flowgen.engine.torch_bf16 import cpu_has_amx

        return "torch-bf16" if cpu_has_amx() else "llamacpp"
    if value not in RUNTIMES:
        choices = ", ".join(("auto", *RUNTIMES))
        raise ValueError(f"FLOWGEN_RUNTIME={value!r}: choose one of {choices}")
    return value


def embedded_engine(
    adapters: dict[str, Path] | None = None,
    runtime: Runtime | None = None,
    weights: WeightType | None = None,
) -> Engine:
    """The model in this process with `adapters` loaded (None: the shipped ones);
    `runtime` and llama.cpp's `weights` default to the environment's choice."""
    adapters = shipped_adapters() if adapters is None else adapters
    runtime = runtime or runtime_from_env()
    if runtime == "torch":
        from flowgen.engine.local import LocalEngine

        return LocalEngine(adapters=adapters or None)
    # The default adapter serves most requests: merged, it skips the LoRA's work on every
    # token (prompts 13% and decoding 20% faster, docs/engine.md); tenants stay LoRA.
    merged = ["default"] if get_settings().merge_default and "default" in adapters else []
    if runtime == "torch-bf16":
        from flowgen.engine.torch_bf16 import TorchBf16Engine

        return TorchBf16Engine(adapters=adapters, merged=merged)
    from flowgen.engine.llamacpp import LlamaCppEngine

    weights = weights or weights_from_env()
    keys = get_settings().kv_keys
    return LlamaCppEngine(adapters=adapters, weights=weights, merged=merged, keys=keys)


@cache
def default_engine() -> Engine:
    """The engine a generator uses when given none, built once per process."""
    settings = get_settings()
    if settings.model_url:
        from flowgen.engine.remote import RemoteEngine

        return RemoteEngine(settings.model_url, model=settings.model)
    return embedded_engine()
