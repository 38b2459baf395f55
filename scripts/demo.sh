#!/usr/bin/env bash
# Command one of the README: install, then run flowgen on the embedded defaults.
# Until the generator lands, the main job validates, draws and scores the sample flows.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
fg=.venv/bin/flowgen
echo "== validate a flow against the acme-itsm catalog"
$fg validate examples/reassign_inactive_user_incidents.json --catalog catalogs/acme-itsm.yaml
echo "== draw it"
$fg show examples/reassign_inactive_user_incidents.json
echo "== a flow with mistakes: the validator names each one (exit 1 expected)"
$fg validate examples/broken_flow.json --catalog catalogs/acme-itsm.yaml || true
echo "== score sample predictions against gold cases"
$fg score examples/predictions.jsonl examples/gold.jsonl --catalog catalogs/acme-itsm.yaml
