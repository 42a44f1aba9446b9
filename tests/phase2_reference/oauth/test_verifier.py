"""Access-token validation: every claim and header the reference checks, with real JWT crypto."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time

import jwt
import pytest

from phase2_reference.app import build_state
from phase2_reference.oauth import verifier as verifier_module
from phase2_reference.oauth.verifier import InvalidToken
from tests.phase2_reference.conftest import KEYS, TEST_ISSUER, Api, mint, trusting_config


def refused(api: Api, token: str) -> str:
    """Call a protected operation with `token`; assert a 401 invalid_token and return the description."""
    response = api.http.get("/worlds", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 401, response.text
    assert response.json()["error"] == "invalid_token"
    challenge = response.headers["www-authenticate"]
    assert challenge.startswith('Bearer realm="phase2", error="invalid_token", error_description="')
    return challenge


def accepted(api: Api, token: str) -> None:
    response = api.http.get("/worlds", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_a_valid_token_of_the_trusted_issuer_is_accepted(api: Api) -> None:
    accepted(api, mint())


def test_a_token_without_nbf_or_jti_is_accepted(api: Api) -> None:
    accepted(api, mint(drop=("nbf", "jti", "iat")))


def test_an_audience_list_holding_phase2_api_is_accepted(api: Api) -> None:
    accepted(api, mint({"aud": ["other", "phase2-api"]}))


@pytest.mark.parametrize(
    ("claims", "drop", "fragment"),
    [
        ({"exp": int(time.time()) - 3600}, (), "expired"),
        ({"nbf": int(time.time()) + 3600}, (), "not valid yet"),
        ({"iss": "https://rogue.example"}, (), "issuer"),
        ({"aud": "another-api"}, (), "audience"),
        ({}, ("tenant",), "tenant"),
        ({"tenant": ""}, (), "tenant"),
        ({}, ("exp",), "exp"),
        ({"exp": "tomorrow"}, (), "exp"),
        ({"scope": ["worlds:read"]}, (), "scope"),
    ],
    ids=[
        "expired",
        "nbf-future",
        "unknown-issuer",
        "other-audience",
        "no-tenant",
        "empty-tenant",
        "no-exp",
        "exp-not-number",
        "scope-not-string",
    ],
)
def test_claims_that_fail(api: Api, claims: dict[str, object], drop: tuple[str, ...], fragment: str) -> None:
    assert fragment in refused(api, mint(claims, drop=drop))


def test_the_issuer_must_own_the_signing_key(api: Api) -> None:
    # Signed by the test issuer's key but claiming the reference's own issuer.
    assert "issuer" in refused(api, mint({"iss": api.server.origin}))


def test_not_a_jwt(api: Api) -> None:
    assert "not a JWT" in refused(api, "not-a-token")
    refused(api, "a.b.c")


def test_alg_none_is_refused(api: Api) -> None:
    header = b64(json.dumps({"alg": "none", "typ": "JWT", "kid": "test-issuer-2026"}).encode())
    payload = jwt.decode(mint(), options={"verify_signature": False})
    token = f"{header}.{b64(json.dumps(payload).encode())}."
    assert "algorithm" in refused(api, token)


def test_hs256_with_the_public_key_as_secret_is_refused(api: Api) -> None:
    public_pem = (KEYS / "test-issuer-public.pem").read_bytes()
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": "test-issuer-2026"}).encode())
    payload = b64(json.dumps(jwt.decode(mint(), options={"verify_signature": False})).encode())
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    assert "algorithm" in refused(api, f"{header}.{payload}.{b64(signature)}")


def test_a_payload_altered_after_signing_is_refused(api: Api) -> None:
    header, _, signature = mint().split(".")
    claims = jwt.decode(mint(), options={"verify_signature": False})
    claims["tenant"] = "tenant-b"
    forged = f"{header}.{b64(json.dumps(claims).encode())}.{signature}"
    assert "signature" in refused(api, forged)


def test_an_unknown_kid_is_refused(api: Api) -> None:
    assert "key id" in refused(api, mint(key_file="rogue-private.pem", kid="rogue-2026"))
    assert "key id" in refused(api, mint(kid=None))


def test_a_known_kid_with_the_wrong_key_is_refused(api: Api) -> None:
    assert "signature" in refused(api, mint(key_file="rogue-private.pem"))


def test_es256_must_match_its_key_type(api: Api) -> None:
    # The test issuer's key is RSA; an ES256 header on it can never verify.
    header = b64(json.dumps({"alg": "ES256", "kid": "test-issuer-2026"}).encode())
    body = b64(json.dumps({"iss": TEST_ISSUER}).encode())
    refused(api, f"{header}.{body}.{b64(b'x' * 64)}")


def test_missing_scope_is_insufficient_scope(api: Api) -> None:
    token = mint({"scope": "engine:read"})
    response = api.http.post("/worlds", json={"name": "x"}, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 403
    assert response.json()["error"] == "insufficient_scope"
    assert response.headers["www-authenticate"] == (
        'Bearer realm="phase2", error="insufficient_scope", scope="worlds:write"'
    )


def test_exp_nbf_and_revocation_are_checked_on_every_request_despite_the_cache(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = build_state(trusting_config())
    now = time.time()
    token = mint({"nbf": int(now) + 60, "exp": int(now) + 600})
    with pytest.raises(InvalidToken, match="not valid yet"):
        asyncio.run(state.verifier.verify(token))
    monkeypatch.setattr(verifier_module.time, "time", lambda: now + 120)
    principal = asyncio.run(state.verifier.verify(token))
    assert token in state.verifier._cache
    monkeypatch.setattr(verifier_module.time, "time", lambda: now + 3600)
    with pytest.raises(InvalidToken, match="expired"):
        asyncio.run(state.verifier.verify(token))
    monkeypatch.setattr(verifier_module.time, "time", lambda: now + 120)
    state.tokens.logout(principal.jti, principal.expires_at, None, principal.client_id)
    with pytest.raises(InvalidToken, match="revoked"):
        asyncio.run(state.verifier.verify(token))
    state.store.close()


def test_own_tokens_are_verified_with_the_jwks(api: Api) -> None:
    token = api.login("a").json()["access_token"]
    jwks = api.http.get(api.server.origin + "/.well-known/jwks.json").json()
    key = jwt.PyJWKSet.from_dict(jwks).keys[0]
    claims = jwt.decode(token, key.key, algorithms=["RS256"], audience="phase2-api", issuer=api.server.origin)
    assert claims["tenant"] == "tenant-a"
