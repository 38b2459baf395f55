"""Bounded generation: at most `running` at once, `waiting` more queued, 429 beyond."""

from __future__ import annotations

import asyncio

from flowgen.service.errors import ApiError


class Ticket:
    """A place in the queue; `acquire` waits for a running slot. `release` frees both,
    once, whoever calls it first (the worker when done, or the request when it gives up
    before starting)."""

    def __init__(self, gate: GenerationGate):
        self._gate = gate
        self._running = False
        self._released = False

    async def acquire(self) -> None:
        await self._gate._slots.acquire()
        self._running = True

    def release(self) -> None:
        if self._released:
            return
        self._released = True
        self._gate._admitted -= 1
        if self._running:
            self._gate._slots.release()


class GenerationGate:
    def __init__(self, running: int, waiting: int):
        self._slots = asyncio.Semaphore(running)
        self._capacity = running + waiting
        self._admitted = 0  # all on the event loop's thread: no lock needed

    @property
    def admitted(self) -> int:
        return self._admitted

    def reserve(self) -> Ticket:
        if self._admitted >= self._capacity:
            raise ApiError(
                429,
                "busy",
                f"{self._admitted} generations are running or queued; retry later",
                headers={"Retry-After": "10"},
            )
        self._admitted += 1
        return Ticket(self)
