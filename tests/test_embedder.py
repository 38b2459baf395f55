"""The embedder on ONNX Runtime: the vectors sentence-transformers computes, from a graph
exported once and cached by the weights it came from."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from flowgen.db.onnx_export import ExportError, exported_model, pooling_mode, weights_hash


def test_onnx_embeddings_are_sentence_transformers_embeddings(embedder):
    from sentence_transformers import SentenceTransformer

    from flowgen.db.embedder import Embedder

    embedder = Embedder(embedder.path, weights="fp32")

    texts = [
        "Every time a user becomes inactive, find all incidents assigned to them",
        "",
        "P1",
        "post a message to the #major-incidents Slack channel " * 80,  # past 256 tokens
        "Ünïcode façade — naïve résumé",
        "look up the caller's manager",
    ]
    reference = SentenceTransformer(str(embedder.path), device="cpu").encode(
        texts, normalize_embeddings=True, batch_size=4
    )
    got = embedder.encode(texts)
    assert got.shape == (len(texts), embedder.dim)
    np.testing.assert_allclose(got, reference, atol=2e-5)
    # One at a time (no padding) and in one batch (padded) give the same vectors.
    alone = np.vstack([embedder.encode([t]) for t in texts])
    np.testing.assert_allclose(alone, got, atol=2e-5)
    queries = embedder.encode_queries(texts[:3])
    np.testing.assert_allclose(queries, got[:3], atol=2e-5)


def test_the_export_is_cached_by_the_weights(embedder, tmp_path):
    cache = embedder.onnx_path.parent
    before = embedder.onnx_path.stat().st_mtime_ns
    assert exported_model(embedder.path, cache, embedder.weights) == embedder.onnx_path
    assert embedder.onnx_path.stat().st_mtime_ns == before  # not exported again

    folder = tmp_path / "encoder"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(b"weights one")
    first = weights_hash(folder)
    (folder / "model.safetensors").write_bytes(b"weights two")
    assert weights_hash(folder) != first  # a retrained retriever is exported again


def test_a_folder_that_is_no_encoder_is_named(tmp_path: Path):
    with pytest.raises(ExportError, match="no model weights"):
        exported_model(tmp_path, tmp_path / "cache")
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_max_tokens": True})
    )
    with pytest.raises(ExportError, match="not mean or CLS"):
        pooling_mode(tmp_path)
    (tmp_path / "model.safetensors").write_bytes(b"not a model")
    (tmp_path / "1_Pooling" / "config.json").write_text(
        json.dumps({"pooling_mode_mean_tokens": True})
    )
    with pytest.raises(ExportError, match="not a transformer folder"):
        exported_model(tmp_path, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*"))  # nothing half-written left


def test_pooling_is_read_as_every_sentence_transformers_version_writes_it(tmp_path: Path):
    """A retriever saved by sentence-transformers 5 (`flowgen train-retriever` today)
    names its pooling by one key; the shipped all-MiniLM-L6-v2 by one flag per mode."""
    (tmp_path / "1_Pooling").mkdir()
    config = tmp_path / "1_Pooling" / "config.json"
    for written, mode in [
        ({"embedding_dimension": 384, "pooling_mode": "mean", "include_prompt": True}, "mean"),
        ({"pooling_mode": "cls"}, "cls"),
        ({"pooling_mode_mean_tokens": True, "pooling_mode_cls_token": False}, "mean"),
    ]:
        config.write_text(json.dumps(written))
        assert pooling_mode(tmp_path) == mode
    config.write_text(json.dumps({"pooling_mode": "max"}))
    with pytest.raises(ExportError, match="not mean or CLS"):
        pooling_mode(tmp_path)


def test_int8_weights_are_a_model_of_their_own_close_to_fp32(embedder):
    from flowgen.db.embedder import Embedder

    full = Embedder(embedder.path, weights="fp32")
    small = Embedder(embedder.path, weights="int8")
    assert small.model_id != full.model_id  # the store re-embeds with it
    assert small.onnx_path.name.endswith("-int8.onnx")
    assert small.onnx_path.stat().st_size < full.onnx_path.stat().st_size / 3
    assert Embedder(embedder.path, weights="int8").onnx_path == small.onnx_path  # cached
    queries = ["find all incidents assigned to them", "page the on-call engineer"]
    documents = [
        "Look Up Records: find records of a table that match conditions",
        "Create Incident (PagerDuty): page the on-call responder",
        "Send SMS: text a phone number",
    ]
    a, b = full.encode(queries + documents), small.encode(queries + documents)
    np.testing.assert_allclose(np.linalg.norm(b, axis=1), 1.0, atol=1e-5)
    assert (a * b).sum(1).min() > 0.97
    # int8 queries rank fp32-embedded documents as fp32 queries do
    assert (b[:2] @ a[2:].T).argmax(1).tolist() == (a[:2] @ a[2:].T).argmax(1).tolist() == [0, 1]


def test_an_int8_vector_does_not_depend_on_the_texts_beside_it(embedder):
    """int8 activations are quantised over the whole batch, so a text embedded beside a
    long requirement would get another vector than alone; with int8 weights, queries and
    the items a sync stores run one at a time, so an item's stored vector is the one its
    text gets as a query, whatever was synced with it."""
    from flowgen.db.embedder import Embedder

    small = Embedder(embedder.path, weights="int8")
    clause = "email the assignment group's manager that nobody is on call"
    long_requirement = (
        "When an incident is created with priority 1, do the following in parallel. First, "
        "page the on-call engineer through PagerDuty and post the incident number in the "
        "#major-incidents Slack channel. Second, look up who is on call for the group."
    )
    alone = small.encode([clause])[0]
    batched = small.encode([long_requirement, clause], batch_size=32)[1]
    assert np.abs(batched - alone).max() > 1e-4  # the effect one text per run avoids
    np.testing.assert_array_equal(small.encode([long_requirement, clause])[1], alone)
    with_neighbour = small.encode_queries([long_requirement, clause])[1]
    np.testing.assert_array_equal(with_neighbour, alone)
    assert small.model_id.endswith("+int8-single")  # stores embed their items again
