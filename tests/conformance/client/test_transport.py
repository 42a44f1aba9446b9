"""The transport's limits on real sockets: a hanging route costs a few time-outs, then none."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator

import httpx
import pytest
import requests

from conformance.client.stall_breaker import STALLS_TO_OPEN, StallBreaker
from conformance.client.transport import LimitedClient, LimitedSession, Limits, ResponseTooSlow, RouteStalled
from tests.hostile import servers

TIMEOUT = 0.5


def _hang_on_slow(conn: socket.socket) -> None:
    request = servers._read_request(conn)
    path = servers._path(request)
    if path.startswith("/slow"):
        time.sleep(30)
    elif path.startswith("/stops"):
        # Headers, part of the body, then silence.
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        time.sleep(30)
    else:
        body = json.dumps({"ok": True}).encode()
        conn.sendall(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n"
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )


@pytest.fixture
def target() -> Iterator[str]:
    with servers.HostileServer(_hang_on_slow) as server:
        yield server.url


def test_the_httpx_client_stops_waiting_on_a_stalled_route(target: str) -> None:
    opened: list[str] = []
    breaker = StallBreaker(TIMEOUT, on_open=lambda route, why: opened.append(route))
    with LimitedClient(Limits(TIMEOUT, breaker=breaker), base_url=target) as client:
        for _ in range(STALLS_TO_OPEN):
            with pytest.raises(httpx.TimeoutException):
                client.get("/slow")
        started = time.monotonic()
        with pytest.raises(RouteStalled, match="/slow timed out"):
            client.get("/slow")
        assert time.monotonic() - started < TIMEOUT / 2, "refused at once, not waited on"
        assert client.get("/fast").json() == {"ok": True}
    assert opened == ["/slow"]


def test_the_requests_session_shares_the_breaker_and_counts_a_body_that_stops(target: str) -> None:
    breaker = StallBreaker(TIMEOUT)
    limits = Limits(TIMEOUT, breaker=breaker)
    with LimitedSession(limits) as session:
        for _ in range(STALLS_TO_OPEN):
            with pytest.raises(ResponseTooSlow):
                session.get(target + "/stops")
        with pytest.raises(RouteStalled):
            session.get(target + "/stops")
        assert session.get(target + "/fast").json() == {"ok": True}
    # What one client learnt, the other knows: the route is open for the httpx client too.
    with LimitedClient(limits, base_url=target) as client, pytest.raises(RouteStalled):
        client.get("/stops")
    assert isinstance(RouteStalled("x"), requests.RequestException)
