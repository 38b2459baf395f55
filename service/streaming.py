"""Runs a generator's blocking event stream in a worker thread and hands its events to
the event loop, so a slow model never blocks other requests. The worker stops at the
next event when the consumer goes away (client disconnect, timeout): the run is then
recorded as cancelled by the generator itself."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Generator, Iterator
from typing import Any

from flowgen.service.gate import Ticket


class GenerationTimeout(Exception):
    pass


async def run_in_worker(
    start: Callable[[], Iterator[dict[str, Any]]], ticket: Ticket, timeout_s: float
) -> AsyncIterator[dict[str, Any]]:
    """The events of `start()`, run once the ticket gets a running slot. Raises
    GenerationTimeout after `timeout_s` of running; exceptions of the run re-raise here."""
    loop = asyncio.get_running_loop()
    queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
    stop = threading.Event()

    def on_loop(fn: Callable[..., None], *args: Any) -> None:
        with contextlib.suppress(RuntimeError):  # the loop is gone (server shutting down)
            loop.call_soon_threadsafe(fn, *args)

    def post(kind: str, value: Any) -> None:
        on_loop(queue.put_nowait, (kind, value))

    def work() -> None:
        events = start()
        try:
            for event in events:
                if stop.is_set():
                    if isinstance(events, Generator):
                        events.close()  # GeneratorExit inside the run: recorded as cancelled
                    break
                post("event", event)
        except Exception as exc:
            post("error", exc)
        finally:
            # The slot is held until the model is really free, not just the client gone.
            on_loop(ticket.release)
            post("end", None)

    started = False
    try:
        await ticket.acquire()
        threading.Thread(target=work, name="flowgen-generation", daemon=True).start()
        started = True
        deadline = loop.time() + timeout_s
        while True:
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise GenerationTimeout(f"the generation took over {timeout_s:.0f} s")
            try:
                kind, value = await asyncio.wait_for(queue.get(), remaining)
            except TimeoutError:
                continue  # re-checked above
            if kind == "event":
                yield value
            elif kind == "error":
                raise value
            else:
                return
    finally:
        stop.set()
        if not started:
            ticket.release()
