"""What the graph asks of a model, and what it gets back, whatever serves the model."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Literal, Protocol, runtime_checkable

from pydantic import BaseModel, Field


class ChatMessage(BaseModel):
    role: Literal["system", "user", "assistant"]
    content: str


class GenerationRequest(BaseModel):
    """One call. Either `messages` (rendered with the model's chat template) or `prompt`.

    `grammar` is an EBNF grammar (xgrammar / GBNF dialect, root rule `root`) that the
    output must match; the engine only samples tokens the grammar allows.
    Engines reuse the KV cache of a prompt prefix shared with an earlier call (the
    per-step calls of one flow) on their own, as vLLM's automatic prefix caching does.
    """

    messages: list[ChatMessage] | None = None
    prompt: str | None = None
    grammar: str | None = None
    adapter: str | None = None
    max_tokens: int = Field(default=256, ge=1, le=4096)
    stop: list[str] = Field(default_factory=list)
    # OpenAI semantics: added to these token ids' logits at every step (before the
    # grammar mask). The graph uses it to set how readily the outline call refuses.
    logit_bias: dict[int, float] = Field(default_factory=dict)
    # 0 is greedy (what the graph uses); above 0 samples, reproducibly for a given seed
    # (several candidate outlines for consensus decoding).
    temperature: float = Field(default=0.0, ge=0.0, le=5.0)
    seed: int | None = None
    # In-process engines only (never sent over HTTP): asked, with the answer so far,
    # whenever the answer would end; False keeps it going where the grammar allows more
    # (the outline's coverage rule, graph/coverage.py).
    may_end: Callable[[str], bool] | None = Field(default=None, exclude=True, repr=False)
    # In-process engines only: asked, with the answer so far, each time a line of it is
    # complete; True ends the answer after that line, finished (the outline stops at a step that
    # repeats an earlier one, graph/outline_repair.py).
    ends_after_line: Callable[[str], bool] | None = Field(default=None, exclude=True, repr=False)
    # In-process engines only: how many times a line that `ends_after_line` flags is
    # written again, differently, before such a line ends the answer. Decoding goes back
    # to the least certain choice made since the newline before that line and bars the
    # token chosen there (the outline's repeated step, docs/graph.md).
    redo_lines: int = Field(default=0, ge=0, exclude=True)
    # Asked, with the answer so far, before a flagged line is written again; False ends
    # the answer there instead (None: always written again, while `redo_lines` last).
    may_redo: Callable[[str], bool] | None = Field(default=None, exclude=True, repr=False)


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    cached_prompt_tokens: int = 0
    # Speculative decoding (engine/speculation.py): tokens guessed and run ahead, and
    # how many of them the model chose.
    draft_tokens: int = 0
    accepted_draft_tokens: int = 0
    # Lines written again (`GenerationRequest.redo_lines`).
    redone_lines: int = 0


class Timings(BaseModel):
    """Where a call's time went. `first_token_s` and `total_s` are wall times from the
    call's start; the rest split `total_s` so a slow call can be explained from its trace:
    grammar compilation, the prompt's forward pass (tokens not served from cache), the
    decoding forward passes, computing the grammar's token masks, and what remains
    (tokenizing, Python)."""

    first_token_s: float
    total_s: float
    compile_s: float = 0.0
    prompt_s: float = 0.0
    decode_s: float = 0.0
    mask_s: float = 0.0


FinishReason = Literal["stop", "length", "grammar_rejected"]


class GenerationResult(BaseModel):
    text: str
    finish_reason: FinishReason
    usage: Usage
    timings: Timings
    model: str
    adapter: str | None = None

    @property
    def complete(self) -> bool:
        """True when the output ended where the grammar (or the model) meant it to."""
        return self.finish_reason == "stop"


class EngineError(RuntimeError):
    """The model could not be reached or asked for (server down, unknown adapter, ...)."""


class Engine(Protocol):
    @property
    def model_name(self) -> str: ...

    def adapters(self) -> list[str]: ...

    def tokenize(self, text: str) -> list[int]: ...

    def generate(self, request: GenerationRequest) -> GenerationResult: ...


@runtime_checkable
class StreamingEngine(Engine, Protocol):
    """An engine that can hand out text as it is decoded (`flowgen serve-model`'s
    `stream=true`): `stream` yields text deltas (str) in order and, last, the same
    `GenerationResult` that `generate` would have returned."""

    def stream(self, request: GenerationRequest) -> Iterator[str | GenerationResult]: ...
