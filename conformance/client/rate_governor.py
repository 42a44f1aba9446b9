"""Rate limits: the one way out for every request the suite sends, its pace, and the 429s it honours.

The contract declares 429 with `Retry-After` on every operation, and real gateways limit per
client. One `RateGovernor` per run is shared, like the stall breaker, by both HTTP clients (the
suite's httpx client and the `requests` session Schemathesis drives), across threads, and every
request of the run leaves through `send_paced`:

- `pace()`: a token bucket, so a deployment that limits is not provoked again and again. Its rate
  is `--max-rate` when given; after a 429, a little under what the target was seen to accept
  (learnt again while 429s go on, raised after each quiet spell, never above `--max-rate`), so
  the requests of every thread queue up fairly behind one pace, instead of the lucky ones taking
  every slot the limiter frees while a retried request starves;
- `retry_delay()`: after a 429, how long to wait before sending the same request again: its
  `Retry-After` (seconds or an HTTP date); a malformed, negative or absent one is a short fixed
  wait. A wait longer than `MAX_WAIT`, or past the end of the run's budget (whose clock starts
  before the run's first request), is not waited: the request is given up (`RateLimited`), as it
  is after `MAX_RETRIES` retries. A request given up leaves what needed the answer *not verified*,
  rate limited beyond what the run can wait, never failed. Past the budget of a run limited
  beyond it, nothing is waited at all.

Only the final answer is judged by the check that sent the request; every 429 answered on the way
is handed to `on_limited`, which judges it as the answer it is (a problem document with
`Retry-After`), so a 429 the contract allows can never fail the rule of the request it delayed.

`send_paced` marks the requests it lets out (`admitted()`), so a test can see at the transport
that no request leaves the suite another way.
"""

from __future__ import annotations

import collections
import email.utils
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, NoReturn

import requests

MAX_RETRIES = 5
MAX_WAIT = 60.0  # seconds one Retry-After may make a request wait; a longer one gives it up
FIXED_WAIT = 1.0  # seconds waited when a 429 names no usable Retry-After (malformed, negative, absent)
# The learned pace: never slower than MIN_RATE requests a second; after a 429, LOWER_TO of what
# the target accepted in the last WINDOW seconds (at most once per LOWER_EVERY seconds: a burst of
# 429s is one signal); after each QUIET_SPELL seconds without a 429, RAISE_BY faster up to that
# rate, PROBE_BY beyond it.
MIN_RATE = 0.5
LOWER_EVERY = 1.0
LOWER_TO = 0.7
RAISE_BY = 1.25
PROBE_BY = 1.05
QUIET_SPELL = 2.0
WINDOW = 2.0

# Set while a request the governor admitted is being sent (a mark on the thread, not on the request:
# what reaches the wire is exactly what the check built).
_ADMITTED: ContextVar[bool] = ContextVar("conformance_rate_admitted", default=False)


def admitted() -> bool:
    """Whether the request being sent in this thread was let out by `send_paced`."""
    return _ADMITTED.get()


