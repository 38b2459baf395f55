#!/usr/bin/env bash
# Command one of the README: install, then run flowgen on the embedded defaults.
# The main job: sync the demo catalog into the embedded Postgres, generate a flow for a
# sample requirement, show how it was made; then validate, draw and score sample flows.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== set up .venv (the first time takes several minutes, most of them compiling llama.cpp)"
bash scripts/setup.sh
fg=.venv/bin/flowgen
echo "== sync the acme-itsm catalog (shipped in the package) into the embedded Postgres (pgvector)"
$fg catalog sync acme-itsm
$fg catalog list
echo "== what the generator's retrieval tools find for a requirement's spans"
.venv/bin/python - <<'PY'
from flowgen.db.store import CatalogStore
from flowgen.tools.catalog_tools import CatalogTools

tools = CatalogTools(CatalogStore(), "acme-itsm")
for span in ("find all incidents assigned to them", "assign them to their manager",
             "page the on-call engineer", "open a Slack war room"):
    print(f"{span!r:45} -> {[s['name'] for s in tools.search_steps(span, 3)]}")
print(f"{'Incident table':45} -> {[t['name'] for t in tools.search_tables('Incident table', 3)]}")
PY
echo "== generate a flow with the shipped adapter"
$fg generate "When a priority 1 incident is created, email the manager of its assignment group" \
  --installation acme-itsm --out /tmp/flowgen-demo-flow.json || true
echo "== how it was made: the run's trace"
$fg runs show "$($fg runs list --limit 1 --json | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')"
echo "== validate a flow against the acme-itsm catalog"
$fg validate examples/reassign_inactive_user_incidents.json --catalog catalogs/acme-itsm.yaml
echo "== draw it"
$fg show examples/reassign_inactive_user_incidents.json
echo "== a flow with mistakes: the validator names each one (exit 1 expected)"
$fg validate examples/broken_flow.json --catalog catalogs/acme-itsm.yaml || true
echo "== score sample predictions against gold cases"
$fg score examples/predictions.jsonl examples/gold.jsonl --catalog catalogs/acme-itsm.yaml
