"""Routes that stopped answering: after a few time-outs in a row, stop waiting on them.

A deployment that hangs on one route would otherwise cost a full request time-out for every
request the run still has for it, and a run bounded by its time budget would spend that budget
waiting instead of testing the rest. After `STALLS_TO_OPEN` consecutive time-outs on a route, its
requests are refused at once (the caller sees the same kind of error as a time-out, naming the
stall) and one probe request is let through every `probe_interval` seconds, so a route that comes
back is used again. Nothing is passed by this: a request not sent is a request that failed.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

STALLS_TO_OPEN = 2
_ID_SEGMENT = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|\d+")


def route_of(url: str) -> str:
    """The URL's path with ids folded, so every world's `GET /worlds/{id}` is one route."""
    path = urlsplit(url).path or "/"
    return "/".join("{id}" if _ID_SEGMENT.fullmatch(segment) else segment for segment in path.split("/"))


@dataclass
class _RouteState:
    consecutive: int = 0
    opened_at: float | None = None


class StallBreaker:
    """Counts time-outs per route; shared by every client of one run (thread-safe)."""

    def __init__(
        self,
        request_timeout: float,
        on_open: Callable[[str, str], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.request_timeout = request_timeout
        self.probe_interval = max(4 * request_timeout, 10.0)
        self.on_open = on_open
        self._clock = clock
        self._routes: dict[str, _RouteState] = {}
        self._lock = threading.Lock()

    def refusal(self, url: str) -> str | None:
        """Why a request to `url` is not sent now, or None to send it."""
        route = route_of(url)
        with self._lock:
            state = self._routes.get(route)
            if state is None or state.opened_at is None:
                return None
            if self._clock() - state.opened_at >= self.probe_interval:
                state.opened_at = self._clock()  # this request is the probe; others wait for it
                return None
            return f"not sent: {self._stalls(route, state.consecutive)}; retried every {self.probe_interval:g}s"

    def answered(self, url: str) -> None:
        with self._lock:
            self._routes.pop(route_of(url), None)

    def stalled(self, url: str) -> None:
        route = route_of(url)
        with self._lock:
            state = self._routes.setdefault(route, _RouteState())
            state.consecutive += 1
            if state.consecutive < STALLS_TO_OPEN:
                return
            newly_open = state.opened_at is None
            state.opened_at = self._clock()
        if newly_open and self.on_open is not None:
            self.on_open(
                route,
                f"{self._stalls(route, STALLS_TO_OPEN)}: its further requests are not sent, "
                f"but probed every {self.probe_interval:g}s",
            )

    def _stalls(self, route: str, times: int) -> str:
        return f"{route} timed out {times} times in a row (no answer within {self.request_timeout:g}s)"

    def open_routes(self) -> list[str]:
        with self._lock:
            return sorted(route for route, state in self._routes.items() if state.opened_at is not None)
