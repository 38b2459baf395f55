"""`flowgen serve-model`: an OpenAI-compatible HTTP server over the local engine.

Small deployments need no GPU, and `RemoteEngine` is tested against a real server. The
base model and every loaded adapter are listed as models; `model` picks the adapter.
"""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.requests import Request
from fastapi.responses import JSONResponse

from flowgen.engine.base import EngineError, GenerationRequest, GenerationResult
from flowgen.engine.decoding import ConstrainedDecoder
from flowgen.engine.openai_api import (
    ChatChoice,
    ChatCompletionRequest,
    ChatCompletionResponse,
    ChatMessage,
    CompletionChoice,
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


class _NotFound(Exception):
    pass


def create_app(engine: ConstrainedDecoder) -> FastAPI:
    app = FastAPI(title="flowgen model server", version="1")

    @app.exception_handler(_NotFound)
    async def not_found(_: Request, exc: _NotFound) -> JSONResponse:
        return JSONResponse(ErrorResponse.of(404, "NotFoundError", str(exc)), status_code=404)

    @app.exception_handler(EngineError)
    async def bad_request(_: Request, exc: EngineError) -> JSONResponse:
        return JSONResponse(ErrorResponse.of(400, "BadRequestError", str(exc)), status_code=400)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"] if p != "body")
        message = f"{where}: {first['msg']}" if where else first["msg"]
        return JSONResponse(ErrorResponse.of(400, "BadRequestError", message), status_code=400)

    def adapter_for(model: str) -> str | None:
        if model == engine.model_name:
            return None
        if model in engine.adapters():
            return model
        raise _NotFound(f"The model `{model}` does not exist.")

    def run(body: CompletionRequestBase, **kwargs: object) -> GenerationResult:
        request = GenerationRequest(
            adapter=adapter_for(body.model),
            grammar=body.grammar(),
            max_tokens=body.max_tokens or DEFAULT_MAX_TOKENS,
            stop=body.stops(),
            logit_bias=body.logit_bias or {},
            **kwargs,  # type: ignore[arg-type]
        )
        return engine.generate(request)

    def usage(result: GenerationResult) -> UsageInfo:
        u = result.usage
        return UsageInfo(
            prompt_tokens=u.prompt_tokens,
            completion_tokens=u.completion_tokens,
            total_tokens=u.prompt_tokens + u.completion_tokens,
            prompt_tokens_details={"cached_tokens": u.cached_prompt_tokens},
        )

    def finish(result: GenerationResult) -> str:
        return "stop" if result.finish_reason == "stop" else "length"

    @app.get("/v1/models")
    def models() -> ModelList:
        base = ModelCard(id=engine.model_name, root=engine.model_name)
        tenants = [
            ModelCard(id=a, root=engine.model_name, parent=engine.model_name)
            for a in engine.adapters()
        ]
        return ModelList(data=[base, *tenants])

    @app.post("/v1/completions")
    def completions(body: CompletionRequest) -> CompletionResponse:
        result = run(body, prompt=body.prompt)
        choice = CompletionChoice(text=result.text, finish_reason=finish(result))  # type: ignore[arg-type]
        return CompletionResponse(model=body.model, choices=[choice], usage=usage(result))

    @app.post("/v1/chat/completions")
    def chat(body: ChatCompletionRequest) -> ChatCompletionResponse:
        result = run(body, messages=body.messages)
        message = ChatMessage(role="assistant", content=result.text)
        choice = ChatChoice(message=message, finish_reason=finish(result))  # type: ignore[arg-type]
        return ChatCompletionResponse(model=body.model, choices=[choice], usage=usage(result))

    @app.post("/tokenize")
    def tokenize(body: TokenizeRequest) -> TokenizeResponse:
        ids = engine.tokenize(body.prompt)
        if body.add_special_tokens and engine.tokenizer.bos_token_id is not None:
            ids = [engine.tokenizer.bos_token_id, *ids]
        limit = engine.max_context
        return TokenizeResponse(tokens=ids, count=len(ids), max_model_len=limit)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app
