"""mypy on the `flowgen` package as it is installed, reporting the repository's own paths.

The editable install maps top-level folders into `flowgen.*` with an import hook, which
mypy cannot follow (it searches folders, not hooks). So this builds, under build/, a tree
of links laid out as the installed package (from pyproject's package-dir, so it never
drifts), runs `mypy -p flowgen` on it with the `[tool.mypy]` settings (whose mypy_path
is that tree), and rewrites the link paths in mypy's output back to the files a reader
edits.

    .venv/bin/python scripts/typecheck.py [extra mypy options]
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
TREE = REPO / "build" / "typecheck"
# Files of a package folder that mypy reads (py.typed marks the package as typed).
TYPED_FILES = ("*.py", "*.pyi", "py.typed")
# An error or note line: "path:line[:column]: ..."
LOCATION = re.compile(r"^(?P<path>[^:\n]+\.pyi?)(?P<rest>:\d+)", re.MULTILINE)


def link_tree() -> Path:
    """The package as installed, as links to the repository's files; rebuilt each run so
    that added or removed modules are seen."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    package_dir: dict[str, str] = config["tool"]["setuptools"]["package-dir"]
    shutil.rmtree(TREE, ignore_errors=True)
    for package, folder in package_dir.items():
        target = TREE.joinpath(*package.split("."))
        target.mkdir(parents=True, exist_ok=True)
        source = REPO / folder
        for pattern in TYPED_FILES:
            for file in source.glob(pattern):
                (target / file.name).symlink_to(file)
    return TREE


def repo_path(match: re.Match[str]) -> str:
    path = Path(match["path"])
    if not path.is_absolute():
        path = Path.cwd() / path
    try:
        shown = os.path.relpath(path.resolve(), REPO)
    except ValueError:  # another drive: keep mypy's own path
        shown = match["path"]
    return shown + match["rest"]


def main(args: list[str]) -> int:
    from mypy import api

    link_tree()
    # pyproject's [tool.mypy] (found from the working directory) points mypy_path at TREE.
    os.chdir(REPO)
    stdout, stderr, status = api.run([*args, "-p", "flowgen"])
    sys.stdout.write(LOCATION.sub(repo_path, stdout))
    sys.stderr.write(stderr)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
