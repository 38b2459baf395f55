"""Settings: one module reads the environment, and a variable reaches its setting."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from flowgen.settings import Settings, get_settings, override_settings, reset_settings

REPO = Path(__file__).resolve().parent.parent
SETTINGS_MODULE = REPO / "flowgen" / "settings.py"
# Reading or writing the process environment, however spelled.
ENVIRON = re.compile(
    r"\bos\.environ\b|\bgetenv\b|\bputenv\b|\bunsetenv\b|from\s+os\s+import[^\n]*\benviron\b"
)


def package_sources() -> list[Path]:
    """Every .py file installed in the package (the folders pyproject maps to flowgen.*)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    folders = {REPO / d for d in config["tool"]["setuptools"]["package-dir"].values()}
    return sorted({f for d in folders for f in d.rglob("*.py")})


def test_only_the_settings_module_touches_the_environment() -> None:
    sources = package_sources()
    assert SETTINGS_MODULE in sources and len(sources) > 50
    offenders = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in sources
        if path != SETTINGS_MODULE
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if ENVIRON.search(line)
    ]
    assert not offenders, "read settings from flowgen.settings instead:\n" + "\n".join(offenders)


def test_an_environment_variable_reaches_its_setting(monkeypatch, tmp_path) -> None:
    monkeypatch.setenv("FLOWGEN_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/flowgen")
    monkeypatch.setenv("FLOWGEN_QUERY_THREADS", "3")
    monkeypatch.setenv("FLOWGEN_PG_KEEP_RUNNING", "1")
    monkeypatch.setenv("FLOWGEN_REFUSAL_BIAS", "0")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("FLOWGEN_SERVICE_MAX_REQUIREMENT_CHARS", "12")
    monkeypatch.setenv("FLOWGEN_MODEL_URL", "")  # empty counts as unset
    reset_settings()
    try:
        settings = get_settings()
        assert settings is get_settings()  # read once
        assert settings.data_dir == tmp_path
        assert settings.database_url == "postgresql://u@db.example/flowgen"
        assert settings.query_threads == 3
        assert settings.pg_keep_running is True
        assert settings.refusal_bias == 0.0
        assert settings.otlp_endpoint == "http://collector:4318"
        assert settings.model_url is None
        assert settings.service.max_requirement_chars == 12

        from flowgen.db.connection import data_dir, database_url
        from flowgen.graph.generator import RequirementError, clean_requirement

        assert data_dir() == tmp_path
        assert database_url() == "postgresql+psycopg://u@db.example/flowgen"
        assert clean_requirement("x" * 12) == "x" * 12
        with pytest.raises(RequirementError, match="the limit is 12"):
            clean_requirement("x" * 13)
    finally:
        reset_settings()  # the next test reads the environment monkeypatch restores


def test_defaults_and_overrides(monkeypatch) -> None:
    for name in ("FLOWGEN_RUNTIME", "FLOWGEN_SERVICE_MAX_RUNNING", "FLOWGEN_PG_KEEP_RUNNING"):
        monkeypatch.delenv(name, raising=False)
    defaults = Settings()
    assert defaults.runtime == "auto" and defaults.service.max_running == 1
    assert defaults.pg_keep_running is False
    assert all(field.description for field in Settings.model_fields.values())
    assert all(field.description for field in type(defaults.service).model_fields.values())
    before = get_settings()
    with override_settings(runtime="torch") as patched:
        assert get_settings() is patched and patched.runtime == "torch"
    assert get_settings() is before
