"""The preflight recognises a Phase 2 deployment at the base path, on real loopback servers.

Not a Phase 2 API (a wrong base path, a gateway answering 404 everywhere, a plain web server, a
JSON service of another shape) ends at once with `TargetUnreachable` naming what was found; a
Phase 2 API whose answers break rules is left to the checks.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from conformance.client.preflight import liveness_shape, preflight
from conformance.client.transport import make_client
from conformance.contract import load_contract
from conformance.errors import TargetUnreachable
from conformance.settings import load_settings
from phase2_reference.config import Config
from phase2_reference.testing.launcher import serving as serving_reference
from tests.hostile import servers

CREDENTIALS = {"PHASE2_CLIENT_ID": "probe-client", "PHASE2_CLIENT_SECRET": "probe-secret-value"}


def answering(status: str, content_type: str, body: bytes) -> servers.Handler:
    def handle(conn: socket.socket) -> None:
        servers._read_request(conn)
        servers._respond(conn, status, content_type, body)

    return handle


def challenge(conn: socket.socket) -> None:
    servers._read_request(conn)
    conn.sendall(b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer\r\nContent-Length: 0\r\n\r\n")


@contextmanager
def server(handler: servers.Handler) -> Iterator[str]:
    with servers.HostileServer(handler) as running:
        yield running.url


def probe(base_url: str) -> httpx.Response:
    settings = load_settings({"base_url": base_url, "request_timeout": 5}, env=CREDENTIALS)
    with make_client(settings) as client:
        return preflight(client, base_url)


def test_the_liveness_shape_comes_from_the_contract() -> None:
    shape = liveness_shape(load_contract())
    assert (shape.status, shape.media_types) == (200, frozenset({"application/json"}))
    assert shape.keys == frozenset({"status", "version", "uptime_seconds"})


LIVENESS = json.dumps({"status": "ok", "version": "1", "uptime_seconds": 3}).encode()
PROBLEM = json.dumps({"type": "about:blank", "title": "Not found", "status": 404}).encode()
NOT_PHASE2: dict[str, tuple[servers.Handler, str, str]] = {
    "a gateway answering 404 everywhere": (
        answering("404 Not Found", "text/html", b"<h1>Not Found</h1>"),
        "/v1",
        "answered 404 text/html: not a Phase 2 API at {url}/v1; is the base path right? "
        "the contract's server path is /v2",
    ),
    "a plain web server": (
        servers.html_everywhere,
        "/v2",
        "answered 200 text/html: not a Phase 2 API at {url}/v2; is this a Phase 2 deployment?",
    ),
    "a JSON API of another shape": (
        answering("200 OK", "application/json", b'{"healthy": true}'),
        "/v2",
        "answered 200 application/json without any of status, uptime_seconds, version",
    ),
    "a JSON array": (
        answering("200 OK", "application/json", b"[]"),
        "/api",
        "answered 200 application/json that is not a JSON object",
    ),
    "an API's own 404": (
        answering("404 Not Found", "application/problem+json", PROBLEM),
        "/v1",
        "answered 404 application/problem+json",
    ),
    "no content type and no JSON": (answering("200 OK", "", b"OK"), "/v2", "answered 200 without a Content-Type"),
}


@pytest.mark.parametrize("kind", list(NOT_PHASE2))
def test_a_server_that_is_not_a_phase2_api_ends_the_preflight(kind: str) -> None:
    handler, path, message = NOT_PHASE2[kind]
    with server(handler) as url, pytest.raises(TargetUnreachable) as raised:
        probe(url + path)
    text = str(raised.value)
    assert text.startswith(f"GET {url}{path}/healthz answered ")
    assert message.format(url=url) in text
    assert "\n" not in text


ACCEPTED: dict[str, servers.Handler] = {
    "the contract's liveness answer": answering("200 OK", "application/json; charset=utf-8", LIVENESS),
    # Recognised, and wrong: the health checks fail it, the preflight does not hide it as absence.
    "a liveness answer missing fields": answering("200 OK", "application/json", b'{"status": "ok"}'),
    "an API refusing the probe with its JSON error": answering(
        "401 Unauthorized", "application/problem+json", json.dumps({"title": "no", "status": 401}).encode()
    ),
    "an API not alive, in JSON": answering("503 Service Unavailable", "application/json", b'{"status": "down"}'),
    # Labels are judged by the checks (P2-CON-002), not taken as absence of the API.
    "the liveness object labelled text/plain": answering("200 OK", "text/plain", LIVENESS),
    "the liveness object without a content type": answering("200 OK", "", LIVENESS),
    "a bearer challenge without a body": challenge,
}


@pytest.mark.parametrize("kind", list(ACCEPTED))
def test_a_phase2_api_passes_the_preflight_even_when_it_answers_wrongly(kind: str) -> None:
    with server(ACCEPTED[kind]) as url:
        assert probe(url + "/v2").status_code in (200, 401, 503)


@pytest.fixture
def reference_origin() -> Iterator[str]:
    with serving_reference(Config(data_dir=None)) as running:
        yield running.origin


def test_the_reference_at_the_wrong_base_path_ends_at_once_with_exit_3(
    reference_origin: str, run_suite: Any, tmp_path: Path
) -> None:
    env = {**CREDENTIALS, "PHASE2_BASE_URL": reference_origin + "/v1"}
    run = run_suite("--profile", "quick", env=env)
    assert run.exit_code == 3, run.stdout + run.stderr
    assert run.stderr.strip() == (
        f"phase2-conformance: error: GET {reference_origin}/v1/healthz answered 404 application/problem+json: "
        f"not a Phase 2 API at {reference_origin}/v1; is the base path right? the contract's server path is /v2"
    )
    assert run.summary["verdict"] == "error" and run.summary["counts"]["requests"] <= 1
