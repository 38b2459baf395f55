"""Request and response models of the OpenAI-compatible API, the subset flowgen speaks.

They mirror vLLM's server field for field, so `flowgen serve-model` and a vLLM server
are interchangeable behind `RemoteEngine`. Grammars travel as vLLM ≥ 0.12 takes them:
`structured_outputs: {"grammar": "..."}` (the older `guided_grammar` is read too).
"""

from __future__ import annotations

import time
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from flowgen.engine.base import ChatMessage


class StructuredOutputs(BaseModel):
    model_config = ConfigDict(extra="allow")

    grammar: str | None = None


class CompletionRequestBase(BaseModel):
    model_config = ConfigDict(extra="allow")  # OpenAI clients send fields we ignore

    model: str
    max_tokens: int | None = Field(default=None, ge=1, le=4096)
    stop: str | list[str] | None = None
    temperature: float | None = None  # decoding is greedy; accepted for compatibility
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
    max_model_len: int


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
