"""The way to the target, step by step: DNS, TCP, the base path and the clock, each failure naming
its fix; a step that makes testing impossible is fatal."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from email.utils import formatdate

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from conformance.client.transport import make_client
from conformance.doctor.network import CLOCK_SKEW_LIMIT, base_path, clock, connection
from conformance.peers.loopback_server import LoopbackServer
from conformance.settings import Settings, load_settings

CLIENT = {"PHASE2_CLIENT_ID": "tenant-a-admin", "PHASE2_CLIENT_SECRET": "test-only-secret-tenant-a-admin-7f3c"}


def _settings(base_url: str) -> Settings:
    return load_settings({"base_url": base_url, "request_timeout": 5}, env=CLIENT)


class ApiAtV2(LoopbackServer):
    """A deployment whose API root is /v2: only /v2/healthz answers the liveness document."""

    def app(self) -> ASGIApp:
        async def answer(request: Request) -> JSONResponse:
            found = request.url.path == "/v2/healthz"
            return JSONResponse({"status": "ok"} if found else {"title": "not found"}, 200 if found else 404)

        return Starlette(routes=[Route("/{path:path}", answer)])


@pytest.fixture
def deployment() -> Iterator[ApiAtV2]:
    with ApiAtV2() as server:
        yield server


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_listening_target_passes_dns_and_tcp(deployment: ApiAtV2) -> None:
    findings = connection(_settings(f"{deployment.url}/v2"))
    assert [(finding.name, finding.ok) for finding in findings] == [("DNS", True), ("TCP", True)]


def test_a_closed_port_is_fatal_and_names_the_port() -> None:
    port = _closed_port()
    dns, tcp = connection(_settings(f"http://127.0.0.1:{port}/v2"))
    assert dns.ok and not tcp.ok and tcp.fatal
    assert f"cannot connect to 127.0.0.1:{port}" in tcp.detail and "port in PHASE2_BASE_URL" in tcp.fix


def test_the_api_root_answers_the_liveness_document(deployment: ApiAtV2) -> None:
    settings = _settings(f"{deployment.url}/v2")
    with make_client(settings) as client:
        finding, response = base_path(client, settings)
    assert finding.ok and response is not None and response.status_code == 200


def test_a_wrong_base_path_is_fatal_and_suggests_the_root_that_answers(deployment: ApiAtV2) -> None:
    settings = _settings(f"{deployment.url}/api")
    with make_client(settings) as client:
        finding, response = base_path(client, settings)
    assert not finding.ok and finding.fatal and response is not None
    assert finding.detail == f"{deployment.url}/api/healthz answered 404"
    assert finding.fix.startswith(f"use --base-url {deployment.url}/v2 ")


def _dated(date: str | None) -> httpx.Response:
    response = httpx.Response(200, headers={"date": date} if date else {})
    response.extensions["elapsed"] = 0.0
    return response


def test_a_clock_within_the_limit_passes_and_no_date_is_not_measured() -> None:
    now = time.time()
    assert clock(_dated(formatdate(now + 5, usegmt=True)), now, ()).ok
    assert clock(_dated(None), now, ()).detail == "the target sends no Date header; skew not measured"


@pytest.mark.parametrize(
    ("offset", "direction"), [(3 * CLOCK_SKEW_LIMIT, "ahead of"), (-3 * CLOCK_SKEW_LIMIT, "behind")]
)
def test_a_skewed_clock_names_the_requirements_it_puts_at_risk(offset: float, direction: str) -> None:
    now = time.time()
    finding = clock(_dated(formatdate(now + offset, usegmt=True)), now, ("P2-AUTH-003",))
    assert not finding.ok and direction in finding.detail and finding.requirements == ("P2-AUTH-003",)
    assert "NTP" in finding.fix


def test_a_date_that_is_no_http_date_fails() -> None:
    finding = clock(_dated("yesterday"), time.time(), ())
    assert not finding.ok and "is not an HTTP date" in finding.detail
