"""Rate limits on real sockets: both clients keep one pace and honour 429 with Retry-After."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from conformance.client.rate_governor import MAX_RETRIES, MAX_WAIT, RateGovernor, RateLimited, retry_after_seconds
from conformance.client.transport import LimitedClient, LimitedSession, Limits


class _LimitingServer(ThreadingHTTPServer):
    seen: Counter[str]


class _Limiting(BaseHTTPRequestHandler):
    """`/once?client=C&after=V`: the first request of each client is 429 with Retry-After V; then 200.
    `/always?after=V`: every request is 429."""

    server: _LimitingServer

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        client = query.get("client", "")
        self.server.seen[client] += 1
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


@pytest.fixture
def limiting() -> Iterator[str]:
    server = _LimitingServer(("127.0.0.1", 0), _Limiting)
    server.seen = Counter()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class Waits:
    """The governor's sleep, recorded instead of slept: the tests never wait on the wall clock."""

    def __init__(self) -> None:
        self.seconds: list[float] = []
        self._lock = threading.Lock()

    def __call__(self, seconds: float) -> None:
        with self._lock:
            self.seconds.append(seconds)


def test_retry_after_is_seconds_or_an_http_date() -> None:
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(format_datetime(now + timedelta(seconds=10), usegmt=True), now) == 10.0
    assert retry_after_seconds(format_datetime(now - timedelta(seconds=10), usegmt=True), now) == 0.0
    assert retry_after_seconds("soon") is None
    assert retry_after_seconds("-1") is None
    assert retry_after_seconds("") is None
    assert retry_after_seconds(None) is None


def test_both_clients_share_one_governor_and_see_only_the_final_answer(limiting: str) -> None:
    waits = Waits()
    limited: list[tuple[str, str | None]] = []
    governor = RateGovernor(on_limited=lambda url, after: limited.append((url, after)), sleep=waits)
    limits = Limits(timeout=5, governor=governor)
    when = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    with LimitedClient(limits) as client, LimitedSession(limits) as session:
        assert client.get(f"{limiting}/once", params={"client": "httpx", "after": "2"}).status_code == 200
        assert session.get(f"{limiting}/once", params={"client": "requests", "after": when}).status_code == 200
    assert (governor.limited, governor.retries, governor.given_up) == (2, 2, 0)
    assert waits.seconds[0] == 2.0
    assert 10 < waits.seconds[1] <= 20, "an HTTP date is waited for until it comes"
    assert [after for _, after in limited] == ["2", when]


def test_a_long_retry_after_is_capped(limiting: str) -> None:
    waits = Waits()
    governor = RateGovernor(sleep=waits)
    with LimitedClient(Limits(timeout=5, governor=governor)) as client:
        assert client.get(f"{limiting}/once", params={"client": "a", "after": "86400"}).status_code == 200
    assert waits.seconds == [MAX_WAIT]


def test_a_429_that_persists_is_given_up_after_the_retries(limiting: str) -> None:
    waits = Waits()
    governor = RateGovernor(sleep=waits)
    with LimitedSession(Limits(timeout=5, governor=governor)) as session, pytest.raises(RateLimited, match="429"):
        session.get(f"{limiting}/always")
    # Without Retry-After the waits double from one second.
    assert waits.seconds == [1.0 * 2**attempt for attempt in range(MAX_RETRIES)]
    assert (governor.limited, governor.retries, governor.given_up) == (MAX_RETRIES + 1, MAX_RETRIES, 1)


def test_no_wait_reaches_past_the_run_budget(limiting: str) -> None:
    clock = 1000.0
    waits = Waits()
    governor = RateGovernor(deadline=clock + 5, clock=lambda: clock, sleep=waits)
    with LimitedClient(Limits(timeout=5, governor=governor)) as client, pytest.raises(RateLimited, match="5s left"):
        client.get(f"{limiting}/always", params={"after": "10"})
    assert waits.seconds == []


def test_the_pace_is_one_bucket_for_every_thread() -> None:
    # A clock that stands still: every request past the burst waits one more slot than the last,
    # and no two threads ever get the same slot.
    waits = Waits()
    governor = RateGovernor(10.0, clock=lambda: 1000.0, sleep=waits)
    threads = [threading.Thread(target=lambda: [governor.pace() for _ in range(10)]) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(round(wait * 10) for wait in waits.seconds) == list(range(1, 71))
