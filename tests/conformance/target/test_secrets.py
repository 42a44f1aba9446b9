from __future__ import annotations

from conformance.target.secrets import MASK, Redactor

JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZW5hbnQtYSJ9.c2lnbmF0dXJlLWJ5dGVz"


def test_known_secrets_and_credential_shapes_are_masked() -> None:
    redactor = Redactor(["test-only-secret-tenant-a-admin-7f3c"])
    text = redactor.text(
        f"client_secret=test-only-secret-tenant-a-admin-7f3c token {JWT} Authorization: Bearer abc.def "
        '{"refresh_token": "rt_opaque_value", "access_token":"xyz"}'
    )
    assert "test-only-secret" not in text
    assert JWT not in text and "eyJ" not in text
    assert "abc.def" not in text
    assert "rt_opaque_value" not in text and "xyz" not in text
    assert text.count(MASK) >= 5


def test_sensitive_headers_are_masked_whole() -> None:
    redactor = Redactor()
    masked = redactor.headers({"Authorization": "Bearer anything", "Cookie": "sid=1", "X-Request-ID": "abc"})
    assert masked == {"Authorization": MASK, "Cookie": MASK, "X-Request-ID": "abc"}


def test_tokens_registered_later_are_masked_too() -> None:
    redactor = Redactor()
    redactor.register("opaque-access-token-123")
    assert "opaque-access-token-123" not in redactor.text("sent opaque-access-token-123 to the target")
    redactor.register("abc")  # too short to mask safely: ignored
    assert redactor.text("abc") == "abc"


def test_credential_names_used_as_body_keys_are_masked_too() -> None:
    text = Redactor().text('{"Authorization": {"scheme": "Bearer"}, "cookie": "sid=abc", "name": "kept"}')
    assert '"Authorization": {' not in text
    assert "sid=abc" not in text
    assert '"name": "kept"' in text
