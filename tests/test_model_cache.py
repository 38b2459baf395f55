"""Converted models (the re-encoded base GGUF, LoRA GGUFs, the torch runtime's HF folder)
are cached once per user, not per data directory."""

from __future__ import annotations

import sys
from pathlib import Path

import platformdirs

from flowgen.engine import base_model, gguf_files
from flowgen.settings import get_settings, override_settings, reset_settings


def test_the_model_cache_is_the_users_whatever_the_data_dir(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))  # platformdirs reads it
    with override_settings(data_dir=tmp_path / "one", cache_dir=None):
        first = gguf_files.gguf_dir()
        with override_settings(data_dir=tmp_path / "two"):
            assert gguf_files.gguf_dir() == first
        assert first == Path(platformdirs.user_cache_dir("flowgen")) / "models" / "gguf"
        if sys.platform == "linux":
            assert first == tmp_path / "xdg" / "flowgen" / "models" / "gguf"
        assert base_model.cache_dir() == first.parent / base_model.BASE_MODEL_NAME
    with override_settings(cache_dir=tmp_path / "mine"):
        assert gguf_files.gguf_dir() == tmp_path / "mine" / "models" / "gguf"


def test_flowgen_cache_dir_moves_it(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FLOWGEN_CACHE_DIR", str(tmp_path))
    reset_settings()
    try:
        assert get_settings().cache_dir == tmp_path
        assert base_model.models_dir() == tmp_path / "models"
    finally:
        reset_settings()


def test_a_folder_another_process_published_first_is_kept(tmp_path) -> None:
    target = tmp_path / "models" / "model"
    target.mkdir(parents=True)
    (target / "done.json").write_text("theirs")

    def write(staging: Path) -> None:
        (staging / "done.json").write_text("ours")

    assert base_model._publish_folder(target, write, done="done.json") == target
    assert (target / "done.json").read_text() == "theirs"
    assert [p.name for p in target.parent.iterdir()] == ["model"]  # no staging left
    (target / "done.json").unlink()  # incomplete: replaced
    base_model._publish_folder(target, write, done="done.json")
    assert (target / "done.json").read_text() == "ours"
    assert [p.name for p in target.parent.iterdir()] == ["model"]
