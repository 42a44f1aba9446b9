"""Bearer challenges and extracting the token."""

from __future__ import annotations

from phase2_reference.gateway.auth import bearer_token, challenge


def test_challenges() -> None:
    assert challenge() == 'Bearer realm="phase2"'
    assert challenge("invalid_token", "expired") == (
        'Bearer realm="phase2", error="invalid_token", error_description="expired"'
    )
    assert challenge("insufficient_scope", scope="worlds:write") == (
        'Bearer realm="phase2", error="insufficient_scope", scope="worlds:write"'
    )


def test_bearer_tokens() -> None:
    assert bearer_token({"authorization": "Bearer abc"}) == "abc"
    assert bearer_token({"authorization": "bearer   abc "}) == "abc"
    assert bearer_token({"authorization": "Basic abc"}) is None
    assert bearer_token({"authorization": "Bearer "}) is None
    assert bearer_token({}) is None
