"""LoRA fine-tuning of the base model on the examples of both tasks.

Loss on the answer tokens only (the prompt is context). Examples are never cut in two:
they are grouped by length into batches of at most `batch_tokens` padded tokens, which
wastes little padding and keeps examples from attending to each other. Training is
deterministic for a seed and resumable: a checkpoint (adapter, optimizer, scheduler,
position) is written every `save_every` steps.
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from flowgen.graph.generator import ADAPTER_META
from flowgen.training.examples import Example

IGNORE = -100
LORA_TARGETS = ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"]


@dataclass
class TrainConfig:
    epochs: float = 1.0
    lr: float = 3e-4
    rank: int = 16
    alpha: int = 32
    dropout: float = 0.05
    warmup_steps: int = 10
    batch_tokens: int = 4096
    max_len: int = 3072
    seed: int = 0
    save_every: int = 25
    bf16: bool | None = None  # None: on a GPU that has it, or a CPU with native bf16
    # A Hugging Face model folder to train on instead of the embedded SmolLM2 (a larger
    # base on a GPU: docs/training.md, "Larger bases on a GPU").
    base_model: str | None = None


@dataclass
class TrainResult:
    steps: int
    tokens: int  # every token computed (prompt + answer), padding excluded
    answer_tokens: int
    seconds: float
    tokens_per_s: float
    padding_fraction: float
    final_loss: float
    losses: list[float] = field(default_factory=list)


def tokenize(tokenizer: Any, example: Example, max_len: int) -> tuple[list[int], list[int]]:
    """Token ids and labels: loss on every assistant answer (a flow's conversation has the
    outline's and each item's), the rest is context. A sequence over `max_len` loses its
    last turns; a single answer keeps its end and loses the prompt's start instead."""
    end = tokenizer.convert_tokens_to_ids("<|im_end|>")
    messages = [*example.messages, {"role": "assistant", "content": example.answer}]
    ids: list[int] = []
    labels: list[int] = []
    for k, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        prompt = tokenizer.apply_chat_template(
            messages[:k], add_generation_prompt=True, tokenize=True, return_dict=True
        )["input_ids"]
        if prompt[: len(ids)] == ids:
            context = prompt[len(ids) :]
        else:  # the template re-rendered an earlier turn: start over, as context
            ids, labels, context = [], [], prompt
        answer = [*tokenizer(message["content"], add_special_tokens=False)["input_ids"], end]
        ids += context + answer
        labels += [IGNORE] * len(context) + answer
    if len(ids) <= max_len:
        return ids, labels
    if len(messages) > 2:  # a conversation: keep its beginning (the requirement, the outline)
        return ids[:max_len], labels[:max_len]
    return ids[-max_len:], labels[-max_len:]


def make_batches(lengths: list[int], batch_tokens: int, rng: random.Random) -> list[list[int]]:
    """Indices grouped by similar length, each batch's padded size ≤ batch_tokens."""
    order = sorted(range(len(lengths)), key=lambda i: (lengths[i], rng.random()))
    batches: list[list[int]] = []
    current: list[int] = []
    longest = 0
    for i in order:
        longest_if = max(longest, lengths[i])
        if current and longest_if * (len(current) + 1) > batch_tokens:
            batches.append(current)
            current, longest_if = [], lengths[i]
        current.append(i)
        longest = longest_if
    if current:
        batches.append(current)
    rng.shuffle(batches)
    return batches


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def save_half(adapter_dir: Path) -> None:
    """Store the adapter's weights in fp16: half the size (the shipped adapter stays a
    few MB) and no measurable change once loaded back onto the fp32 base."""
    import torch
    from safetensors.torch import load_file, save_file

    path = adapter_dir / "adapter_model.safetensors"
    tensors = load_file(path)
    save_file(
        {k: v.to(torch.float16) if v.is_floating_point() else v for k, v in tensors.items()},
        path,
        metadata={"format": "pt"},
    )


