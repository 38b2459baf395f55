#!/usr/bin/env bash
# Command two of the README (and CI): install with test extras, lint, type-check, run every
# test (pass pytest options through, e.g. `-m unit` for the fast subset).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python scripts/typecheck.py
.venv/bin/python -m pytest "$@"
