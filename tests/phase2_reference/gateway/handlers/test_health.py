"""Liveness, readiness and metrics over HTTP (metrics content is tested in telemetry/test_metrics.py)."""

from __future__ import annotations

from tests.phase2_reference.conftest import Api


def test_liveness_needs_no_credentials_and_is_never_cached(api: Api) -> None:
    response = api.http.get("/healthz")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "ok"
    assert body["version"]
    assert body["uptime_seconds"] >= 0


def test_head_answers_with_the_headers_of_get_and_no_body(api: Api) -> None:
    for path in ("/healthz", "/readyz"):
        get = api.http.get(path)
        head = api.http.head(path)
        assert head.status_code == get.status_code
        assert head.content == b""
        assert head.headers["cache-control"] == "no-store"
        assert head.headers["content-type"] == get.headers["content-type"]
        assert head.headers["x-request-id"]


def test_readiness_reports_each_component(api: Api) -> None:
    response = api.http.get("/readyz")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"]["data_store"]["status"] == "pass"
    assert body["checks"]["data_store"]["latency_ms"] >= 0
    assert body["checks"]["event_bus"] == {"status": "pass"}
    assert body["observed_at"].endswith("Z")


def test_readiness_fails_while_the_store_is_away_and_recovers(api: Api) -> None:
    controls = api.server.origin + "/_reference/store"
    try:
        assert api.http.post(controls, json={"available": False}).status_code == 200
        response = api.http.get("/readyz")
        assert response.status_code == 503
        assert response.headers["retry-after"] == "1"
        assert response.headers["cache-control"] == "no-store"
        body = response.json()
        assert body["status"] == "not_ready"
        assert body["checks"]["data_store"] == {"status": "fail", "detail": "data store unavailable"}
        assert body["checks"]["event_bus"]["status"] == "pass"
        assert api.http.head("/readyz").status_code == 503
        assert api.http.get("/healthz").status_code == 200
    finally:
        api.http.post(controls, json={"available": True})
    assert api.http.get("/readyz").status_code == 200


def test_metrics_need_no_credentials_and_are_never_cached(api: Api) -> None:
    response = api.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("text/plain")
    assert api.http.head("/metrics").status_code == 405
