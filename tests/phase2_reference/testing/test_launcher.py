"""The test helper that serves the reference with real uvicorn on a free loopback port."""

from __future__ import annotations

import httpx
import pytest

from phase2_reference.config import Config
from phase2_reference.testing.launcher import running_server


def test_running_server_serves_and_stops() -> None:
    with running_server(Config(data_dir=None)) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        assert base_url.endswith("/v2")
        assert httpx.get(f"{base_url}/healthz").status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{base_url}/healthz")
