from __future__ import annotations

from conformance.client.secrets import MASK, Redactor

SECRET = "a-client-secret-value-7f3c"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ0ZW5hbnQtYSJ9.c2lnbmF0dXJlLWJ5dGVz"


def test_known_secrets_and_credential_shapes_are_masked() -> None:
    redactor = Redactor([SECRET])
    text = redactor.text(
        f"client_secret={SECRET} token {JWT} Authorization: Bearer abc.def "
        '{"refresh_token": "rt_opaque_value", "access_token":"xyz"}'
    )
    assert SECRET not in text and "client-secret-value" not in text
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


def test_prose_after_bearer_or_basic_reads_as_written() -> None:
    # The catalog's own statements pass through the same redactor on their way to the console and
    # the reports; only what looks like a credential is taken for one.
    prose = "a WWW-Authenticate challenge with the Bearer scheme (Basic client authentication at login)"
    assert Redactor().text(prose) == prose
    assert Redactor().text("it sent Basic dGVuYW50LWE6czNjcmV0 twice") == "it sent Basic *** twice"
    assert Redactor().text("Bearer opaque_token_without_digits") == "Bearer ***"
