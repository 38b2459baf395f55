"""Every setting flowgen reads from the environment, in one place.

The environment is read here and nowhere else (tests/test_settings.py checks the
sources): `get_settings()` reads it once per process and every module asks it, so the
edges (the CLI, the service, the `FlowGenerator` API) and the code below them agree.
Tests change settings with `override_settings(...)`, or set variables and call
`reset_settings()`.

Variables that configure third-party libraries (the Hugging Face hub, transformers) are
written here too, by `quiet_hf_libraries()`, before those libraries load.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from flowgen.db.onnx_export import EmbedderWeights

# The longest requirement the generator takes (characters, after cleaning).
MAX_REQUIREMENT_CHARS = 4000


def _max_catalog_bytes() -> int:
    from flowgen.flow.catalog import MAX_CATALOG_BYTES

    # A catalog file has no use for more; the file loader alone allows MAX_CATALOG_BYTES.
    return min(MAX_CATALOG_BYTES, 20_000_000)


class ServiceSettings(BaseSettings):
    """The HTTP service's limits: `FLOWGEN_SERVICE_<NAME>` variables or `flowgen serve`
    flags (which win)."""

    model_config = SettingsConfigDict(
        env_prefix="FLOWGEN_SERVICE_", env_ignore_empty=True, extra="ignore"
    )

    # One generation at a time uses both cores of a small CPU host; the embedded engine
    # decodes one call at a time anyway. A vLLM backend takes more.
    max_running: int = Field(1, ge=1, description="Generations running at once.")
    # Requests beyond running + waiting are answered 429 at once instead of piling up.
    max_waiting: int = Field(4, ge=0, description="Generations queued; more get 429.")
    generation_timeout_s: float = Field(
        300.0, gt=0, description="Seconds before a generation is stopped (504)."
    )
    max_requirement_chars: int = Field(
        MAX_REQUIREMENT_CHARS, ge=1, description="Longest requirement taken (characters)."
    )
    max_catalog_bytes: int = Field(
        default_factory=_max_catalog_bytes, ge=1, description="Largest catalog upload (bytes)."
    )
    sync_job_items: int = Field(
        2000, ge=0, description="Catalogs with more items sync as a background job (202)."
    )
    adapter: str = Field("default", description="The adapter the service's generators run.")

    @classmethod
    def from_env(cls, **overrides: object) -> ServiceSettings:
        """The environment's settings (`get_settings().service`) with the `overrides`
        that are not None."""
        values = get_settings().service.model_dump()
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls.model_validate(values)


def _unprefixed(env: str, default: Any, description: str) -> Any:
    """A field read from `env` as other tools name it (OpenTelemetry's own variables),
    not from FLOWGEN_<NAME>."""
    return Field(default, validation_alias=AliasChoices(env, env.lower()), description=description)


class Settings(BaseSettings):
    """Flowgen's settings: `FLOWGEN_<NAME>` variables, and the standard names of
    `DATABASE_URL` and OpenTelemetry's `OTEL_*`. An empty variable counts as unset."""

    model_config = SettingsConfigDict(
        env_prefix="FLOWGEN_", env_ignore_empty=True, extra="ignore", populate_by_name=True
    )

    # -- the store (db/connection.py) -----------------------------------------------------
    data_dir: Path | None = Field(
        None,
        description="Where the embedded Postgres and the tuned retriever live (None: the "
        "user data dir, ~/.local/share/flowgen on Linux).",
    )
    cache_dir: Path | None = Field(
        None,
        description="Where converted models are kept, once per user whatever the data dir "
        "(None: the user cache dir, $XDG_CACHE_HOME/flowgen or ~/.cache/flowgen on Linux).",
    )
    database_url: str | None = Field(
        None,
        validation_alias=AliasChoices("DATABASE_URL", "database_url"),
        description="An external PostgreSQL with pgvector (None: the embedded server).",
    )
    pg_keep_running: bool = Field(
        False,
        description="Leave the embedded PostgreSQL running when the last flowgen process "
        "using it ends.",
    )
    # -- the model engine (engine/) -------------------------------------------------------
    model_url: str | None = Field(
        None, description="An OpenAI-compatible server (vLLM) to use instead of the embedded model."
    )
    model: str = Field("flowgen", description="The model name sent to FLOWGEN_MODEL_URL.")
    runtime: str = Field(
        "auto",
        description="The embedded runtime: auto (torch-bf16 on CPUs with AMX, else llamacpp), "
        "llamacpp, torch-bf16, or torch (the transformers reference).",
    )
    weights: str | None = Field(
        None,
        description="llama.cpp's weight type (None: bf16 where the CPU computes bf16 "
        "natively, else q8_0).",
    )
    kv_keys: Literal["f16", "q8_0"] = Field(
        "f16",
        description="llama.cpp's KV cache type for keys: q8_0 holds them in half the memory "
        "(values stay f16: quantised values need flash attention).",
    )
    merge_default: bool = Field(
        True,
        description="llama.cpp runs the `default` adapter merged into its own copy of the "
        "weights (no LoRA work per token); other adapters run as LoRA on the base model.",
    )
    bf16: bool | None = Field(
        None,
        description="bf16 autocast on the CPU: in training (None: only where the CPU has "
        "native bf16) and in the torch runtime, the fp32 reference (None: off).",
    )
    outline_repeats: int = Field(
        0,
        ge=0,
        description="Step lines an outline may write again on the same words before such "
        "a line ends it (the repeats are dropped from the flow either way).",
    )
    outline_redos: int = Field(
        2,
        ge=0,
        description="Times a step line that would end the outline (see outline_repeats) is "
        "written again instead, while an action clause of the requirement has no step: from "
        "the choice its tokens were least certain of, which is then barred (in-process "
        "engines only).",
    )
    refusal_bias: float | None = Field(
        None, description="The outline call's refusal bias (None: the adapter's tuned value)."
    )
    # -- retrieval (db/embedder.py) -------------------------------------------------------
    embedding_model: Path | None = Field(
        None,
        description="A sentence-transformers folder for catalog embeddings (None: the "
        "tuned retriever when trained, else all-MiniLM-L6-v2).",
    )
    query_threads: int = Field(1, description="Threads used to encode a search query.")
    embedder_weights: EmbedderWeights = Field(
        "int8",
        description="The embedder's weights: int8 (a quarter of fp32's memory, queries 2-2.5x "
        "faster, retrieval and FlowSim on dev as with fp32), or fp32 (sentence-transformers' "
        "vectors). Each is a model of its own: the store re-embeds on the next sync.",
    )
    # -- tracing (graph/tracing.py); OpenTelemetry's own names -----------------------------
    otel_sdk_disabled: bool = _unprefixed(
        "OTEL_SDK_DISABLED", False, "No OpenTelemetry export at all."
    )
    otel_traces_exporter: str = _unprefixed("OTEL_TRACES_EXPORTER", "", "`console` prints spans.")
    otel_exporter_otlp_traces_endpoint: str | None = _unprefixed(
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        None,
        "OTLP/HTTP endpoint for spans (wins over OTEL_EXPORTER_OTLP_ENDPOINT).",
    )
    otel_exporter_otlp_endpoint: str | None = _unprefixed(
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        None,
        "OTLP/HTTP endpoint: run spans are exported there (the `otel` extra).",
    )
    otel_service_name: str = _unprefixed(
        "OTEL_SERVICE_NAME", "flowgen", "The service.name of exported spans."
    )
    # -- the HTTP service -----------------------------------------------------------------
    service: ServiceSettings = Field(
        default_factory=ServiceSettings, description="FLOWGEN_SERVICE_* limits."
    )

    @property
    def otlp_endpoint(self) -> str | None:
        return self.otel_exporter_otlp_traces_endpoint or self.otel_exporter_otlp_endpoint


_current: Settings | None = None
_lock = threading.Lock()


def get_settings() -> Settings:
    """The process's settings, read from the environment on the first call."""
    global _current
    settings = _current
    if settings is None:
        with _lock:
            if _current is None:
                _current = Settings()
            settings = _current
    return settings


def reset_settings() -> None:
    """Forget the settings read so far: the next `get_settings()` reads the environment."""
    global _current
    _current = None


@contextmanager
def override_settings(**values: Any) -> Iterator[Settings]:
    """Within the block, `get_settings()` returns the current settings with `values`
    (for tests: `with override_settings(runtime="torch"): ...`)."""
    global _current
    before = get_settings()
    _current = before.model_copy(update=values)
    try:
        yield _current
    finally:
        _current = before


def limit_onednn_kernel_cache(capacity: int) -> None:
    """Keep at most `capacity` compiled oneDNN products (the bf16 engine's, torch's CPU
    kernels). oneDNN keeps one per batch shape it meets, up to 1,024 by default, and
    reads the variable when it first compiles; a user's own value wins."""
    os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", str(capacity))


def quiet_hf_libraries() -> None:
    """No model hub, no progress bars, no library warnings in our users' output.

    The libraries read these variables when they are imported, so this runs first: at
    the start of the `flowgen` command, and before the engines and the embedder import
    them (for callers of the Python API). A user's own values and `-W` options win."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    # transformers' "Loading weights" bar (and the hub's download bars).
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    # transformers' logged warnings, e.g. "`past_key_values` ... deprecated".
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    # transformers' GGUF reader draws a bare tqdm bar that the hub's switch does not
    # reach (the one-time conversion of the base model for the torch runtime).
    os.environ.setdefault("TQDM_DISABLE", "1")
    # peft reads `model.is_gradient_checkpointing`, which transformers 5 deprecates with
    # a FutureWarning on every adapter load; nothing for our users to act on. Appended,
    # so a `-W` filter of the user's own comes first.
    warnings.filterwarnings(
        "ignore",
        message="`is_gradient_checkpointing` is deprecated",
        category=FutureWarning,
        append=True,
    )
