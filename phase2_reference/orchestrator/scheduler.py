"""The orchestrator: a background task that moves runtimes through their states on time.

It sleeps until the earliest stored `next_transition_at` (or until a request schedules an
earlier one), applies every due transition, each in its own transaction with its event, and
repeats. While the store is unavailable it keeps retrying; it never dies of a store error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
import time

from phase2_reference.orchestrator.runtimes import RuntimeService
from phase2_reference.store.sqlite import StoreUnavailable

IDLE_WAKE_SECONDS = 1.0
RETRY_SECONDS = 0.25

logger = logging.getLogger("phase2_reference.orchestrator")


class Orchestrator:
    def __init__(self, runtimes: RuntimeService) -> None:
        self.runtimes = runtimes
        self._task: asyncio.Task[None] | None = None
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping = False

    def ensure_started(self) -> None:
        """Start the task on the running loop, once (the app may be served without lifespan events)."""
        if self._task is not None and not self._task.done():
            return
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task = self._loop.create_task(self._run(), name="phase2-orchestrator")

    @property
    def alive(self) -> bool:
        return self._task is not None and not self._task.done()

    def poke(self) -> None:
        """A request scheduled a transition; re-read the next due time."""
        if self._wake is not None and self._loop is not None:
            self._loop.call_soon_threadsafe(self._wake.set)

    async def stop(self) -> None:
        if self._task is not None:
            # Python 3.11's wait_for can swallow a cancellation that races its wake-up; the flag
            # ends the loop regardless.
            self._stopping = True
            if self._wake is not None:
                self._wake.set()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            try:
                self.runtimes.advance_due(time.time())
                next_due = self.runtimes.next_due()
                delay = IDLE_WAKE_SECONDS if next_due is None else max(0.0, next_due - time.time())
            except (StoreUnavailable, sqlite3.Error) as exc:
                logger.debug("orchestrator waits for the data store", extra={"error": type(exc).__name__})
                delay = RETRY_SECONDS
            except Exception:
                # A bug must not silently stop every runtime; log it and keep the loop alive.
                logger.exception("orchestrator step failed")
                delay = RETRY_SECONDS
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=min(delay, IDLE_WAKE_SECONDS))
