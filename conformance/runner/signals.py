"""SIGINT, SIGTERM and SIGHUP end a run the same way: stop generating, write partial reports, clean up.

CI cancellation, `timeout` and `docker stop` send SIGTERM; a closed terminal sends SIGHUP. Each is
turned into `Interrupted` (a `KeyboardInterrupt`, so pytest and Schemathesis unwind exactly as on
Ctrl-C) in the main thread. Only the first signal interrupts: one arriving while the partial
reports are written or the helpers are stopped is remembered, not raised, so cleanup finishes.
"""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


class Interrupted(KeyboardInterrupt):
    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


class SignalGuard:
    """Installs the handlers (main thread only) and remembers which signal stopped the run."""

    def __init__(self) -> None:
        self.received: int | None = None
        self._previous: dict[int, Any] = {}

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.received is not None:
            return
        self.received = signum
        raise Interrupted(signum)

    def install(self) -> SignalGuard:
        if threading.current_thread() is threading.main_thread():
            for signum in HANDLED:
                self._previous[signum] = signal.signal(signum, self._handle)
        return self

    def hold(self) -> None:
        """From now on a signal is remembered but raises nothing: the run is finishing."""
        if self.received is None and self._previous:
            for signum in HANDLED:
                signal.signal(signum, self._remember)

    def _remember(self, signum: int, frame: FrameType | None) -> None:
        if self.received is None:
            self.received = signum

    def restore(self) -> None:
        previous, self._previous = self._previous, {}
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def signal_of(error: BaseException, guard: SignalGuard | None = None) -> int:
    """The signal behind a KeyboardInterrupt: Ctrl-C unless a handled signal says otherwise."""
    if isinstance(error, Interrupted):
        return error.signum
    if guard is not None and guard.received is not None:
        return guard.received
    return int(signal.SIGINT)
