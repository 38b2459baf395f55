"""The README's layout table matches the tree: every top-level folder, and its import name."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
ROW = re.compile(r"^\| `(?P<folder>[^`/]+)/` \| (?P<imported>[^|]+) \|", re.MULTILINE)


def layout_table() -> dict[str, str]:
    """Folder → its import column, from the README's Layout section."""
    text = (REPO / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Layout\n", 1)[1].split("\n## ", 1)[0]
    return {m["folder"]: m["imported"].strip() for m in ROW.finditer(section)}


def ignored_top_level() -> set[str]:
    """Top-level folders .gitignore names (`build/`, `/out/`, ...)."""
    lines = (REPO / ".gitignore").read_text().splitlines()
    return {line.strip("/") for line in lines if line.endswith("/") and "/" not in line[1:-1]}


def test_every_top_level_folder_is_in_the_layout_table() -> None:
    table = layout_table()
    ignored = ignored_top_level()
    folders = {
        p.name
        for p in REPO.iterdir()
        if p.is_dir()
        and not p.name.startswith((".", "_"))
        and not p.name.endswith(".egg-info")
        and p.name not in ignored
    }
    assert folders - set(table) == set(), "folders missing from README's layout table"
    assert set(table) - folders - ignored == set(), "README's layout table names no such folder"


def test_the_import_column_is_pyprojects_mapping() -> None:
    table = layout_table()
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    mapping = config["tool"]["setuptools"]["package-dir"]
    installed = {folder: name for name, folder in mapping.items() if "/" not in folder}
    for folder, imported in table.items():
        if folder in installed:
            assert imported.startswith(f"`{installed[folder]}`"), (folder, imported)
        else:
            assert imported == "—", f"{folder}/ is not installed, yet README gives {imported}"


def test_the_results_the_docs_name_are_the_results_kept() -> None:
    """Every `results/NAME` in the README and docs/ exists (a glob matches one at least),
    and every folder under results/ is named somewhere (results/README.md's rule)."""
    kept = {p.name for p in (REPO / "results").iterdir() if p.is_dir()}
    pages = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    text = "\n".join(p.read_text(encoding="utf-8") for p in pages)
    named = set(re.findall(r"results/([A-Za-z0-9_.*-]+)", text)) - {"README.md"}
    globs = {n for n in named if "*" in n}
    missing = {n for n in named - globs if n not in kept}
    missing |= {g for g in globs if not any(Path(k).match(g) for k in kept)}
    assert not missing, f"docs name results/ folders that do not exist: {sorted(missing)}"
    cited = {k for k in kept if k in named or any(Path(k).match(g) for g in globs - {"*"})}
    cited |= {k for k in kept if re.search(rf"`{re.escape(k)}`|\| {re.escape(k)} \|", text)}
    assert kept - cited == set(), "results/ folders no page cites"
