"""A soup of LoRA adapters: one adapter whose weight update is the mean of several.

Adapters fine-tuned from the same start on the same task, differing only in seed and
data order, land near one another; the mean of their updates usually does at least as
well as the mean ingredient and holds up better on data unlike the training set
("model soups", Wortsman et al. 2022). A LoRA update is scale · B·A, so the mean of N
updates is exactly one LoRA of the summed rank: the A matrices stacked, the B matrices
side by side, each scaled by its own alpha/r and by 1/N. Where that rank would make the
file too large to ship, `max_rank` keeps the mean update's leading singular directions
per module (the update itself changes a little; `SoupReport.kept_energy` says how much
of it is kept).

The ingredients must share the base model, the target modules and the tensors; the soup
carries the first ingredient's flowgen metadata (prompt version, examples per prompt,
refusal bias) and names its ingredients.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from flowgen.graph.generator import ADAPTER_META

CONFIG = "adapter_config.json"
WEIGHTS = "adapter_model.safetensors"


class SoupError(ValueError):
    pass


@dataclass
class SoupReport:
    ingredients: list[str]
    rank: int
    kept_energy: float  # share of the mean update's squared norm kept (1.0: exact)
    megabytes: float


def _read(folder: Path) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, Any]]:
    from safetensors.numpy import load_file

    for name in (CONFIG, WEIGHTS):
        if not (folder / name).is_file():
            raise SoupError(f"{folder}: no {name} (not an adapter written by `flowgen train`)")
    config = json.loads((folder / CONFIG).read_text())
    meta_file = folder / ADAPTER_META
    meta = json.loads(meta_file.read_text()) if meta_file.is_file() else {}
    return config, load_file(str(folder / WEIGHTS)), meta


def _pairs(weights: dict[str, np.ndarray], folder: Path) -> dict[str, tuple[str, str]]:
    """Module name → (its lora_A key, its lora_B key)."""
    pairs: dict[str, tuple[str, str]] = {}
    for key in weights:
        if ".lora_A." in key:
            module = key.split(".lora_A.")[0]
            b_key = key.replace(".lora_A.", ".lora_B.")
            if b_key not in weights:
                raise SoupError(f"{folder}: {key} has no lora_B beside it")
            pairs[module] = (key, b_key)
        elif ".lora_B." not in key:
            raise SoupError(f"{folder}: tensor {key} is not a LoRA matrix (modules_to_save?)")
    return pairs


def soup(adapters: Sequence[Path], out: Path, max_rank: int | None = None) -> SoupReport:
    if len(adapters) < 2:
        raise SoupError("a soup needs at least two adapters")
    if out.exists() and any(out.iterdir()):
        raise SoupError(f"{out} is not empty: a soup is written into a new folder")
    read = [_read(Path(folder)) for folder in adapters]
    first_config, first_weights, first_meta = read[0]
    modules = _pairs(first_weights, adapters[0])
    for folder, (config, weights, meta) in zip(adapters[1:], read[1:], strict=True):
        if sorted(config.get("target_modules") or []) != sorted(
            first_config.get("target_modules") or []
        ):
            raise SoupError(f"{folder}: other target modules than {adapters[0]}")
        if meta.get("base_model_sha256") != first_meta.get("base_model_sha256"):
            raise SoupError(f"{folder}: trained on another base model than {adapters[0]}")
        if _pairs(weights, folder).keys() != modules.keys():
            raise SoupError(f"{folder}: adapts other modules than {adapters[0]}")

    n = len(read)
    dtype = next(iter(first_weights.values())).dtype
    stacked = sum(int(config["r"]) for config, _, _ in read)
    rank = min(stacked, max_rank) if max_rank is not None else stacked
    tensors: dict[str, np.ndarray] = {}
    kept = total = 0.0  # squared singular values, summed where the rank is cut
    for a_key, b_key in modules.values():
        a_parts, b_parts = [], []
        for config, weights, _ in read:
            scale = float(config["lora_alpha"]) / float(config["r"])
            a_parts.append(weights[a_key].astype(np.float64))
            b_parts.append(weights[b_key].astype(np.float64) * scale / n)
        a, b = np.concatenate(a_parts, axis=0), np.concatenate(b_parts, axis=1)
        if rank < stacked:
            # The mean update's leading directions: SVD of B·A through two thin QRs.
            qb, rb = np.linalg.qr(b)
            qa, ra = np.linalg.qr(a.T)
            u, s, vt = np.linalg.svd(rb @ ra.T)
            kept += float(np.sum(s[:rank] ** 2))
            total += float(np.sum(s**2))
            b = (qb @ u[:, :rank]) * s[:rank]
            a = vt[:rank] @ qa.T
        tensors[a_key], tensors[b_key] = a.astype(dtype), b.astype(dtype)

    from safetensors.numpy import save_file

    ingredients = [str(Path(folder)) for folder in adapters]

    # Written beside the target and renamed: a failure leaves no half-written adapter.
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=out.parent, prefix=f".{out.name}-"))
    try:
        save_file(tensors, str(staging / WEIGHTS))
        # The ingredients' scales are folded into B: the soup's own scale is 1.
        config = dict(first_config, r=rank, lora_alpha=rank)
        (staging / CONFIG).write_text(json.dumps(config, indent=2) + "\n")
        meta = dict(first_meta, soup_of=ingredients, soup_rank=rank)
        (staging / ADAPTER_META).write_text(json.dumps(meta, indent=2) + "\n")
        if out.exists():
            out.rmdir()  # empty, checked above
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return SoupReport(
        ingredients=ingredients,
        rank=rank,
        kept_energy=kept / total if total else 1.0,
        megabytes=(out / WEIGHTS).stat().st_size / 1e6,
    )
