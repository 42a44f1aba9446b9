"""The suite's own test token issuer: a JWKS served on loopback and tokens built to be refused.

A deployment configured to trust this issuer lets the auth class try every way a token can be
wrong (RFC 7519, RFC 8725) while keeping everything else right, so a refusal can only come from
the one defect each token carries. The keys are the public, test-only ones of `fixtures/keys/`.

    with TestIssuer(port=0) as issuer:      # serves issuer.jwks_url
        token = issuer.valid("tenant-a", "worlds:read")
        forged = issuer.alg_confusion("tenant-a", "worlds:read")
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from functools import cached_property, wraps
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from jwt.algorithms import RSAAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp

from conformance.client.step_log import note_token
from conformance.contract.files import fixtures_dir
from conformance.peers.loopback_server import LoopbackServer

AUDIENCE = "phase2-api"
KID = "test-issuer-2026"
UNKNOWN_KID = "test-issuer-unpublished"  # the rogue key's id: no JWKS anyone trusts lists it
UNTRUSTED_ISSUER = "https://untrusted-issuer.invalid"
OTHER_AUDIENCE = "another-api"
CLIENT_ID = "phase2-conformance-test-issuer"
LIFETIME = 300
# Far beyond any clock-skew leeway a deployment may allow (commonly up to five minutes).
SKEW_BEYOND_LEEWAY = 3600
JWKS_PATHS = ("/jwks.json", "/.well-known/jwks.json")
METADATA_PATHS = ("/.well-known/openid-configuration", "/.well-known/oauth-authorization-server")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_json(document: dict[str, Any]) -> str:
    return _b64url(json.dumps(document, separators=(",", ":")).encode("utf-8"))


Mint = Callable[["TestIssuer", str, str], str]
# Every kind of token the issuer mints, by the name `phase2-conformance token --kind` and replays use.
KINDS: dict[str, str] = {}


def _kind(name: str) -> Callable[[Mint], Mint]:
    """Register a minting method under `name`; what it mints is noted as `issuer:<name>` for step logs."""

    def register(method: Mint) -> Mint:
        @wraps(method)
        def minted(issuer: TestIssuer, tenant: str, scope: str) -> str:
            return note_token(method(issuer, tenant, scope), f"issuer:{name}")

        KINDS[name] = method.__name__
        return minted

    return register


def _load_private_key(path: Path) -> RSAPrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, RSAPrivateKey):
        raise ValueError(f"{path} is not an RSA private key")
    return key


class TestIssuer(LoopbackServer):
    """Serves the test issuer's JWKS over HTTP and mints valid and deliberately broken tokens."""

    __test__ = False  # not a pytest test class, despite its name

    thread_name = "test-issuer"

    def app(self) -> ASGIApp:
        return _app_for(self)

    def __init__(self, port: int = 0, host: str = "127.0.0.1", keys_dir: Path | None = None) -> None:
        keys = keys_dir or fixtures_dir() / "keys"
        self._key = _load_private_key(keys / "test-issuer-private.pem")
        self._rogue_key = _load_private_key(keys / "rogue-private.pem")
        super().__init__(port, host)

    @property
    def issuer(self) -> str:
        """The `iss` of every token it mints: its own URL, fixed once the port is."""
        return self.url

    @property
    def jwks_url(self) -> str:
        return self.issuer + JWKS_PATHS[0]

    @cached_property
    def jwks(self) -> dict[str, Any]:
        public: dict[str, Any] = RSAAlgorithm.to_jwk(self._key.public_key(), as_dict=True)
        # The same members as fixtures/keys/test-issuer-jwks.json; `use` and `key_ops` should not be mixed.
        jwk = {"kty": "RSA", "kid": KID, "use": "sig", "alg": "RS256", "n": public["n"], "e": public["e"]}
        return {"keys": [jwk]}

    @property
    def metadata(self) -> dict[str, Any]:
        """Discovery metadata, for gateways that find the JWKS from the issuer URL alone."""
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_url,
            "id_token_signing_alg_values_supported": ["RS256"],
        }

    @cached_property
    def public_key_pem(self) -> bytes:
        """The public key as SubjectPublicKeyInfo PEM: what an algorithm-confusion attack keys HMAC with."""
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    # --- tokens -------------------------------------------------------------------------------
    def claims(self, tenant: str, scope: str, **overrides: Any) -> dict[str, Any]:
        """Claims of a valid access token; `overrides` replace any of them."""
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": CLIENT_ID,
            "client_id": CLIENT_ID,
            "tenant": tenant,
            "scope": scope,
            "iat": now,
            "nbf": now,
            "exp": now + LIFETIME,
            "jti": str(uuid.uuid4()),
        }
        claims.update(overrides)
        return claims

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._key, algorithm="RS256", headers={"kid": KID})

    @_kind("issuer-valid")
    def valid(self, tenant: str, scope: str) -> str:
        """The control: a token every deployment trusting this issuer must accept."""
        return self._sign(self.claims(tenant, scope))

    def without_scope(self, tenant: str) -> str:
        """Valid in every respect, but granting no scope at all."""
        return note_token(self._sign(self.claims(tenant, "")), "issuer:without-scope")

    def mint(self, kind: str, tenant: str, scope: str) -> str:
        """A token of `kind` (a key of `KINDS`, or `without-scope`)."""
        if kind == "without-scope":
            return self.without_scope(tenant)
        minted: str = getattr(self, KINDS[kind])(tenant, scope)
        return minted

    @_kind("expired")
    def expired(self, tenant: str, scope: str) -> str:
        now = int(time.time())
        past = now - SKEW_BEYOND_LEEWAY
        return self._sign(self.claims(tenant, scope, iat=past - LIFETIME, nbf=past - LIFETIME, exp=past))

    @_kind("not-yet-valid")
    def not_yet_valid(self, tenant: str, scope: str) -> str:
        now = int(time.time())
        later = now + SKEW_BEYOND_LEEWAY
        return self._sign(self.claims(tenant, scope, nbf=later, exp=later + LIFETIME))

    @_kind("wrong-issuer")
    def wrong_issuer(self, tenant: str, scope: str) -> str:
        """Signed with the trusted key, but claiming an issuer nobody trusts."""
        return self._sign(self.claims(tenant, scope, iss=UNTRUSTED_ISSUER))

    @_kind("wrong-audience")
    def wrong_audience(self, tenant: str, scope: str) -> str:
        return self._sign(self.claims(tenant, scope, aud=OTHER_AUDIENCE))

    @_kind("alg-none")
    def alg_none(self, tenant: str, scope: str) -> str:
        """An unsigned JWS (RFC 7515 `alg: none`): header and claims, empty signature."""
        header = {"alg": "none", "typ": "JWT", "kid": KID}
        return f"{_b64url_json(header)}.{_b64url_json(self.claims(tenant, scope))}."

    @_kind("alg-confusion")
    def alg_confusion(self, tenant: str, scope: str) -> str:
        """HS256 keyed with the issuer's public key PEM (RFC 8725 §2.1).

        PyJWT refuses to use a PEM public key as an HMAC secret, which is the very protection
        under test, so the JWS is built by hand.
        """
        header = {"alg": "HS256", "typ": "JWT", "kid": KID}
        signing_input = f"{_b64url_json(header)}.{_b64url_json(self.claims(tenant, scope))}"
        signature = hmac.new(self.public_key_pem, signing_input.encode("ascii"), hashlib.sha256).digest()
        return f"{signing_input}.{_b64url(signature)}"

    @_kind("tampered")
    def tampered(self, tenant: str, scope: str) -> str:
        """A valid token whose claims were altered afterwards (a longer life), original signature kept."""
        claims = self.claims(tenant, scope)
        header, _, signature = self._sign(claims).split(".")
        claims["exp"] += 24 * 3600
        return f"{header}.{_b64url_json(claims)}.{signature}"

    @_kind("unknown-kid")
    def unknown_kid(self, tenant: str, scope: str) -> str:
        """Signed with a key this issuer never published, under a key id nobody lists."""
        claims = self.claims(tenant, scope)
        return jwt.encode(claims, self._rogue_key, algorithm="RS256", headers={"kid": UNKNOWN_KID})


def _app_for(issuer: TestIssuer) -> ASGIApp:
    async def keys(request: Request) -> Response:
        path = request.url.path
        if path in JWKS_PATHS:
            document, status = issuer.jwks, 200
        elif path in METADATA_PATHS:
            document, status = issuer.metadata, 200
        else:
            document, status = {"error": "not found"}, 404
        # Deployments may cache the keys; a run's keys never change, so a short hint is honest.
        return JSONResponse(document, status_code=status, headers={"Cache-Control": "max-age=60"})

    return Starlette(routes=[Route("/{path:path}", keys, methods=["GET"])])
