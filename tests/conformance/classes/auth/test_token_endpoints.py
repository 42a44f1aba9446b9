"""Where the token endpoints' scenarios look for RFC 8414 provider metadata."""

from __future__ import annotations

from conformance.classes.auth.token_endpoints import metadata_urls


def test_metadata_urls_follow_rfc_8414() -> None:
    assert metadata_urls("http://127.0.0.1:8080") == ["http://127.0.0.1:8080/.well-known/oauth-authorization-server"]
    assert metadata_urls("https://idp.example/realms/p2/") == [
        "https://idp.example/.well-known/oauth-authorization-server/realms/p2",
        "https://idp.example/realms/p2/.well-known/oauth-authorization-server",
    ]
