#!/usr/bin/env bash
# Command one of the README: install, then run flowgen on the embedded defaults.
# Until the generator lands, the main job syncs the demo catalog into the embedded
# Postgres, searches it, and validates, draws and scores the sample flows.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
fg=.venv/bin/flowgen
echo "== sync the acme-itsm catalog into the embedded Postgres (pgvector)"
$fg catalog sync catalogs/acme-itsm.yaml
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
echo "== validate a flow against the acme-itsm catalog"
$fg validate examples/reassign_inactive_user_incidents.json --catalog catalogs/acme-itsm.yaml
echo "== draw it"
$fg show examples/reassign_inactive_user_incidents.json
echo "== a flow with mistakes: the validator names each one (exit 1 expected)"
$fg validate examples/broken_flow.json --catalog catalogs/acme-itsm.yaml || true
echo "== score sample predictions against gold cases"
$fg score examples/predictions.jsonl examples/gold.jsonl --catalog catalogs/acme-itsm.yaml
