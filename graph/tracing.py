"""Recording a run: every node, tool call, model call and validation, with timings.

Nodes call the catalog tools through `TracedTools`, which has the tools' own typed
methods and records each call as a `tool` span under the node that made it.

Events go to the run store in Postgres (`flowgen runs show`), and, when the standard
OpenTelemetry variables configure an exporter, to spans as well. LangSmith traces the
LangGraph run on its own when its variables (`LANGSMITH_TRACING`, ...) are set.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

from opentelemetry import trace

from flowgen.db.runs import RunStore
from flowgen.db.store import StoredCatalog
from flowgen.flow.catalog import CatalogView, Column
from flowgen.settings import get_settings
from flowgen.tools.catalog_tools import CatalogTools

MAX_ATTRIBUTE = 4000  # span attributes are truncated; the database keeps everything
_otel_lock = threading.Lock()
_otel_configured = False


def configure_opentelemetry() -> None:
    """Install an exporting tracer provider when the OTel variables ask for one.

    `OTEL_EXPORTER_OTLP_ENDPOINT` (or `..._TRACES_ENDPOINT`) exports over OTLP/HTTP
    (needs the `otel` extra); `OTEL_TRACES_EXPORTER=console` prints spans. An embedder
    that set its own provider keeps it."""
    global _otel_configured
    with _otel_lock:
        settings = get_settings()
        if _otel_configured or settings.otel_sdk_disabled:
            return
        _otel_configured = True
        exporter_name = settings.otel_traces_exporter
        endpoint = settings.otlp_endpoint
        if not endpoint and exporter_name != "console":
            return
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

        if isinstance(trace.get_tracer_provider(), TracerProvider):
            return
        if exporter_name == "console":
            exporter: Any = ConsoleSpanExporter()
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            exporter = OTLPSpanExporter()
        resource = Resource.create({"service.name": settings.otel_service_name})
        provider = TracerProvider(resource=resource)
        provider.add_span_processor(BatchSpanProcessor(exporter))
        trace.set_tracer_provider(provider)


def _attribute(value: Any) -> str | int | float | bool:
    if isinstance(value, str | int | float | bool):
        return value if not isinstance(value, str) else value[:MAX_ATTRIBUTE]
    return json.dumps(value, default=str, ensure_ascii=False)[:MAX_ATTRIBUTE]


class RunTracer:
    """Writes the events of one run; `span` times a piece of work and records it."""

    def __init__(self, store: RunStore | None, run_id: str):
        self.store = store
        self.run_id = run_id
        self._seq = store.next_seq(run_id) if store else 0
        self._lock = threading.Lock()
        self._otel = trace.get_tracer("flowgen")

    @contextmanager
    def span(
        self, kind: str, name: str, node: str | None = None, **payload: Any
    ) -> Iterator[dict[str, Any]]:
        """Yields a dict; what the body puts in it is recorded with `payload`."""
        started_at = datetime.now(UTC)
        start = time.perf_counter()
        out: dict[str, Any] = {}
        attributes = {"flowgen.run_id": self.run_id, "flowgen.kind": kind}
        if node:
            attributes["flowgen.node"] = node
        with self._otel.start_as_current_span(f"{kind} {name}", attributes=attributes) as span:
            try:
                yield out
            except Exception as exc:
                out["error"] = f"{type(exc).__name__}: {exc}"
                span.record_exception(exc)
                raise
            finally:
                duration_ms = (time.perf_counter() - start) * 1000
                for key, value in {**payload, **out}.items():
                    span.set_attribute(f"flowgen.{key}", _attribute(value))
                self._write(node, kind, name, started_at, duration_ms, {**payload, **out})

    def _write(
        self,
        node: str | None,
        kind: str,
        name: str,
        started_at: datetime,
        duration_ms: float,
        payload: dict[str, Any],
    ) -> None:
        if self.store is None:
            return
        with self._lock:
            seq = self._seq
            self._seq += 1
        self.store.add_event(
            self.run_id,
            seq,
            node=node,
            kind=kind,
            name=name,
            started_at=started_at,
            duration_ms=round(duration_ms, 2),
            payload=json.loads(json.dumps(payload, default=str)),
        )


P = ParamSpec("P")
R = TypeVar("R")


def brief(result: Any) -> Any:
    """Search results as name (or value) and score: enough to see what was offered."""
    if isinstance(result, list):
        return [
            {k: r[k] for k in ("name", "value", "score") if k in r} if isinstance(r, dict) else r
            for r in result
        ]
    return result


class TracedTools:
    """The catalog tools as one node of a run calls them: the same typed methods, each
    call recorded as a `tool` span under `node` (its arguments and a brief result).

    `catalog()` and `columns()` are not recorded: they read the installation's
    definitions for the grammars and the validator (nothing is ranked or chosen), and
    the pill grammar reads the columns of every table within three hops."""

    def __init__(
        self,
        tools: CatalogTools,
        tracer: RunTracer,
        node: str,
        catalog: StoredCatalog,
    ) -> None:
        self._tools = tools
        self._tracer = tracer
        self.node = node
        self._catalog = catalog  # the run's view of the installation

    def _call(self, tool: Callable[P, R], *args: P.args, **arguments: P.kwargs) -> R:
        with self._tracer.span("tool", tool.__name__, node=self.node, arguments=arguments) as out:
            result = tool(*args, **arguments)
            out["result"] = brief(result)
        return result

    def search_steps(self, query: str, k: int = 10) -> list[dict[str, Any]]:
        return self._call(self._tools.search_steps, query=query, k=k)

    def search_triggers(self, query: str, k: int = 5) -> list[dict[str, Any]]:
        return self._call(self._tools.search_triggers, query=query, k=k)

    def search_tables(self, query: str, k: int = 5) -> list[dict[str, Any]]:
        return self._call(self._tools.search_tables, query=query, k=k)

    def search_columns(self, table: str, query: str, k: int = 10) -> list[dict[str, Any]]:
        return self._call(self._tools.search_columns, table=table, query=query, k=k)

    def embed_queries(self, steps: list[str] | None = None, others: list[str] | None = None) -> int:
        # The trace names only the kinds of search a batch is for.
        if steps is None:
            return self._call(self._tools.embed_queries, others=others)
        if others is None:
            return self._call(self._tools.embed_queries, steps=steps)
        return self._call(self._tools.embed_queries, steps=steps, others=others)

    def search_examples(
        self,
        query: str,
        k: int = 3,
        exclude: list[str] | None = None,
        exclude_above: float | None = None,
    ) -> list[dict[str, Any]]:
        return self._call(
            self._tools.search_examples,
            query=query,
            k=k,
            exclude=exclude,
            exclude_above=exclude_above,
        )

    def search_solved_flows(
        self,
        query: str,
        k: int = 3,
        exclude: list[str] | None = None,
        exclude_above: float | None = None,
    ) -> dict[str, list[dict[str, Any]]]:
        return self._call(
            self._tools.search_solved_flows,
            query=query,
            k=k,
            exclude=exclude,
            exclude_above=exclude_above,
        )

    def list_names(self, kind: str) -> list[str]:
        return self._call(self._tools.list_names, kind=kind)

    def get_step(self, name: str) -> dict[str, Any] | None:
        return self._call(self._tools.get_step, name=name)

    def catalog(self) -> CatalogView:
        return self._catalog

    def columns(self, table: str) -> list[Column]:
        return self._catalog.columns(table)
