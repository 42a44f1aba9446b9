"""The per-client token bucket, and 429 with Retry-After over HTTP."""

from __future__ import annotations

from phase2_reference.gateway.ratelimit import RateLimiter
from tests.phase2_reference.conftest import make_api, trusting_config


def test_bucket_allows_the_rate_then_asks_to_wait() -> None:
    limiter = RateLimiter(2)
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") is None
    assert limiter.acquire("a") == 1
    assert limiter.acquire("b") is None


def test_429_with_retry_after_per_client() -> None:
    for api in make_api(trusting_config(rate_limit=3)):
        token = api.token("a")
        statuses = [api.http.get("/worlds", headers={"Authorization": f"Bearer {token}"}) for _ in range(6)]
        limited = [response for response in statuses if response.status_code == 429]
        assert limited
        assert limited[0].headers["retry-after"] == "1"
        assert limited[0].json()["status"] == 429
        # Health probes are never rate limited (their operations declare no 429).
        assert all(api.http.get("/healthz").status_code == 200 for _ in range(6))
