"""The middleware around the gateway: unexpected errors become a generic 500 problem, logged."""

from __future__ import annotations

import asyncio
import logging

import httpx
import pytest

from phase2_reference.app import create_app
from phase2_reference.gateway.handlers import HANDLERS
from phase2_reference.gateway.http import Call, Reply
from phase2_reference.gateway.state import AppState
from tests.phase2_reference.conftest import trusting_config


async def broken(state: AppState, call: Call) -> Reply:
    raise KeyError("/srv/secret/path.py SELECT * FROM worlds")


def test_an_unexpected_exception_is_a_generic_500(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setitem(HANDLERS, "getLiveness", broken)

    async def main() -> httpx.Response:
        app = create_app(trusting_config())
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as http:
                response = await http.get("/v2/healthz", headers={"X-Request-ID": "boom-1"})
                metrics = await http.get("/v2/metrics")
                assert 'route="/healthz",status="500"} 1.0' in metrics.text
                return response
        finally:
            await app.shutdown()
            app.close()

    with caplog.at_level(logging.ERROR, logger="phase2_reference.errors"):
        response = asyncio.run(main())
    assert response.status_code == 500
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["x-request-id"] == "boom-1"
    document = response.json()
    assert document["status"] == 500
    assert document["detail"] == "The server could not answer this request."
    for leak in ("KeyError", "SELECT", "/srv", "Traceback"):
        assert leak not in response.text
    [record] = caplog.records
    assert record.request_id == "boom-1"  # type: ignore[attr-defined]
    assert record.exc_info is not None
