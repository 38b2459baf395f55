"""`flowgen serve-model`: an OpenAI-compatible HTTP server over an engine.

Small deployments need no GPU, and `RemoteEngine` is tested against a real server. The
base model and every loaded adapter are listed as models; `model` picks the adapter.
`stream: true` answers with server-sent events shaped as OpenAI's (chunk objects, then
`data: [DONE]`), for chat and text completions alike.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections.abc import AsyncGenerator, Iterator
from typing import Any, Literal, TypeVar

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.requests import Request
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from flowgen.engine.base import (
    Engine,
    EngineError,
    GenerationRequest,
    GenerationResult,
    StreamingEngine,
)
from flowgen.engine.decoding import ConstrainedDecoder
from flowgen.engine.openai_api import (
    ChatChoice,
    ChatChunkChoice,
    ChatCompletionChunk,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatDelta,
    ChatMessage,
    CompletionChoice,
    CompletionChunk,
    CompletionChunkChoice,
    CompletionRequest,
    CompletionRequestBase,
    CompletionResponse,
    ErrorResponse,
    ModelCard,
    ModelList,
    TokenizeRequest,
    TokenizeResponse,
    UsageInfo,
)

DEFAULT_MAX_TOKENS = 256
SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}

Item = TypeVar("Item")


class _NotFound(Exception):
    pass


def create_app(engine: Engine) -> FastAPI:
    app = FastAPI(title="flowgen model server", version="1")

    @app.exception_handler(_NotFound)
    async def not_found(_: Request, exc: _NotFound) -> JSONResponse:
        return JSONResponse(ErrorResponse.of(404, "NotFoundError", str(exc)), status_code=404)

    @app.exception_handler(EngineError)
    async def bad_request(_: Request, exc: EngineError) -> JSONResponse:
        return JSONResponse(ErrorResponse.of(400, "BadRequestError", str(exc)), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        first: dict[str, Any] = errors[0] if errors else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        message = f"{where}: {first['msg']}" if where else first["msg"]
        return JSONResponse(ErrorResponse.of(400, "BadRequestError", message), status_code=400)

    def adapter_for(model: str) -> str | None:
        if model == engine.model_name:
            return None
        if model in engine.adapters():
            return model
        raise _NotFound(f"The model `{model}` does not exist.")

    def request_for(body: CompletionRequestBase, **kwargs: Any) -> GenerationRequest:
        return GenerationRequest(
            adapter=adapter_for(body.model),
            grammar=body.grammar(),
            max_tokens=body.max_tokens or DEFAULT_MAX_TOKENS,
            stop=body.stops(),
            logit_bias=body.logit_bias or {},
            temperature=body.temperature or 0.0,
            seed=body.seed,
            **kwargs,
        )

    def pieces(request: GenerationRequest) -> Iterator[str | GenerationResult]:
        if isinstance(engine, StreamingEngine):
            return engine.stream(request)
        # An engine that cannot stream still answers a correct stream: all text at once.
        return _whole(engine, request)

    async def answer(request: GenerationRequest) -> GenerationResult:
        # `generate` on a thread of its own, as a stream's decoding runs: the event loop
        # keeps serving while the model works.
        return await _result(_in_thread(_whole(engine, request)))

    async def stream(
        body: CompletionRequestBase, request: GenerationRequest, chat: bool
    ) -> StreamingResponse:
        items = _in_thread(pieces(request))
        # The first piece comes after the grammar compiled and the prompt ran: an unknown
        # adapter or a bad grammar is still an HTTP error the client raises, not a 200
        # stream that breaks off.
        first = await anext(items)
        return _EventStream(_chunks(body, first, items, chat=chat))

    @app.get("/v1/models")
    def models() -> ModelList:
        base = ModelCard(id=engine.model_name, root=engine.model_name)
        tenants = [
            ModelCard(id=a, root=engine.model_name, parent=engine.model_name)
            for a in engine.adapters()
        ]
        return ModelList(data=[base, *tenants])

    @app.post("/v1/completions", response_model=CompletionResponse)
    async def completions(body: CompletionRequest) -> CompletionResponse | StreamingResponse:
        request = request_for(body, prompt=body.prompt)
        if body.stream:
            return await stream(body, request, chat=False)
        result = await answer(request)
        choice = CompletionChoice(text=result.text, finish_reason=_finish(result))
        return CompletionResponse(model=body.model, choices=[choice], usage=_usage(result))

    @app.post("/v1/chat/completions", response_model=ChatCompletionResponse)
    async def chat(body: ChatCompletionRequest) -> ChatCompletionResponse | StreamingResponse:
        request = request_for(body, messages=body.messages)
        if body.stream:
            return await stream(body, request, chat=True)
        result = await answer(request)
        message = ChatMessage(role="assistant", content=result.text)
        choice = ChatChoice(message=message, finish_reason=_finish(result))
        return ChatCompletionResponse(model=body.model, choices=[choice], usage=_usage(result))

    @app.post("/tokenize")
    def tokenize(body: TokenizeRequest) -> TokenizeResponse:
        ids = engine.tokenize(body.prompt)
        limit = None
        if isinstance(engine, ConstrainedDecoder):
            if body.add_special_tokens and engine.tokenizer.bos_token_id is not None:
                ids = [engine.tokenizer.bos_token_id, *ids]
            limit = engine.max_context
        return TokenizeResponse(tokens=ids, count=len(ids), max_model_len=limit)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


class _EventStream(StreamingResponse):
    """Server-sent events whose producer is closed however the response ends. Starlette
    stops iterating when the client disconnects but leaves the iterator open; closing it
    here stops the engine at its next token instead of whenever it is collected."""

    def __init__(self, events: AsyncGenerator[str, None]):
        super().__init__(events, media_type="text/event-stream", headers=SSE_HEADERS)
        self._events = events

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            await self._events.aclose()


async def _result(items: AsyncGenerator[str | GenerationResult, None]) -> GenerationResult:
    try:
        async for item in items:
            if isinstance(item, GenerationResult):
                return item
    finally:
        await items.aclose()
    raise EngineError("the engine ended without a result")


def _whole(engine: Engine, request: GenerationRequest) -> Iterator[str | GenerationResult]:
    result = engine.generate(request)
    if result.text:
        yield result.text
    yield result


def _finish(result: GenerationResult) -> Literal["stop", "length"]:
    return "stop" if result.finish_reason == "stop" else "length"


def _usage(result: GenerationResult) -> UsageInfo:
    u = result.usage
    return UsageInfo(
        prompt_tokens=u.prompt_tokens,
        completion_tokens=u.completion_tokens,
        total_tokens=u.prompt_tokens + u.completion_tokens,
        prompt_tokens_details={"cached_tokens": u.cached_prompt_tokens},
    )


async def _chunks(
    body: CompletionRequestBase,
    first: str | GenerationResult,
    rest: AsyncGenerator[str | GenerationResult, None],
    *,
    chat: bool,
) -> AsyncGenerator[str, None]:
    """The SSE body: OpenAI's chunk sequence for one choice. Chat opens with the role,
    text deltas follow, a chunk with an empty delta carries `finish_reason`, a chunk with
    no choices carries `usage` when `stream_options.include_usage` asks, then `[DONE]`."""
    stream_id = f"{'chatcmpl' if chat else 'cmpl'}-{uuid.uuid4().hex}"
    created = int(time.time())
    with_usage = body.include_usage()

    def event(choice: Any, usage: UsageInfo | None = None) -> str:
        kind = ChatCompletionChunk if chat else CompletionChunk
        chunk: BaseModel = kind(
            id=stream_id,
            created=created,
            model=body.model,
            choices=[choice] if choice is not None else [],
            usage=usage,
        )
        # OpenAI sends `usage` (null until the last chunk) only to clients that asked.
        return f"data: {chunk.model_dump_json(exclude=None if with_usage else {'usage'})}\n\n"

    def text(delta: str, finish: Literal["stop", "length"] | None = None) -> str:
        if chat:
            content = ChatDelta(content=delta) if finish is None else ChatDelta()
            return event(ChatChunkChoice(delta=content, finish_reason=finish))
        return event(CompletionChunkChoice(text=delta, finish_reason=finish))

    try:
        if chat:
            yield event(ChatChunkChoice(delta=ChatDelta(role="assistant", content="")))
        result = first if isinstance(first, GenerationResult) else None
        if isinstance(first, str):
            yield text(first)
        if result is None:
            async for piece in rest:
                if isinstance(piece, GenerationResult):
                    result = piece
                    break
                yield text(piece)
        if result is None:
            raise EngineError("the engine ended without a result")
        yield text("", finish=_finish(result))
        if with_usage:
            yield event(None, usage=_usage(result))
        yield "data: [DONE]\n\n"
    except Exception as exc:
        # Whatever failed, the status line is long sent: OpenAI's way is an `error`
        # event, which the official client raises as an APIError.
        error = ErrorResponse.of(500, "InternalServerError", str(exc))
        yield f"data: {json.dumps(error)}\n\n"
    finally:
        await rest.aclose()


async def _in_thread(items: Iterator[Item]) -> AsyncGenerator[Item, None]:
    """Run a blocking iterator (the engine's decoding loop) on a thread of its own, so the
    event loop keeps serving, and hand its items over as they come. Closing this iterator
    early (the client went away) makes the thread stop at the next item and close the
    engine's iterator, which releases the model."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    cancelled = threading.Event()

    def hand_over(kind: str, value: Any) -> None:
        try:
            loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
        except RuntimeError:  # the loop is closed: the server is shutting down
            cancelled.set()

    def work() -> None:
        try:
            for item in items:
                if cancelled.is_set():
                    break
                hand_over("item", item)
        except Exception as exc:  # handed to the consumer, which raises it
            hand_over("error", exc)
        else:
            hand_over("end", None)
        finally:
            # A generator must be closed on the thread that ran it (its `finally` frees
            # the model's lock and records what the KV cache holds).
            close = getattr(items, "close", None)
            if close is not None:
                close()

    # One thread per stream rather than a pool hop per token: the decoding loop keeps
    # per-thread state (torch autocast, the model lock) between its steps.
    threading.Thread(target=work, name="serve-model-stream", daemon=True).start()
    try:
        while True:
            kind, value = await queue.get()
            if kind == "end":
                return
            if kind == "error":
                raise value
            yield value
    finally:
        cancelled.set()
