"""Rate limits on real sockets: both clients keep one pace, honour 429 with Retry-After within the cap
and the run's budget, and learn the pace the target accepts."""

from __future__ import annotations

import math
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conformance.client.rate_governor import (
    FIXED_WAIT,
    MAX_RETRIES,
    MAX_WAIT,
    MIN_RATE,
    RateGovernor,
    RateLimited,
    retry_after_seconds,
    send_paced,
)
from conformance.client.transport import LimitedClient, LimitedSession, Limits


class _LimitingServer(ThreadingHTTPServer):
    seen: Counter[str]
    bucket: TokenBucket


class _Limiting(BaseHTTPRequestHandler):
    """`/once?client=C&after=V`: the first request of each client is 429 with Retry-After V; then 200.
    `/always?after=V`: every request is 429. `/bucket`: 429 (Retry-After 1) past a token bucket."""

    server: _LimitingServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        client = query.get("client", "")
        self.server.seen[client] += 1
        if parts.path == "/bucket":
            limited = not self.server.bucket.take()
            query.setdefault("after", "1")
        else:
            limited = parts.path == "/always" or (parts.path == "/once" and self.server.seen[client] == 1)
        body = b'{"status": 429}' if limited else b'{"ok": true}'
        self.send_response(429 if limited else 200)
        if limited and "after" in query:
            self.send_header("Retry-After", query["after"])
        self.send_header("Content-Type", "application/problem+json" if limited else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


class TokenBucket:
    """A deployment's limiter: `rate` requests a second, bursts of `rate`, on any clock."""

    def __init__(self, rate: float, clock: Any = None) -> None:
        import time

        self.rate = rate
        self.clock = clock or time.monotonic
        self.tokens = rate
        self.refilled = self.clock()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = self.clock()
            self.tokens = min(self.rate, self.tokens + (now - self.refilled) * self.rate)
            self.refilled = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False


@pytest.fixture
def limiting() -> Iterator[str]:
    server = _LimitingServer(("127.0.0.1", 0), _Limiting)
    server.seen = Counter()
    server.bucket = TokenBucket(10)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class FakeTime:
    """The governor's clock and sleep: a sleep moves the clock on and is recorded, so the tests
    never wait on the wall clock and a pace is measured in the governor's own seconds."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []
        self._lock = threading.Lock()

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        with self._lock:
            self.slept.append(seconds)
            self.now += seconds

    def governor(self, **kwargs: Any) -> RateGovernor:
        return RateGovernor(clock=self.clock, sleep=self.sleep, **kwargs)


def test_retry_after_is_seconds_or_an_http_date() -> None:
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(" 0 ") == 0.0
    assert retry_after_seconds("99999999999999999999") == 1e20
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=10), usegmt=True), now) == 10.0
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=10), usegmt=True), now) == 0.0
    # Delay-seconds are ASCII digits: a sign, a fraction or another script's digits are malformed.
    for malformed in ("soon", "-1", "+1", "1.5", "1e3", "١٢", "１０", "", "3, 4", "0x10"):
        assert retry_after_seconds(malformed) is None, malformed
    assert retry_after_seconds(None) is None


@settings(max_examples=300, deadline=None)
@given(
    st.text(max_size=40)
    | st.from_regex(r"\A[ -]?[0-9]{1,30}\Z")
    | st.datetimes().map(lambda d: d.strftime("%a, %d %b %Y %H:%M:%S GMT"))
)
def test_any_retry_after_is_a_finite_wait_or_none(value: str) -> None:
    seconds = retry_after_seconds(value)
    assert seconds is None or (math.isfinite(seconds) and seconds >= 0)


# Every spelling a deployment may send: seconds small and huge, negative, fractional, dates past and
# far ahead, garbage, nothing.
RETRY_AFTER = (
    st.integers(min_value=-(10**6), max_value=10**12).map(str)
    | st.floats(allow_nan=True, allow_infinity=True).map(str)
    | st.integers(min_value=-(10**9), max_value=10**10).map(
        lambda offset: format_datetime(datetime.now(UTC) + timedelta(seconds=offset), usegmt=True)
    )
    | st.text(max_size=20)
    | st.none()
)


@settings(max_examples=400, deadline=None)
@given(value=RETRY_AFTER, left=st.floats(min_value=0, max_value=4000), attempt=st.integers(1, MAX_RETRIES + 2))
def test_every_retry_after_is_waited_within_the_cap_and_the_budget_or_given_up(
    value: str | None, left: float, attempt: int
) -> None:
    time = FakeTime()
    deadline = time.now + left
    left = deadline - time.now  # as the governor's clock sees it (a tiny left may round to 0)
    governor = time.governor(deadline=deadline)

    def given_up(asked: float | None) -> bool:
        wanted = FIXED_WAIT if asked is None else asked
        return attempt > MAX_RETRIES or wanted > MAX_WAIT or wanted >= left

    # An HTTP date is read against the wall clock: the governor reads it between these two moments.
    before = retry_after_seconds(value)
    try:
        wait: float | None = governor.retry_delay("http://target/x", value, attempt)
    except RateLimited as exc:
        wait, reason = None, str(exc)
    after = retry_after_seconds(value)
    if given_up(before) and given_up(after):
        assert wait is None and reason.startswith("not verified, rate limited")
    if wait is None:
        assert given_up(before) or given_up(after)
        assert governor.given_up == 1 and governor.retries == 0 and time.slept == []
        return
    assert not (given_up(before) and given_up(after))
    assert 0 <= wait <= MAX_WAIT and wait < left, "never a wait past the cap or the budget"
    if before is None:
        assert wait == FIXED_WAIT, "a malformed, negative or absent Retry-After is a short fixed wait"
    assert governor.retries == 1 and governor.waited == wait


def test_both_clients_share_one_governor_and_see_only_the_final_answer(limiting: str) -> None:
    time = FakeTime()
    limited: list[Any] = []
    governor = time.governor(on_limited=limited.append)
    limits = Limits(timeout=5, governor=governor)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    with LimitedClient(limits) as client, LimitedSession(limits) as session:
        assert client.get(f"{limiting}/once", params={"client": "httpx", "after": "2"}).status_code == 200
        assert session.get(f"{limiting}/once", params={"client": "requests", "after": when}).status_code == 200
    assert (governor.limited, governor.retries, governor.given_up, governor.sent) == (2, 2, 0, 4)
    retry_waits = [seconds for seconds in time.slept if seconds >= 2]
    assert retry_waits[0] == 2.0
    assert 10 < retry_waits[1] <= 20, "an HTTP date is waited for until it comes"
    # Each 429 went to the hook read whole, as the answer it is.
    assert [answer.status_code for answer in limited] == [429, 429]
    assert [answer.headers["retry-after"] for answer in limited] == ["2", when]
    assert [answer.content for answer in limited] == [b'{"status": 429}'] * 2


@pytest.mark.parametrize(
    "after",
    ["86400", str(int(MAX_WAIT) + 1), format_datetime(datetime.now(UTC) + timedelta(days=3), usegmt=True)],
    # The date is drawn at collection: its id must not be, or xdist's workers collect different tests.
    ids=["a-day", "just-over-the-cap", "a-date-three-days-ahead"],
)
def test_a_wait_over_the_cap_is_given_up_at_once(limiting: str, after: str) -> None:
    time = FakeTime()
    governor = time.governor()
    with LimitedClient(Limits(timeout=5, governor=governor)) as client, pytest.raises(RateLimited, match="at most"):
        client.get(f"{limiting}/once", params={"client": after, "after": after})
    assert time.slept == [] and governor.waited == 0


def test_a_429_that_persists_is_given_up_after_the_retries(limiting: str) -> None:
    time = FakeTime()
    governor = time.governor()
    with LimitedSession(Limits(timeout=5, governor=governor)) as session, pytest.raises(RateLimited, match="429"):
        session.get(f"{limiting}/always")
    # Without Retry-After each wait is the short fixed one, and the retry then takes its slot of the
    # pace learnt from the 429s (the slowest there is: the target accepted nothing).
    assert governor.waited == MAX_RETRIES * FIXED_WAIT
    assert sum(time.slept) <= MAX_RETRIES * (FIXED_WAIT + 1 / MIN_RATE)
    assert (governor.limited, governor.retries, governor.given_up) == (MAX_RETRIES + 1, MAX_RETRIES, 1)


def test_no_wait_reaches_past_the_run_budget(limiting: str) -> None:
    time = FakeTime()
    ended: list[bool] = []
    governor = time.governor(deadline=time.now + 5, on_out_of_budget=lambda: ended.append(True))
    with LimitedClient(Limits(timeout=5, governor=governor)) as client, pytest.raises(RateLimited, match="5s left"):
        client.get(f"{limiting}/always", params={"after": "10"})
    assert time.slept == []
    assert ended == [True], "the run hears that the target limits it beyond its budget"


def test_the_pace_is_one_bucket_for_every_thread() -> None:
    # A clock that stands still: every request past the burst waits one more slot than the last,
    # and no two threads ever get the same slot.
    slept: list[float] = []
    governor = RateGovernor(10.0, clock=lambda: 1000.0, sleep=slept.append)

    def ten_requests() -> None:
        for _ in range(10):
            governor.pace()

    threads = [threading.Thread(target=ten_requests) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(round(wait * 10) for wait in slept) == list(range(1, 71))


@pytest.mark.parametrize("limit", [2.0, 5.0, 25.0, 100.0])
def test_the_pace_learns_what_the_target_accepts(limit: float) -> None:
    """Against a token bucket of `limit` requests a second, sent as fast as the pace lets: no request
    is given up, few are answered 429, and most of what the target allows is used."""
    time = FakeTime()
    bucket = TokenBucket(limit, clock=time.clock)
    governor = time.governor()

    def send() -> int:
        time.now += 0.002  # each request takes a little of the governor's time
        return 200 if bucket.take() else 429

    started = time.now
    for _ in range(int(limit * 120)):
        assert send_paced(governor, "http://target/x", send, lambda status: (status, "1"), lambda status: None) == 200
    elapsed = time.now - started
    assert governor.given_up == 0
    assert governor.limited <= 0.05 * governor.sent, (governor.limited, governor.sent)
    assert governor.sent - governor.limited >= 0.75 * limit * elapsed, "the pace uses most of the limit"
    assert governor.rate is not None and MIN_RATE <= governor.rate <= 1.3 * limit


def test_a_max_rate_bounds_the_learnt_pace() -> None:
    time = FakeTime()
    governor = time.governor(max_rate=3.0)
    for _ in range(100):
        send_paced(governor, "http://target/x", lambda: 200, lambda status: (status, None), lambda status: None)
    assert governor.rate == 3.0 and governor.limited == 0
    assert time.now - 1000.0 >= (100 - 3) / 3.0 - 1e-9, "never faster than --max-rate"


def test_threads_queue_fairly_behind_a_real_limiter(limiting: str) -> None:
    """Eight threads against a deployment that allows ten requests a second: every request is
    answered in the end, none given up, whatever the machine's speed (real sockets, real sleeps)."""
    governor = RateGovernor()
    answers: list[int] = []
    lock = threading.Lock()

    def lane(session: LimitedSession) -> None:
        for _ in range(6):
            status = session.get(f"{limiting}/bucket").status_code
            with lock:
                answers.append(status)

    with LimitedSession(Limits(timeout=10, governor=governor)) as session:
        threads = [threading.Thread(target=lane, args=(session,)) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert answers == [200] * 48
    assert governor.given_up == 0 and governor.retries == governor.limited
