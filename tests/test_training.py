"""LoRA training on the real base model, on a handful of tiny examples: answer-only
loss, batching within the token budget, adapter + metadata, resuming after a crash."""

from __future__ import annotations

import json
import random

import pytest
from conftest import needs

from flowgen.training.examples import Example
from flowgen.training.train import IGNORE, TrainConfig, make_batches, tokenize, train

EXAMPLES = [
    Example(
        case_id=f"c{i}",
        task="inputs",
        messages=[
            {"role": "system", "content": "Fill in inputs."},
            {"role": "user", "content": f"Step {i}: look up incidents of priority {i}."},
        ],
        answer=f"table = incident\nconditions = priority={i}\n",
    )
    for i in range(1, 7)
]


@pytest.fixture(scope="module")
@needs("model")
def tokenizer(engine_dir):
    from transformers import AutoTokenizer

    from flowgen.engine.base_model import ensure_base_model

    return AutoTokenizer.from_pretrained(ensure_base_model())


@pytest.fixture(scope="module")
def engine_dir(tmp_path_factory):
    import os

    from flowgen.settings import reset_settings

    os.environ.setdefault("FLOWGEN_DATA_DIR", str(tmp_path_factory.mktemp("train-data")))
    reset_settings()


def test_loss_is_on_the_answer_only(tokenizer) -> None:
    ids, labels = tokenize(tokenizer, EXAMPLES[0], max_len=512)
    answer = [t for t in labels if t != IGNORE]
    assert len(ids) == len(labels) and labels[0] == IGNORE
    assert tokenizer.decode(answer) == EXAMPLES[0].answer + "<|im_end|>"
    assert ids[-len(answer) :] == answer  # the answer closes the sequence


def test_a_conversation_has_loss_on_every_answer_and_loses_its_end_when_too_long(
    tokenizer,
) -> None:
    flow = Example(
        case_id="flow",
        task="inputs",
        messages=[
            {"role": "system", "content": "You design flows."},
            {"role": "user", "content": "## Requirement\nClose stale incidents daily."},
            {"role": "assistant", "content": "T daily | daily\n- look_up_records | stale\n"},
            {"role": "user", "content": "## Trigger daily"},
            {"role": "assistant", "content": "time = 02:00\n"},
            {"role": "user", "content": "## Step 1. look_up_records"},
        ],
        answer="table = incident\n",
    )
    ids, labels = tokenize(tokenizer, flow, max_len=4096)
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    spans, current = [], []
    for token in labels:
        if token == IGNORE:
            if current:
                spans.append(tokenizer.decode(current))
            current = []
        else:
            current.append(token)
    spans.append(tokenizer.decode(current))
    assert spans == [
        "T daily | daily\n- look_up_records | stale\n<|im_end|>",
        "time = 02:00\n<|im_end|>",
        "table = incident\n<|im_end|>",
    ]
    assert ids[-1] == end and len(ids) == len(labels)
    # the whole conversation as inference renders it, answer last
    rendered = tokenizer.apply_chat_template(
        [*flow.messages, {"role": "assistant", "content": flow.answer}], tokenize=False
    )
    assert tokenizer.decode(ids) == rendered.rstrip("\n")
    short_ids, short_labels = tokenize(tokenizer, flow, max_len=40)
    assert short_ids == ids[:40] and short_labels == labels[:40]  # the start is kept


def test_batches_cover_every_example_within_the_budget() -> None:
    lengths = [random.Random(i).randrange(50, 900) for i in range(200)]
    batches = make_batches(lengths, 2048, random.Random(0))
    assert sorted(i for b in batches for i in b) == list(range(200))
    assert all(max(lengths[i] for i in b) * len(b) <= 2048 for b in batches if len(b) > 1)


@pytest.mark.model
def test_train_writes_an_adapter_and_resumes_after_a_crash(tmp_path, engine_dir) -> None:
    config = TrainConfig(batch_tokens=128, save_every=1, warmup_steps=1, rank=4, alpha=8)
    out = tmp_path / "adapter"

    def crash(step: int, total: int, loss: float, tps: float) -> None:
        if step == 2:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(EXAMPLES, out, config, on_step=crash)
    assert (out / "checkpoint" / "adapter_config.json").exists()  # saved after step 1
    steps: list[int] = []
    result = train(EXAMPLES, out, config, on_step=lambda s, *_: steps.append(s))
    assert steps[0] == 2 and steps[-1] == result.steps  # went on from the checkpoint
    assert len(result.losses) == result.steps
    assert (out / "adapter_config.json").exists() and not (out / "checkpoint").exists()
    meta = json.loads((out / "flowgen_adapter.json").read_text())
    assert meta["base_model"] == "SmolLM2-135M-Instruct" and len(meta["base_model_sha256"]) == 64
    assert meta["examples"] == len(EXAMPLES) and meta["result"]["tokens"] > 0
