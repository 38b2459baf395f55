#!/usr/bin/env bash
# LangGraph's server, `langgraph dev` (PyPI langgraph-cli[inmem]), in an environment of
# its own layered on .venv: build/langgraph-venv holds langgraph-cli, langgraph-api and
# what they pin differently from .venv (jsonschema-rs below 0.45, which the test extra's
# schemathesis cannot take); everything else, flowgen included, comes from .venv through
# a .pth file read after its own packages. Run by scripts/test.sh; safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
env=build/langgraph-venv
if [ ! -x "$env/bin/python" ]; then
  echo "langgraph: creating $env (layered on .venv)"
  .venv/bin/python -m venv "$env"
fi
base=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
own=$("$env/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
# "zz": after the environment's own .pth files, so its own packages come first.
echo "import site; site.addsitedir('$(realpath "$base")')" >"$own/zz_flowgen_venv.pth"
if ! "$env/bin/python" -c "import langgraph_api, langgraph_cli" 2>/dev/null; then
  echo "langgraph: installing langgraph-cli[inmem] into $env"
  "$env/bin/python" -m pip install --quiet --disable-pip-version-check \
    "langgraph-cli[inmem]>=0.4" >>"$env.log" 2>&1 || {
    tail -30 "$env.log" >&2
    exit 1
  }
fi
"$env/bin/python" -c "import flowgen.graph.served, langgraph_api" # both, from one process
echo "langgraph: $env/bin/langgraph ready"
