"""Retrieval quality of the catalog tools: recall@k and MRR per ranker.

    python benchmarks/retrieval_eval.py [--pairs benchmarks/data/acme_retrieval_pairs.jsonl]

Syncs the catalog into the store (embedded Postgres unless DATABASE_URL is set), then
ranks every annotation with the hybrid ranker, vector similarity only and full-text only,
and prints one JSON line per ranker and kind (steps, tables).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from flowgen.db.connection import get_engine
from flowgen.db.models import StepRow, TableRow
from flowgen.db.store import CatalogStore
from flowgen.db.sync import sync_file

REPO = Path(__file__).resolve().parent.parent
DEPTH = 50  # ranks beyond this count as a miss for MRR


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pairs", default=str(REPO / "benchmarks/data/acme_retrieval_pairs.jsonl"))
    parser.add_argument("--catalog", default=str(REPO / "catalogs/acme-itsm.yaml"))
    parser.add_argument("--misses", action="store_true", help="print the annotations missed")
    parser.add_argument("--no-lexicon", action="store_true", help="no verb expansion for steps")
    args = parser.parse_args()
    engine = get_engine()
    installation = sync_file(args.catalog, engine).installation
    store = CatalogStore(engine, lexicon=not args.no_lexicon)
    pairs = [json.loads(line) for line in Path(args.pairs).read_text().splitlines() if line]
    for kind, model, at in (("step", StepRow, (5, 10)), ("table", TableRow, (1, 5))):
        gold = [(p["annotation"], p[kind]) for p in pairs if p.get(kind)]
        for mode in ("hybrid", "vector", "fts"):
            ranks = []
            for annotation, expected in gold:
                hits = store.search(model, installation, annotation, DEPTH, mode=mode)
                names = [row.name for row, _ in hits]
                rank = names.index(expected) + 1 if expected in names else None
                ranks.append(rank)
                if args.misses and mode == "hybrid" and (rank is None or rank > at[-1]):
                    print(f"  miss {kind}: {annotation!r} -> {expected} (rank {rank}): {names[:5]}")
            result = {"kind": kind, "ranker": mode, "n": len(gold)}
            for k in at:
                result[f"recall@{k}"] = round(
                    sum(r is not None and r <= k for r in ranks) / len(gold), 3
                )
            result["mrr"] = round(sum(1 / r for r in ranks if r) / len(gold), 3)
            print(json.dumps(result))


if __name__ == "__main__":
    main()
