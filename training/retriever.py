"""Fine-tuning the retriever's encoder on annotation → step/table pairs.

The outline and inputs calls retrieve steps and tables with an annotation (a span of
the requirement) as the query. Gold flows give pairs: each step's annotation and the
step it became; each table input and the annotation of its step. The encoder
(all-MiniLM-L6-v2) is trained contrastively with in-batch negatives
(MultipleNegativesRankingLoss): each annotation against every other positive of its
batch. Batches hold one installation's pairs, never the same item twice (it would be
its own false negative), so the negatives are the catalog's real look-alikes.

The tuned encoder is saved as a sentence-transformers folder with a
`flowgen_retriever.json` naming it; `db.embedder` uses it when it is in the data dir
(and every stored installation is re-synced, since stored vectors must come from the
encoder that embeds the queries).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flowgen.db.embedder import TUNED_META
from flowgen.db.models import StepRow, TableRow
from flowgen.db.sync import catalog_items
from flowgen.flow.catalog import Catalog
from flowgen.flow.model import Flow
from flowgen.training.cases import Case

TABLE_INPUTS = ("table", "table_name")


@dataclass(frozen=True)
class Pair:
    installation: str
    kind: str  # "step" or "table"
    annotation: str
    name: str


def retrieval_pairs(cases: Iterable[Case], catalogs: dict[str, Catalog]) -> list[Pair]:
    """Distinct (annotation, step) and (annotation, table) pairs of the gold flows."""
    pairs: dict[Pair, None] = {}
    for case in cases:
        if not case.flow or case.installation not in catalogs:
            continue
        catalog = catalogs[case.installation]
        flow = Flow.model_validate(case.flow)
        for component in flow.components:
            annotation = (component.annotation or "").strip()
            if not annotation:
                continue
            if catalog.step(component.definition) is not None:
                pairs[Pair(case.installation, "step", annotation, component.definition)] = None
            for given in component.inputs:
                value = str(given.value)
                if given.name in TABLE_INPUTS and catalog.table(value) is not None:
                    pairs[Pair(case.installation, "table", annotation, value)] = None
    return list(pairs)


def item_texts(catalog: Catalog) -> dict[tuple[str, str], str]:
    """(kind, name) → the text the store embeds for it (exactly the sync's)."""
    items = catalog_items(catalog)
    texts = {("step", k[0]): item.embed_text for k, item in items[StepRow].items()}
    texts |= {("table", k[0]): item.embed_text for k, item in items[TableRow].items()}
    return texts


def batches(pairs: list[Pair], size: int, rng: random.Random) -> list[list[Pair]]:
    """One installation per batch, each item at most once per batch."""
    out: list[list[Pair]] = []
    for installation in sorted({p.installation for p in pairs}):
        mine = [p for p in pairs if p.installation == installation]
        rng.shuffle(mine)
        open_batches: list[tuple[list[Pair], set[tuple[str, str]]]] = []
        for pair in mine:
            key = (pair.kind, pair.name)
            home = next((b for b in open_batches if key not in b[1] and len(b[0]) < size), None)
            if home is None:
                home = ([], set())
                open_batches.append(home)
            home[0].append(pair)
            home[1].add(key)
        out += [b for b, _ in open_batches if len(b) > 1]
    rng.shuffle(out)
    return out


def recall_at(
    encode: Callable[[list[str]], np.ndarray],
    pairs: list[Pair],
    catalogs: dict[str, Catalog],
    k: int = 5,
) -> dict[str, float]:
    """Vector-only recall@k of each kind: the encoder's share of the hybrid ranker."""
    hits: dict[str, list[bool]] = {"step": [], "table": []}
    for installation in sorted({p.installation for p in pairs}):
        texts = item_texts(catalogs[installation])
        for kind in hits:
            keys = [key for key in texts if key[0] == kind]
            mine = [p for p in pairs if p.installation == installation and p.kind == kind]
            if not mine:
                continue
            items = encode([texts[key] for key in keys])
            queries = encode([p.annotation for p in mine])
            top = np.argsort(-(queries @ items.T), axis=1)[:, :k]
            for pair, row in zip(mine, top, strict=True):
                hits[kind].append(any(keys[i][1] == pair.name for i in row))
    return {kind: round(sum(h) / len(h), 3) for kind, h in hits.items() if h}


def train_retriever(
    pairs: list[Pair],
    catalogs: dict[str, Catalog],
    base: Path,
    out: Path,
    *,
    epochs: int = 1,
    batch_size: int = 32,
    lr: float = 2e-5,
    seed: int = 0,
    on_step: Callable[[int, int, float], None] | None = None,
) -> dict[str, object]:
    import torch
    from sentence_transformers import SentenceTransformer

    # sentence-transformers 6 keeps this path as an alias made at import time (mypy sees no
    # module); the releases before it, which pyproject allows, have only this path.
    from sentence_transformers.losses import (  # type: ignore[import-not-found]
        MultipleNegativesRankingLoss,
    )

    torch.manual_seed(seed)
    rng = random.Random(seed)
    model = SentenceTransformer(str(base), device="cpu")
    loss_fn = MultipleNegativesRankingLoss(model)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    texts = {i: item_texts(catalogs[i]) for i in {p.installation for p in pairs}}
    plan = [b for _ in range(epochs) for b in batches(pairs, batch_size, rng)]
    warmup = max(1, len(plan) // 10)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: min(1.0, (step + 1) / warmup)
    )
    model.train()
    losses: list[float] = []
    for step, batch in enumerate(plan, start=1):
        anchors = model.preprocess([p.annotation for p in batch])
        positives = model.preprocess([texts[p.installation][(p.kind, p.name)] for p in batch])
        loss = loss_fn([anchors, positives], torch.empty(0))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        scheduler.step()
        losses.append(float(loss.detach()))
        if on_step:
            on_step(step, len(plan), losses[-1])
    model.eval()
    out.mkdir(parents=True, exist_ok=True)
    model.save(str(out))
    digest = hashlib.sha256((out / "model.safetensors").read_bytes()).hexdigest()[:12]
    meta = {
        "model_id": f"minilm-flowgen-{digest}",
        "base": base.name,
        "pairs": len(pairs),
        "steps": len(plan),
        "epochs": epochs,
        "batch_size": batch_size,
        "lr": lr,
        "seed": seed,
        "final_loss": round(float(np.mean(losses[-20:])), 4) if losses else None,
    }
    (out / TUNED_META).write_text(json.dumps(meta, indent=2) + "\n")
    return meta
