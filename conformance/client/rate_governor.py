"""Rate limits: a pace the suite keeps (`--max-rate`) and 429s it honours.

The contract declares 429 with `Retry-After` on every operation, and real gateways limit per
client. One `RateGovernor` per run is shared, like the stall breaker, by both HTTP clients (the
suite's httpx client and the `requests` session Schemathesis drives), across threads:

- `pace()`: a token bucket of `--max-rate` requests per second (bursts of up to one second's
  worth), so a deployment that limits is not provoked in the first place;
- `retry_delay()`: after a 429, how long to wait before sending the same request again: the
  `Retry-After` (seconds or an HTTP date), capped at `MAX_WAIT` and at what is left of the run's
  budget, for at most `MAX_RETRIES` retries. Past that the request is given up: `RateLimited`,
  which leaves what needed the answer unverified, never failed.

Only the final answer is judged: a 429 that was retried is counted (and its `Retry-After`
judged by the one rule about it, P2-PRO-012, through `on_limited`), never shown to other checks.
"""

from __future__ import annotations

import email.utils
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import requests

MAX_RETRIES = 5
MAX_WAIT = 30.0  # seconds one Retry-After may make the suite wait
DEFAULT_WAIT = 1.0  # seconds, doubled per retry, when a 429 names no usable Retry-After


class RateLimited(requests.exceptions.RequestException):
    """The target kept answering 429 after every retry the run could afford (a `requests` error,
    like the transport's other limits, so both clients' callers meet it where they expect those)."""


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` in seconds (delay-seconds or an HTTP date); None when absent or malformed."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


# Called with the URL and the Retry-After value of every 429 that will be retried.
LimitedHook = Callable[[str, str | None], None]


class RateGovernor:
    def __init__(
        self,
        max_rate: float | None = None,
        *,
        deadline: float | None = None,
        on_limited: LimitedHook | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_rate = max_rate
        self.deadline = deadline  # the run's, on `clock`; no wait reaches past it
        self.on_limited = on_limited
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._capacity = max(1.0, max_rate or 1.0)
        self._tokens = self._capacity
        self._refilled = clock()
        self.limited = 0  # 429 answers received
        self.retries = 0  # requests sent again after a 429
        self.given_up = 0  # requests that were still 429 after every retry
        self.waited = 0.0  # seconds spent honouring Retry-After

    def pace(self) -> None:
        """Wait for this request's turn under `--max-rate` (returns at once without a rate)."""
        if self.max_rate is None:
            return
        with self._lock:
            now = self._clock()
            self._tokens = min(self._capacity, self._tokens + (now - self._refilled) * self.max_rate)
            self._refilled = now
            # Take the token now, even into debt: the waits of concurrent callers then queue up fairly.
            self._tokens -= 1.0
            wait = -self._tokens / self.max_rate if self._tokens < 0 else 0.0
        if wait > 0:
            self._sleep(wait)

    def retry_delay(self, url: str, retry_after: str | None, attempt: int) -> float:
        """The wait before retry number `attempt` (1-based) of a request answered 429.

        Raises `RateLimited` when no retry is left or the wait would not fit in the budget."""
        with self._lock:
            self.limited += 1
        asked = retry_after_seconds(retry_after)
        wait = asked if asked is not None else DEFAULT_WAIT * 2 ** (attempt - 1)
        left = math.inf if self.deadline is None else self.deadline - self._clock()
        if attempt > MAX_RETRIES or min(wait, MAX_WAIT) >= left:
            with self._lock:
                self.given_up += 1
            shown = f"Retry-After {retry_after!r}" if retry_after else "no Retry-After"
            raise RateLimited(
                f"the target answered 429 ({shown}) {attempt} times in a row to {url}"
                + ("" if attempt > MAX_RETRIES else f", and the run has {max(left, 0):.0f}s left")
            )
        if self.on_limited is not None:
            self.on_limited(url, retry_after)
        with self._lock:
            self.retries += 1
            self.waited += min(wait, MAX_WAIT)
        return min(wait, MAX_WAIT)

    def wait(self, seconds: float) -> None:
        self._sleep(seconds)


def send_paced(
    governor: RateGovernor | None,
    url: str,
    send: Callable[[], Any],
    status_and_retry_after: Callable[[Any], tuple[int, str | None]],
    discard: Callable[[Any], None],
) -> Any:
    """Send with the governor's pace, sending again after each 429 it allows; returns the final answer."""
    if governor is None:
        return send()
    attempt = 0
    while True:
        governor.pace()
        response = send()
        status, retry_after = status_and_retry_after(response)
        if status != 429:
            return response
        attempt += 1
        try:
            delay = governor.retry_delay(url, retry_after, attempt)
        finally:
            discard(response)
        governor.wait(delay)