def train(
    examples: list[Example],
    out: Path,
    config: TrainConfig,
    *,
    init_from: Path | None = None,
    metadata: dict[str, Any] | None = None,
    on_step: Callable[[int, int, float, float], None] | None = None,
) -> TrainResult:
    """Train a LoRA adapter into `out` (resuming from `out/checkpoint` when present)."""
    import torch
    from peft import LoraConfig, PeftModel, get_peft_model
    from transformers import AutoModelForCausalLM, AutoTokenizer, get_cosine_schedule_with_warmup

    from flowgen.engine.base_model import BASE_MODEL_NAME, ensure_base_model
    from flowgen.engine.local import cpu_has_fast_bf16

    random.seed(config.seed)
    torch.manual_seed(config.seed)
    base_path = Path(config.base_model) if config.base_model else ensure_base_model()
    base_name = base_path.name if config.base_model else BASE_MODEL_NAME
    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(base_path)
    # transformers' decorator on `to` types its argument as a model; a device is right.
    model = AutoModelForCausalLM.from_pretrained(base_path, dtype=torch.float32).to(device)  # type: ignore[arg-type]
    checkpoint = out / "checkpoint"
    if (checkpoint / "adapter_config.json").exists():
        model = PeftModel.from_pretrained(model, checkpoint, is_trainable=True)
    elif init_from is not None:
        model = PeftModel.from_pretrained(model, init_from, is_trainable=True)
    else:
        lora = LoraConfig(
            r=config.rank,
            lora_alpha=config.alpha,
            lora_dropout=config.dropout,
            target_modules=LORA_TARGETS,
            task_type="CAUSAL_LM",
        )
        model = get_peft_model(model, lora)
    model.train()

    encoded = [tokenize(tokenizer, e, config.max_len) for e in examples]
    lengths = [len(ids) for ids, _ in encoded]
    rng = random.Random(config.seed)
    epochs = max(1, math.ceil(config.epochs))
    plan = [make_batches(lengths, config.batch_tokens, rng) for _ in range(epochs)]
    flat = [b for epoch in plan for b in epoch]
    flat = flat[: max(1, round(len(flat) * config.epochs / epochs))]
    params = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(params, lr=config.lr, weight_decay=0.0)
    scheduler = get_cosine_schedule_with_warmup(optimizer, config.warmup_steps, len(flat))
    start_step, losses = 0, []
    state_file = checkpoint / "trainer_state.pt"
    if state_file.exists():
        state = torch.load(state_file, weights_only=False, map_location=device)
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        start_step, losses = state["step"], state["losses"]
        torch.set_rng_state(state["torch_rng"].cpu())

    if config.bf16 is not None:
        bf16 = config.bf16
    else:
        bf16 = torch.cuda.is_bf16_supported() if device == "cuda" else cpu_has_fast_bf16()
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    tokens = answer_tokens = padded = 0
    started = time.perf_counter()
    for step in range(start_step, len(flat)):
        batch = flat[step]
        width = max(lengths[i] for i in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        labels = torch.full((len(batch), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for row, i in enumerate(batch):
            seq, lab = encoded[i]
            ids[row, : len(seq)] = torch.tensor(seq)
            labels[row, : len(lab)] = torch.tensor(lab)
            mask[row, : len(seq)] = 1
        ids, labels, mask = ids.to(device), labels.to(device), mask.to(device)
        with torch.autocast(device, dtype=torch.bfloat16, enabled=bf16):
            loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, 1.0)
        optimizer.step()
        scheduler.step()
        optimizer.zero_grad(set_to_none=True)
        losses.append(round(loss.item(), 4))
        n = int(mask.sum())
        tokens += n
        padded += ids.numel()
        answer_tokens += int((labels != IGNORE).sum())
        if on_step:
            on_step(step + 1, len(flat), loss.item(), tokens / (time.perf_counter() - started))
        if (step + 1) % config.save_every == 0 and step + 1 < len(flat):
            model.save_pretrained(checkpoint)
            torch.save(
                {
                    "optimizer": optimizer.state_dict(),
                    "scheduler": scheduler.state_dict(),
                    "step": step + 1,
                    "losses": losses,
                    "torch_rng": torch.get_rng_state(),
                },
                state_file,
            )
    seconds = time.perf_counter() - started
    model.save_pretrained(out)
    save_half(out)
    result = TrainResult(
        steps=len(flat),
        tokens=tokens,
        answer_tokens=answer_tokens,
        seconds=round(seconds, 1),
        tokens_per_s=round(tokens / seconds, 1) if seconds else 0.0,
        padding_fraction=round(1 - tokens / padded, 4) if padded else 0.0,
        final_loss=float(sum(losses[-10:]) / max(1, len(losses[-10:]))),
        losses=losses,
    )
    weights = base_path / "model.safetensors"
    meta = {
        "base_model": base_name,
        "device": device,
        "base_model_sha256": file_sha256(weights) if weights.exists() else None,
        "config": asdict(config),
        "bf16": bf16,
        "init_from": Path(init_from).name if init_from else None,  # the adapter it grew from
        "examples": len(examples),
        "result": {k: v for k, v in asdict(result).items() if k != "losses"},
        **(metadata or {}),
    }
    (out / ADAPTER_META).write_text(json.dumps(meta, indent=2) + "\n")
    if checkpoint.exists():
        import shutil

        shutil.rmtree(checkpoint)
    return result
