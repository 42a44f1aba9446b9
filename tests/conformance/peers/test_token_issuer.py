"""The test issuer: its JWKS over HTTP, and each token it mints checked with PyJWT and real crypto."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest

from conformance.contract.files import fixtures_dir
from conformance.peers.token_issuer import (
    AUDIENCE,
    KID,
    OTHER_AUDIENCE,
    UNKNOWN_KID,
    UNTRUSTED_ISSUER,
    TestIssuer,
)

KEYS = fixtures_dir() / "keys"
TENANT = "tenant-a"
SCOPE = "worlds:read events:read"


@pytest.fixture(scope="module")
def issuer() -> Iterator[TestIssuer]:
    with TestIssuer(port=0) as running:
        yield running


def verify(issuer: TestIssuer, token: str, **options: Any) -> dict[str, Any]:
    """Verify as a deployment trusting the issuer would: its served JWKS, RS256 only."""
    jwks = httpx.get(issuer.jwks_url, timeout=5).json()
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(token)["kid"]]
    return dict(jwt.decode(token, key, algorithms=["RS256"], audience=AUDIENCE, issuer=issuer.issuer, **options))


def segments(token: str) -> tuple[dict[str, Any], dict[str, Any], bytes]:
    header, payload, signature = (base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)) for part in token.split("."))
    return json.loads(header), json.loads(payload), signature


def test_serves_the_fixture_jwks_and_discovery_metadata(issuer: TestIssuer) -> None:
    served = httpx.get(issuer.jwks_url, timeout=5)
    assert served.status_code == 200
    assert served.headers["content-type"] == "application/json"
    fixture = json.loads((KEYS / "test-issuer-jwks.json").read_text())
    assert served.json() == fixture
    metadata = httpx.get(issuer.issuer + "/.well-known/openid-configuration", timeout=5).json()
    assert metadata["issuer"] == issuer.issuer
    assert metadata["jwks_uri"] == issuer.jwks_url
    assert httpx.get(issuer.issuer + "/elsewhere", timeout=5).status_code == 404


def test_issuer_is_its_own_loopback_url_on_a_fixed_port() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with TestIssuer(port=port) as fixed:
        assert fixed.issuer == f"http://127.0.0.1:{port}"
        assert fixed.jwks_url == f"http://127.0.0.1:{port}/jwks.json"
        assert httpx.get(fixed.jwks_url, timeout=5).status_code == 200


def test_valid_token_verifies_with_every_claim(issuer: TestIssuer) -> None:
    claims = verify(issuer, issuer.valid(TENANT, SCOPE))
    assert jwt.get_unverified_header(issuer.valid(TENANT, SCOPE)) == {
        "alg": "RS256",
        "typ": "JWT",
        "kid": KID,
    }
    assert claims["tenant"] == TENANT
    assert claims["scope"] == SCOPE
    assert claims["aud"] == AUDIENCE
    assert claims["nbf"] <= claims["iat"] < claims["exp"]
    assert {"client_id", "sub", "jti"} <= claims.keys()
    assert verify(issuer, issuer.valid(TENANT, SCOPE))["jti"] != claims["jti"]


def test_without_scope_is_valid_but_grants_nothing(issuer: TestIssuer) -> None:
    assert verify(issuer, issuer.without_scope(TENANT))["scope"] == ""


@pytest.mark.parametrize(
    ("kind", "error"),
    [
        ("expired", jwt.ExpiredSignatureError),
        ("not_yet_valid", jwt.ImmatureSignatureError),
        ("wrong_issuer", jwt.InvalidIssuerError),
        ("wrong_audience", jwt.InvalidAudienceError),
        ("tampered", jwt.InvalidSignatureError),
    ],
)
def test_each_broken_token_is_refused_for_its_own_reason(issuer: TestIssuer, kind: str, error: type[Exception]) -> None:
    token = getattr(issuer, kind)(TENANT, SCOPE)
    with pytest.raises(error):
        # A leeway of a few minutes, as deployments allow, must not rescue the time-based ones.
        verify(issuer, token, leeway=300)


def test_time_and_identity_defects_are_the_only_defects(issuer: TestIssuer) -> None:
    # Signature verified, the defective claim set aside: everything else is right.
    assert verify(issuer, issuer.expired(TENANT, SCOPE), options={"verify_exp": False})["tenant"] == TENANT
    assert verify(issuer, issuer.not_yet_valid(TENANT, SCOPE), options={"verify_nbf": False})["scope"] == SCOPE
    wrong_iss = jwt.decode(
        issuer.wrong_issuer(TENANT, SCOPE),
        jwt.PyJWK(issuer.jwks["keys"][0]),
        algorithms=["RS256"],
        audience=AUDIENCE,
    )
    assert wrong_iss["iss"] == UNTRUSTED_ISSUER
    wrong_aud = jwt.decode(
        issuer.wrong_audience(TENANT, SCOPE),
        jwt.PyJWK(issuer.jwks["keys"][0]),
        algorithms=["RS256"],
        audience=OTHER_AUDIENCE,
    )
    assert wrong_aud["iss"] == issuer.issuer


def test_alg_none_is_unsigned(issuer: TestIssuer) -> None:
    token = issuer.alg_none(TENANT, SCOPE)
    header, claims, signature = segments(token)
    assert header["alg"] == "none"
    assert signature == b""
    assert claims["iss"] == issuer.issuer
    assert claims["aud"] == AUDIENCE
    with pytest.raises(jwt.InvalidAlgorithmError):
        verify(issuer, token)


def test_alg_confusion_is_hmac_keyed_with_the_public_pem(issuer: TestIssuer) -> None:
    token = issuer.alg_confusion(TENANT, SCOPE)
    header, claims, signature = segments(token)
    assert header == {"alg": "HS256", "typ": "JWT", "kid": KID}
    assert claims["tenant"] == TENANT
    public_pem = (KEYS / "test-issuer-public.pem").read_bytes()
    signing_input = token.rsplit(".", 1)[0].encode()
    assert hmac.compare_digest(signature, hmac.new(public_pem, signing_input, hashlib.sha256).digest())
    # PyJWT itself refuses a PEM public key as an HMAC secret: the protection the attack tests.
    with pytest.raises(jwt.InvalidKeyError):
        jwt.decode(token, public_pem, algorithms=["HS256"], audience=AUDIENCE)


def test_tampered_token_keeps_a_real_signature_over_other_claims(issuer: TestIssuer) -> None:
    token = issuer.tampered(TENANT, SCOPE)
    _, claims, _ = segments(token)
    assert claims["exp"] - claims["iat"] > 3600  # the alteration: a day more of life
    with pytest.raises(jwt.InvalidSignatureError):
        verify(issuer, token)


def test_unknown_kid_is_signed_by_the_rogue_key(issuer: TestIssuer) -> None:
    token = issuer.unknown_kid(TENANT, SCOPE)
    assert jwt.get_unverified_header(token)["kid"] == UNKNOWN_KID
    assert UNKNOWN_KID not in {key["kid"] for key in issuer.jwks["keys"]}
    rogue_public = (KEYS / "rogue-public.pem").read_bytes()
    claims = jwt.decode(token, rogue_public, algorithms=["RS256"], audience=AUDIENCE, issuer=issuer.issuer)
    assert claims["tenant"] == TENANT
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(token, (KEYS / "test-issuer-public.pem").read_bytes(), algorithms=["RS256"], audience=AUDIENCE)
