"""The engine behind any OpenAI-compatible server: vLLM in production, or
`flowgen serve-model`. The adapter is chosen with `model` (vLLM `--lora-modules`
names), the grammar sent as `structured_outputs`."""

from __future__ import annotations

import time

import httpx

from flowgen.engine.base import (
    EngineError,
    FinishReason,
    GenerationRequest,
    GenerationResult,
    Timings,
    Usage,
)

RETRYABLE = {408, 429, 500, 502, 503, 504}


class RemoteEngine:
    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: str | None = None,
        timeout_s: float = 120.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        transport: httpx.BaseTransport | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self._model = model
        self.retries = retries
        self.backoff_s = backoff_s
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._client = httpx.Client(
            base_url=self.base_url, timeout=timeout_s, headers=headers, transport=transport
        )

    @property
    def model_name(self) -> str:
        return self._model

    def adapters(self) -> list[str]:
        data = self._send("GET", "/v1/models", None).json().get("data", [])
        return [m["id"] for m in data if m.get("id") != self._model]

    def tokenize(self, text: str) -> list[int]:
        """Token ids from the server's `/tokenize` (vLLM and `flowgen serve-model`)."""
        body = {"model": self._model, "prompt": text, "add_special_tokens": False}
        data = self._send("POST", "/tokenize", body).json()
        try:
            return [int(t) for t in data["tokens"]]
        except (KeyError, TypeError, ValueError) as exc:
            raise EngineError(f"unexpected /tokenize answer from {self.base_url}") from exc

    def generate(self, request: GenerationRequest) -> GenerationResult:
        body: dict[str, object] = {
            "model": request.adapter or self._model,
            "max_tokens": request.max_tokens,
            "temperature": request.temperature,
        }
        if request.seed is not None:
            body["seed"] = request.seed
        if request.stop:
            body["stop"] = request.stop
        if request.logit_bias:
            body["logit_bias"] = {str(t): b for t, b in request.logit_bias.items()}
        if request.grammar:
            body["structured_outputs"] = {"grammar": request.grammar}
        if request.messages is not None:
            path = "/v1/chat/completions"
            body["messages"] = [m.model_dump() for m in request.messages]
        elif request.prompt is not None:
            path = "/v1/completions"
            body["prompt"] = request.prompt
        else:
            raise EngineError("a request needs `messages` or `prompt`")
        started = time.perf_counter()
        data = self._send("POST", path, body, adapter=request.adapter).json()
        elapsed = time.perf_counter() - started
        try:
            choice = data["choices"][0]
            text = choice["message"]["content"] if "message" in choice else choice["text"]
            usage = data.get("usage") or {}
            details = usage.get("prompt_tokens_details") or {}
            finish: FinishReason = "stop" if choice.get("finish_reason") == "stop" else "length"
            return GenerationResult(
                text=text or "",
                finish_reason=finish,
                usage=Usage(
                    prompt_tokens=usage.get("prompt_tokens", 0),
                    completion_tokens=usage.get("completion_tokens", 0),
                    cached_prompt_tokens=details.get("cached_tokens") or 0,
                ),
                # Without streaming the first token arrives with the last one.
                timings=Timings(first_token_s=elapsed, total_s=elapsed),
                model=self._model,
                adapter=request.adapter,
            )
        except (KeyError, IndexError, TypeError) as exc:
            raise EngineError(f"unexpected response from {self.base_url}: {data!r:.300}") from exc

    def _send(
        self, method: str, path: str, body: dict[str, object] | None, adapter: str | None = None
    ) -> httpx.Response:
        delay = self.backoff_s
        last: str = ""
        for attempt in range(self.retries + 1):
            try:
                response = self._client.request(method, path, json=body)
            except httpx.TransportError as exc:  # refused, reset, timed out
                last = f"{type(exc).__name__}: {exc}"
            else:
                if response.status_code == 404 and adapter is not None:
                    raise EngineError(
                        f"unknown adapter {adapter!r} on {self.base_url} "
                        f"(server said: {_message(response)})"
                    )
                if response.status_code < 400:
                    return response
                if response.status_code not in RETRYABLE:
                    status = response.status_code
                    raise EngineError(
                        f"{self.base_url}{path} answered {status}: {_message(response)}"
                    )
                last = f"HTTP {response.status_code}: {_message(response)}"
            if attempt < self.retries:
                time.sleep(delay)
                delay *= 2
        raise EngineError(
            f"model server {self.base_url} unavailable after {self.retries + 1} attempts ({last})"
        )

    def close(self) -> None:
        self._client.close()


def _message(response: httpx.Response) -> str:
    try:
        error = response.json().get("error", {})
        return str(error.get("message") or response.text)[:300]
    except ValueError:
        return response.text[:300]
