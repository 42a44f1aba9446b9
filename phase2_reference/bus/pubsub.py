"""The in-process event bus: wakes stream readers after a transaction with events commits.

Events themselves live in the data store (ordered by their sequence); the bus only says
"something new was committed", and each subscriber reads what it has not seen yet. Waiters may
live on another thread's event loop than the publisher, so wake-ups go through that loop.
"""

from __future__ import annotations

import asyncio
import contextlib


class EventBus:
    def __init__(self) -> None:
        self._waiters: set[asyncio.Future[None]] = set()
        self.closed = False

    def publish(self) -> None:
        for waiter in list(self._waiters):
            loop = waiter.get_loop()
            loop.call_soon_threadsafe(_wake, waiter)

    def close(self) -> None:
        """Wake every waiter for good (the server is shutting down)."""
        self.closed = True
        self.publish()

    @property
    def subscribers(self) -> int:
        return len(self._waiters)

    async def wait(self, timeout: float) -> bool:
        """Wait until the next publish or `timeout` seconds; True when something was published."""
        if self.closed:
            return False
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.add(waiter)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(waiter, timeout)
                return True
            return False
        finally:
            self._waiters.discard(waiter)


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
