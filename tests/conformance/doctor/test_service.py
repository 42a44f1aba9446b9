"""What the deployment says about itself, judged line by line against a loopback deployment whose
answers each test sets: readiness per component, metrics, feature flags, throttling."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from conformance.client.transport import LimitedClient, make_client
from conformance.doctor.service import (
    METRICS_REQUIREMENTS,
    RATE_PROBE_REQUESTS,
    Throttles,
    flags,
    metrics,
    rate_limit,
    readiness,
)
from conformance.peers.loopback_server import LoopbackServer
from conformance.settings import Settings, load_settings

CLIENT = {"PHASE2_CLIENT_ID": "tenant-a-admin", "PHASE2_CLIENT_SECRET": "test-only-secret-tenant-a-admin-7f3c"}
Answer = tuple[int, str, bytes]  # status, content type, body


class Deployment(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.answers: dict[str, Answer] = {}
        self.requests: list[str] = []

    def app(self) -> ASGIApp:
        async def answer(request: Request) -> Response:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            self.requests.append(target)
            status, content_type, body = self.answers.get(target, (404, "text/plain", b"no"))
            headers = {"Retry-After": "7"} if status == 429 else {}
            return Response(body, status, headers, media_type=content_type)

        return Starlette(routes=[Route("/{path:path}", answer)])

    def answer(self, path: str, status: int, document: object, content_type: str = "application/json") -> None:
        body = document if isinstance(document, bytes) else json.dumps(document).encode()
        self.answers[path] = (status, content_type, body)


@pytest.fixture
def deployment() -> Iterator[Deployment]:
    with Deployment() as server:
        yield server


def _settings(deployment: Deployment, **values: object) -> Settings:
    return load_settings({"base_url": f"{deployment.url}/v2", "request_timeout": 5, **values}, env=CLIENT)


@pytest.fixture
def client(deployment: Deployment) -> Iterator[LimitedClient]:
    with make_client(_settings(deployment)) as client:
        yield client


def test_each_failing_component_is_a_line_with_its_fix(deployment: Deployment, client: LimitedClient) -> None:
    deployment.answer(
        "/v2/readyz",
        503,
        {"status": "fail", "checks": {"store": {"status": "fail", "detail": "disk full"}, "bus": "pass"}},
    )
    findings = readiness(client, f"{deployment.url}/v2")
    assert [(finding.name, finding.ok) for finding in findings] == [
        ("readyz", False),
        ("readyz bus", True),
        ("readyz store", False),
    ]
    assert findings[2].detail == "fail disk full" and findings[2].fix == "restore store"


@pytest.mark.parametrize("document", [{"status": "pass"}, {"status": "pass", "checks": ["store"]}, b"not json"])
def test_an_answer_without_a_readiness_document_is_one_failed_line(
    deployment: Deployment, client: LimitedClient, document: object
) -> None:
    deployment.answer("/v2/readyz", 200, document)
    [finding] = readiness(client, f"{deployment.url}/v2")
    assert not finding.ok and "without a readiness document" in finding.detail


def test_metrics_must_parse_and_count_requests(deployment: Deployment, client: LimitedClient) -> None:
    base = f"{deployment.url}/v2"
    assert metrics(client, base).detail == "GET /metrics answered 404"
    deployment.answer("/v2/metrics", 200, b"# TYPE other counter\nother 1\n", "text/plain")
    missing = metrics(client, base)
    assert not missing.ok and "no phase2_http_requests_total" in missing.detail
    assert missing.requirements == METRICS_REQUIREMENTS
    counted = b'# TYPE phase2_http_requests_total counter\nphase2_http_requests_total{method="GET"} 3\n'
    deployment.answer("/v2/metrics", 200, counted, "text/plain")
    assert metrics(client, base).ok


def test_the_run_s_flags_must_be_the_deployment_s(deployment: Deployment, client: LimitedClient) -> None:
    deployment.answer("/v2/engine", 200, {"feature_flags": ["world-preview"]})
    differ = flags(client, _settings(deployment), "token")
    assert not differ.ok and differ.fix == "pass --flags world-preview (PHASE2_FEATURE_FLAGS=world-preview)"
    assert flags(client, _settings(deployment, feature_flags="world-preview"), "token").ok
    deployment.answer("/v2/engine", 200, {"name": "engine"})
    assert flags(client, _settings(deployment), "token").detail == "GET /engine has no feature_flags list"


def test_a_deployment_that_throttles_a_short_burst_is_named(deployment: Deployment, client: LimitedClient) -> None:
    throttles = Throttles()
    client.event_hooks["response"].append(throttles.hook())
    deployment.answer("/v2/engine", 200, {"feature_flags": []})
    calm = rate_limit(client, _settings(deployment), "token", throttles)
    assert calm.ok and len(deployment.requests) == RATE_PROBE_REQUESTS
    deployment.answer("/v2/engine", 429, {"title": "slow down"})
    throttled = rate_limit(client, _settings(deployment), "token", throttles)
    assert not throttled.ok and "first to GET /v2/engine (Retry-After 7)" in throttled.detail
