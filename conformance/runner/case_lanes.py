"""One operation's generated cases on the network a few at a time, while Hypothesis draws the next.

Hypothesis calls an operation's test once per case, one after the other. Through `CaseLanes` the
test only hands the case on and returns, so drawing goes on while up to `lanes` cases are on the
network, each sent and judged in a thread carrying the item's context (the work item its failures
belong to). The cases are the same ones, in the same order of drawing: the suite's test never
raises a failure (failures are recorded) and Schemathesis runs without shrinking, so Hypothesis'
draws do not depend on the answers, and the same seed replays the same cases. Drawing runs at
most `lanes` cases ahead of the answers.

An error that is not a failure (the target lost, a bug of the suite) is kept: every later `submit`
raises it, so Hypothesis stops drawing and sees the same error if it replays a case, and leaving
the lanes raises it once every case in flight has ended.
"""

from __future__ import annotations

import contextvars
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from types import TracebackType
from typing import Any


class CaseLanes:
    def __init__(self, send: Callable[[Any], None], lanes: int) -> None:
        self._send = send
        self.lanes = max(1, lanes)
        self.submitted = 0
        self._slots = threading.BoundedSemaphore(self.lanes)
        self._lock = threading.Lock()
        self._in_flight: set[Future[None]] = set()
        self._error: BaseException | None = None
        self._pool: ThreadPoolExecutor | None = None

    def submit(self, case: Any) -> None:
        """Send `case` (in this thread with one lane); raises an error a case sent earlier met."""
        self._raise_kept()
        self.submitted += 1
        if self.lanes == 1:
            self._send(case)
            return
        self._slots.acquire()
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self.lanes, thread_name_prefix="phase2-case")
        try:
            future = self._pool.submit(self._sent, contextvars.copy_context(), case)
        except BaseException:
            self._slots.release()
            raise
        with self._lock:
            self._in_flight.add(future)
        future.add_done_callback(self._ended)

    def drain(self) -> None:
        """Wait for every case in flight; then raise the error one of them met, if any."""
        with self._lock:
            in_flight = set(self._in_flight)
        wait(in_flight)
        self._raise_kept()

    def _sent(self, context: contextvars.Context, case: Any) -> None:
        try:
            context.run(self._send, case)
        except BaseException as error:
            with self._lock:
                if self._error is None:
                    self._error = error
        finally:
            self._slots.release()

    def _ended(self, future: Future[None]) -> None:
        with self._lock:
            self._in_flight.discard(future)

    def _raise_kept(self) -> None:
        with self._lock:
            error = self._error
        if error is not None:
            raise error

    def __enter__(self) -> CaseLanes:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, _traceback: TracebackType | None
    ) -> None:
        try:
            self.drain()
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
                self._pool = None
