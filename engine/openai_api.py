"""Request and response models of the OpenAI-compatible API, the subset flowgen speaks.

They mirror vLLM's server field for field, so `flowgen serve-model` and a vLLM server
are interchangeable behind `RemoteEngine`. Grammars travel as vLLM ≥ 0.12 takes them:
`structured_outputs: {"grammar": "..."}` (the older `guided_grammar` is read too).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from flowgen.engine.base import ChatMessage


class StructuredOutputs(BaseModel):
    model_config = ConfigDict(extra="allow")

    grammar: str | None = None


class StreamOptions(BaseModel):
    model_config = ConfigDict(extra="allow")

    include_usage: bool = False


class CompletionRequestBase(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI clients send fields we ignore

    model: str
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    stop: str | list[str] | None = None
    # Unset is greedy (what flowgen asks for), not OpenAI's default of 1: a client that
    # says nothing gets the reproducible answer.
    temperature: float | None = Field(default=None, ge=0.0, le=2.0)
    seed: int | None = None
    # One choice per request: a client asking for more must hear so, not get one.
    n: int = Field(default=1, ge=1, le=1)
    stream: bool = False
    stream_options: StreamOptions | None = None
    structured_outputs: StructuredOutputs | None = None
    guided_grammar: str | None = None
    logit_bias: dict[int, float] | None = None  # OpenAI sends token ids as string keys

    def grammar(self) -> str | None:
        if self.structured_outputs and self.structured_outputs.grammar:
            return self.structured_outputs.grammar
        return self.guided_grammar

    def stops(self) -> list[str]:
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    def include_usage(self) -> bool:
        return self.stream_options is not None and self.stream_options.include_usage


class CompletionRequest(CompletionRequestBase):
    prompt: str


class ChatCompletionRequest(CompletionRequestBase):
    messages: list[ChatMessage]


class TokenizeRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    model: str | None = None
    prompt: str
    add_special_tokens: bool = False


class TokenizeResponse(BaseModel):
    tokens: list[int]
    count: int
    max_model_len: int | None = None  # unknown when the engine is itself remote


class UsageInfo(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    prompt_tokens_details: dict[str, int] | None = None


class CompletionChoice(BaseModel):
    index: int = 0
    text: str
    finish_reason: Literal["stop", "length"]


class CompletionResponse(BaseModel):
    id: str = Field(default_factory=lambda: f"cmpl-{uuid.uuid4().hex}")
    object: Literal["text_completion"] = "text_completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[CompletionChoice]
    usage: UsageInfo


class ChatChoice(BaseModel):
    index: int = 0
    message: ChatMessage
    finish_reason: Literal["stop", "length"]


class ChatCompletionResponse(BaseModel):
    id: str = Field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex}")
    object: Literal["chat.completion"] = "chat.completion"
    created: int = Field(default_factory=lambda: int(time.time()))
    model: str
    choices: list[ChatChoice]
    usage: UsageInfo


# -- streaming (`stream: true`): server-sent events, one chunk object per `data:` line --
class CompletionChunkChoice(BaseModel):
    index: int = 0
    text: str
    logprobs: None = None
    finish_reason: Literal["stop", "length"] | None = None


class CompletionChunk(BaseModel):
    """OpenAI names streamed text completions `text_completion`, like the whole answer."""

    id: str
    object: Literal["text_completion"] = "text_completion"
    created: int
    model: str
    choices: list[CompletionChunkChoice]
    usage: UsageInfo | None = None


class ChatDelta(BaseModel):
    role: Literal["assistant"] | None = None
    content: str | None = None

    @model_serializer(mode="wrap")
    def _set_fields_only(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        # OpenAI's deltas carry only what changed (`{}` on the finishing chunk); clients
        # merge them field by field, so a `"role": null` would read as a change.
        return {k: v for k, v in handler(self).items() if v is not None}


class ChatChunkChoice(BaseModel):
    index: int = 0
    delta: ChatDelta
    logprobs: None = None
    finish_reason: Literal["stop", "length"] | None = None


class ChatCompletionChunk(BaseModel):
    id: str
    object: Literal["chat.completion.chunk"] = "chat.completion.chunk"
    created: int
    model: str
    choices: list[ChatChunkChoice]
    usage: UsageInfo | None = None


class ModelCard(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int = Field(default_factory=lambda: int(time.time()))
    owned_by: str = "flowgen"
    root: str | None = None
    parent: str | None = None


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelCard]


class ErrorBody(BaseModel):
    message: str
    type: str
    code: int
    param: str | None = None


class ErrorResponse(BaseModel):
    error: ErrorBody

    @classmethod
    def of(cls, code: int, kind: str, message: str) -> dict[str, Any]:
        return cls(error=ErrorBody(message=message, type=kind, code=code)).model_dump()
