"""Shipped files (adapters, the refusal guard, catalogs) are found one way: flowgen.shipped."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from flowgen import shipped
from flowgen.engine.factory import shipped_adapters
from flowgen.graph.guard import RefusalGuard, shipped_guard

REPO = Path(__file__).resolve().parent.parent
# A path built from a module's own location that reaches a folder of shipped files.
BY_FILE = re.compile(r"__file__.*\b(training|adapters|guard|catalogs)\b")


def test_the_engine_and_the_guard_take_their_files_from_flowgen_shipped(
    tmp_path, monkeypatch
) -> None:
    assert shipped_adapters() == shipped.adapter_folders()
    assert "default" in shipped_adapters()
    guard = shipped_guard()
    assert guard is not None
    assert RefusalGuard.load().threshold == guard.threshold  # load() reads the shipped one
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / shipped.ADAPTER_CONFIG).write_text("{}")
    (tmp_path / "not-an-adapter").mkdir()
    monkeypatch.setattr(shipped, "adapters_dir", lambda: tmp_path)
    assert shipped_adapters() == {"mine": tmp_path / "mine"}


def test_no_module_finds_shipped_files_from_its_own_location() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    folders = {REPO / d for d in config["tool"]["setuptools"]["package-dir"].values()}
    offenders = [
        f"{path.relative_to(REPO)}:{n}: {line.strip()}"
        for path in sorted({f for d in folders for f in d.rglob("*.py")})
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if BY_FILE.search(line)
    ]
    assert not offenders, "find shipped files with flowgen.shipped:\n" + "\n".join(offenders)
