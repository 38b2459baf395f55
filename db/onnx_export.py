"""A sentence-transformers folder exported once to one ONNX graph: tokens → the pooled,
normalised sentence embedding.

The query path then runs on ONNX Runtime, without torch: a search query encodes in about
4 ms instead of 12 (sentence-transformers, one thread), with the same vectors to 1e-7, so
what the store holds stays valid (docs/catalog_store.md). Exporting needs torch and
transformers (installed for training); it runs on first use and is cached by the weights'
hash, so a retrained retriever is exported again.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Literal

EmbedderWeights = Literal["fp32", "int8"]

EXPORT_VERSION = "1"  # part of the cache key: a change to the exported graph re-exports
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
POOLING = ("mean", "cls")


class ExportError(RuntimeError):
    """A model folder that cannot be exported (not a BERT-style sentence encoder)."""


def pooling_mode(path: Path) -> str:
    """`mean` or `cls`, as the folder's sentence-transformers pooling module says."""
    modules = path / "modules.json"
    folder = "1_Pooling"
    if modules.is_file():
        for module in json.loads(modules.read_text()):
            if module.get("type", "").endswith("Pooling"):
                folder = module.get("path") or folder
    config = path / folder / "config.json"
    if not config.is_file():
        return "mean"  # sentence-transformers' default for a plain transformer folder
    pooling = json.loads(config.read_text())
    # sentence-transformers 5 writes `"pooling_mode": "mean"`; earlier versions a flag
    # per mode (all-MiniLM-L6-v2 as shipped, retrievers saved before).
    if pooling.get("pooling_mode_mean_tokens") or pooling.get("pooling_mode") == "mean":
        return "mean"
    if pooling.get("pooling_mode_cls_token") or pooling.get("pooling_mode") == "cls":
        return "cls"
    raise ExportError(f"{path}: pooling {pooling} is not mean or CLS pooling")


def max_seq_length(path: Path) -> int:
    config = path / "sentence_bert_config.json"
    if config.is_file():
        return int(json.loads(config.read_text()).get("max_seq_length") or 512)
    return 512


def weights_hash(path: Path) -> str:
    weights = next((path / f for f in WEIGHT_FILES if (path / f).is_file()), None)
    if weights is None:
        raise ExportError(f"{path}: no model weights ({' or '.join(WEIGHT_FILES)})")
    digest = hashlib.sha256(EXPORT_VERSION.encode())
    with weights.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    digest.update(pooling_mode(path).encode())
    return digest.hexdigest()[:16]


def exported_model(path: Path, cache_dir: Path, weights: EmbedderWeights = "fp32") -> Path:
    """The ONNX file of the encoder at `path`, exported into `cache_dir` if not there yet
    (written to a temporary name and renamed: a concurrent exporter never sees half).
    With `int8`, its weights quantised (`quantized`)."""
    target = cache_dir / f"{path.name}-{weights_hash(path)}.onnx"
    if not target.is_file():
        _write_atomically(target, lambda tmp: _export(path, tmp))
    if weights == "int8":
        return quantized(target)
    return target


def quantized(model: Path) -> Path:
    """`model` with int8 weights (ONNX Runtime's dynamic quantisation, one scale per
    output channel; activations quantised per call), next to it. A quarter of the
    weights' memory and 2-2.5x faster queries here; the vectors differ from fp32 by a
    cosine of ~0.99 (one scale per tensor gave 0.96), so it is a model of its own
    (`Embedder.model_id`) and the store re-embeds with it (docs/catalog_store.md)."""
    target = model.with_name(f"{model.stem}-int8.onnx")
    if not target.is_file():
        _write_atomically(target, lambda tmp: _quantize(model, tmp))
    return target


def _quantize(model: Path, out: Path) -> None:
    from onnxruntime.quantization import QuantType, quantize_dynamic

    logger = logging.getLogger()  # the quantiser warns on the root logger about pre-processing
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        quantize_dynamic(model, out, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        logger.setLevel(level)


def _write_atomically(target: Path, write: Callable[[Path], None]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, target)
    finally:
        Path(tmp).unlink(missing_ok=True)


def _export(path: Path, out: Path) -> None:
    from flowgen.settings import quiet_hf_libraries

    quiet_hf_libraries()  # before transformers is imported: it reads the settings then
    import torch
    from transformers import AutoModel

    mode = pooling_mode(path)
    try:
        encoder = AutoModel.from_pretrained(str(path)).eval()
    except Exception as exc:  # transformers says what it could not read
        raise ExportError(f"{path}: not a transformer folder transformers can load: {exc}") from exc

    class SentenceEncoder(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            hidden = self.encoder(
                input_ids=input_ids,
                attention_mask=attention_mask,
                token_type_ids=torch.zeros_like(input_ids),
            ).last_hidden_state
            if mode == "cls":
                pooled = hidden[:, 0]
            else:
                mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, dim=-1)

    ids = torch.tensor([[101, 2023, 2003, 102], [101, 102, 0, 0]])
    mask = (ids != 0).long()
    # The tracer's warnings are about Python branches on shapes, which the graph keeps
    # right for every batch and length (checked against sentence-transformers in tests).
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            SentenceEncoder().eval(),
            (ids, mask),
            str(out),
            input_names=["input_ids", "attention_mask"],
            output_names=["embedding"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "embedding": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,  # the TorchScript exporter needs no onnxscript
        )