class RateLimited(requests.exceptions.RequestException):
    """The target kept answering 429 beyond what the run could wait (retries, the cap on one wait,
    or its budget): what needed the answer is not verified. A `requests` error, like the transport's
    other limits, so both clients' callers meet it where they expect those."""


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` in seconds (delay-seconds or an HTTP date); None when absent or malformed.

    Delay-seconds are ASCII digits only (RFC 9110 §10.2.3): a sign, a fraction or digits of
    another script make the value malformed, not a number. A date already past is 0."""
    text = (value or "").strip()
    if not text:
        return None
    if text.isascii() and text.isdigit():
        return float(text)
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    try:
        return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())
    except OverflowError:
        return None


# Called with each 429 that will not be the final answer (retried or given up): the client's own
# response object (httpx or requests), its body read under the run's limits.
LimitedHook = Callable[[Any], None]


class RateGovernor:
    def __init__(
        self,
        max_rate: float | None = None,
        *,
        deadline: float | None = None,
        on_limited: LimitedHook | None = None,
        on_out_of_budget: Callable[[], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.max_rate = max_rate
        self.deadline = deadline  # the end of the run's budget, on `clock`; no wait reaches past it
        self.on_limited = on_limited
        self.on_out_of_budget = on_out_of_budget  # a request was given up: the budget could not wait
        self._clock = clock
        self.sleep = sleep
        self._lock = threading.Lock()
        self.rate = max_rate  # the pace now, requests a second; None: unpaced
        self._tokens = self._capacity
        self._refilled = clock()
        self._accepted: collections.deque[float] = collections.deque()  # when non-429 answers came
        self._lowered_at = -float("inf")
        self._ceiling: float | None = None  # the rate the target accepted when it last answered 429
        self._quiet_since = clock()
        self.out_of_budget = False  # a 429 was given up because its wait would not fit in the budget
        self.sent = 0  # requests let out (retries included)
        self.limited = 0  # 429 answers received
        self.retries = 0  # requests sent again after a 429
        self.given_up = 0  # requests answered 429 beyond what the run could wait
        self.waited = 0.0  # seconds spent honouring Retry-After

    @property
    def _capacity(self) -> float:
        return max(1.0, self.rate or 1.0)

    # --- the pace -----------------------------------------------------------------------------
    def pace(self) -> None:
        """Wait for this request's turn under the pace (returns at once while unpaced)."""
        with self._lock:
            self.sent += 1
            if self.rate is None:
                return
            now = self._clock()
            if self.out_of_budget and self.deadline is not None and now >= self.deadline:
                # Past the budget of a run the target limits beyond it: nothing is waited any more
                # (a 429 is given up at once), so what is still running ends now.
                return
            self._tokens = min(self._capacity, self._tokens + (now - self._refilled) * self.rate)
            self._refilled = now
            # Take the token now, even into debt: the waits of concurrent callers then queue up fairly.
            self._tokens -= 1.0
            wait = -self._tokens / self.rate if self._tokens < 0 else 0.0
        if wait > 0:
            self.sleep(wait)

    def accepted(self) -> None:
        """A request was answered with something other than 429: after a quiet spell, a faster pace."""
        with self._lock:
            now = self._clock()
            self._accepted.append(now)
            while self._accepted and self._accepted[0] < now - WINDOW:
                self._accepted.popleft()
            if self.rate is None or now - self._quiet_since < QUIET_SPELL:
                return
            self._quiet_since = now
            # Quickly back up to where the last 429 came, then only a little beyond it at a time.
            below = self._ceiling is None or self.rate * RAISE_BY <= self._ceiling
            raised = self.rate * (RAISE_BY if below else PROBE_BY)
            self.rate = min(raised, self.max_rate) if self.max_rate is not None else raised

    def _slow_down(self, now: float) -> None:
        """A 429: pace at what the target accepted lately, a little under it (lock held)."""
        self._quiet_since = now
        if now - self._lowered_at < LOWER_EVERY:
            return
        self._lowered_at = now
        seen = sum(1 for at in self._accepted if at >= now - WINDOW) / WINDOW
        self._ceiling = max(seen, MIN_RATE)
        if self.rate is None:
            base, tokens = seen, 0.0
        else:
            base = min(self.rate, max(seen, MIN_RATE))
            tokens = self._tokens + (now - self._refilled) * self.rate  # the debt paid so far
        self.rate = max(MIN_RATE, base * LOWER_TO)
        self._tokens = min(tokens, 0.0)  # no burst right after a 429
        self._refilled = now

    # --- 429s ---------------------------------------------------------------------------------
    def retry_delay(self, url: str, retry_after: str | None, attempt: int) -> float:
        """The wait before retry number `attempt` (1-based) of a request answered 429.

        Raises `RateLimited` when no retry is left or the wait is over the cap or the budget."""
        with self._lock:
            self.limited += 1
            now = self._clock()
            self._slow_down(now)
        asked = retry_after_seconds(retry_after)
        wait = FIXED_WAIT if asked is None else asked
        left = float("inf") if self.deadline is None else self.deadline - now
        shown = f"Retry-After {retry_after!r}" if retry_after else "no Retry-After"
        if attempt > MAX_RETRIES:
            self._give_up(f"{url} answered 429 ({shown}) {attempt} times in a row")
        if wait > MAX_WAIT:
            self._give_up(f"{url} answered 429 ({shown}): a wait over the {MAX_WAIT:g}s the suite waits at most")
        if wait >= left:
            self.out_of_budget = True
            if self.on_out_of_budget is not None:
                self.on_out_of_budget()
            self._give_up(f"{url} answered 429 ({shown}), and the run has {max(left, 0):.0f}s left of its budget")
        with self._lock:
            self.retries += 1
            self.waited += wait
        return wait

    def _give_up(self, why: str) -> NoReturn:
        with self._lock:
            self.given_up += 1
        raise RateLimited(f"not verified, rate limited beyond what the run can wait: {why}")

    def limited_answer(self, response: Any) -> None:
        if self.on_limited is not None:
            self.on_limited(response)


@contextmanager
def _admitted() -> Iterator[None]:
    token = _ADMITTED.set(True)
    try:
        yield
    finally:
        _ADMITTED.reset(token)


def send_paced(
    governor: RateGovernor,
    url: str,
    send: Callable[[], Any],
    status_and_retry_after: Callable[[Any], tuple[int, str | None]],
    discard: Callable[[Any], None],
) -> Any:
    """Send with the governor's pace, sending again after each 429 it allows; returns the final answer.

    Every 429 on the way goes to the governor's `on_limited` (judged as an answer of its own)."""
    attempt = 0
    while True:
        governor.pace()
        with _admitted():
            response = send()
        status, retry_after = status_and_retry_after(response)
        if status != 429:
            governor.accepted()
            return response
        attempt += 1
        try:
            governor.limited_answer(response)
            delay = governor.retry_delay(url, retry_after, attempt)
        finally:
            discard(response)
        governor.sleep(delay)
