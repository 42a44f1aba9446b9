"""The per-client token bucket, and 429 with Retry-After over HTTP."""

from __future__ import annotations

import re

from phase2_reference.gateway.contract import load_contract
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


def test_every_limited_operation_answers_a_problem_with_retry_after_streams_included() -> None:
    """Past the client's bucket, every operation that declares 429 answers it as the contract says:
    a problem document whose status is 429, with Retry-After in seconds and the request's id."""
    limited = sorted(
        (operation for operation in load_contract().operations.values() if 429 in operation.statuses),
        key=lambda operation: operation.operation_id,
    )
    assert any(operation.operation_id == "streamEvents" for operation in limited)
    # One request a hundred seconds: after its first request, the client's bucket stays empty.
    for api in make_api(trusting_config(rate_limit=0.01)):
        headers = api.auth("a")  # its login spends the bucket of this address (unprotected operations)
        api.request("GET", "/worlds")  # spends the bucket of client "a" (protected ones)
        for operation in limited:
            path = re.sub(r"\{[^}]+\}", "01a00000-0000-7000-8000-000000000000", operation.path)
            accept = "text/event-stream" if operation.operation_id == "streamEvents" else "application/json"
            sent = {**headers, "Accept": accept, "X-Request-ID": f"limited-{operation.operation_id}"}
            answer = api.http.request(operation.method, path, headers=sent, content=b"{}")
            where = f"{operation.method} {operation.path}"
            assert answer.status_code == 429, where
            assert answer.headers["retry-after"].isascii() and answer.headers["retry-after"].isdigit(), where
            assert answer.headers["x-request-id"] == f"limited-{operation.operation_id}", where
            if operation.method == "HEAD":
                continue
            assert answer.headers["content-type"] == "application/problem+json", where
            problem = answer.json()
            assert problem["status"] == 429 and problem["type"] and problem["title"], where
