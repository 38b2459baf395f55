"""Adapter soups (training/soup.py) on the shipped default adapter: the soup's update is
the mean of its ingredients' updates, exactly or truncated to a rank."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from flowgen.shipped import adapters_dir
from flowgen.training.soup import SoupError, soup

DEFAULT = adapters_dir() / "default"
MODULE = "base_model.model.model.layers.7.self_attn.q_proj"


def update(folder: Path, module: str = MODULE) -> np.ndarray:
    """scale · B·A of one module, as the engines add it to the base weight."""
    config = json.loads((folder / "adapter_config.json").read_text())
    weights = load_file(str(folder / "adapter_model.safetensors"))
    a = weights[f"{module}.lora_A.weight"].astype(np.float64)
    b = weights[f"{module}.lora_B.weight"].astype(np.float64)
    return (b @ a) * config["lora_alpha"] / config["r"]


def scaled_copy(tmp_path: Path, factor: float) -> Path:
    """The default adapter with every B multiplied by `factor` (its update too)."""
    folder = tmp_path / f"scaled-{factor}"
    shutil.copytree(DEFAULT, folder)
    weights = load_file(str(folder / "adapter_model.safetensors"))
    for key in weights:
        if ".lora_B." in key:
            weights[key] = (weights[key].astype(np.float32) * factor).astype(weights[key].dtype)
    save_file(weights, str(folder / "adapter_model.safetensors"))
    return folder


def test_the_soup_update_is_the_mean_of_the_ingredients(tmp_path: Path) -> None:
    half = scaled_copy(tmp_path, 0.5)
    report = soup([DEFAULT, half], tmp_path / "soup")
    expected = (update(DEFAULT) + update(half)) / 2
    got = update(tmp_path / "soup")
    assert np.abs(got - expected).max() <= 1e-3 * np.abs(expected).max()
    assert report.rank == 32 and report.kept_energy == 1.0
    meta = json.loads((tmp_path / "soup" / "flowgen_adapter.json").read_text())
    original = json.loads((DEFAULT / "flowgen_adapter.json").read_text())
    assert meta["soup_of"] == [str(DEFAULT), str(half)]
    assert meta["prompt_version"] == original["prompt_version"]
    assert meta["refusal_bias"] == original.get("refusal_bias")


def test_a_truncated_soup_keeps_the_leading_directions(tmp_path: Path) -> None:
    # The same update twice (scaled): its rank is the ingredients', so rank 16 keeps it all.
    report = soup([DEFAULT, scaled_copy(tmp_path, 2.0)], tmp_path / "soup", max_rank=16)
    assert report.rank == 16
    assert report.kept_energy > 0.999
    expected = 1.5 * update(DEFAULT)
    assert np.abs(update(tmp_path / "soup") - expected).max() <= 1e-2 * np.abs(expected).max()
    weights = load_file(str(tmp_path / "soup" / "adapter_model.safetensors"))
    assert weights[f"{MODULE}.lora_A.weight"].shape[0] == 16


def test_ingredients_that_do_not_match_are_refused(tmp_path: Path) -> None:
    other = tmp_path / "other"
    shutil.copytree(DEFAULT, other)
    config = json.loads((other / "adapter_config.json").read_text())
    config["target_modules"] = ["q_proj", "v_proj"]
    (other / "adapter_config.json").write_text(json.dumps(config))
    with pytest.raises(SoupError, match="other target modules"):
        soup([DEFAULT, other], tmp_path / "soup")
    with pytest.raises(SoupError, match=r"no adapter_config\.json"):
        soup([DEFAULT, tmp_path], tmp_path / "soup")
    with pytest.raises(SoupError, match="at least two"):
        soup([DEFAULT], tmp_path / "soup")
    assert not (tmp_path / "soup").exists()


def test_a_soup_never_overwrites_an_adapter(tmp_path: Path) -> None:
    target = tmp_path / "kept"
    shutil.copytree(DEFAULT, target)
    before = (target / "adapter_model.safetensors").read_bytes()
    with pytest.raises(SoupError, match="not empty"):
        soup([DEFAULT, DEFAULT], target)
    assert (target / "adapter_model.safetensors").read_bytes() == before
