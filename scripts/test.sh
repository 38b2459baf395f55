#!/usr/bin/env bash
# Command two of the README (and CI): install with test extras, lint, type-check, run every
# test (pass pytest options through, e.g. `-m unit` for the fast subset).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh test
bash scripts/langgraph_env.sh # `langgraph dev` for its test, beside .venv (see the script)
# The playground's browser test drives Debian's chromium through Playwright (no browser
# download). Installed here when missing and this user may (root, as in CI); elsewhere
# that test skips, saying why.
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing chromium (Debian package) for the browser test"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test: no chromium (apt-get install chromium as root): the browser test will skip"
  fi
fi
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python scripts/typecheck.py
.venv/bin/python -m pytest "$@"
