"""Access-token validation for every protected operation.

Checks, in order: a JWT at all; `alg` in {RS256, ES256}; a key id some trusted issuer publishes;
the signature; `iss` is the issuer owning that key; `aud` is phase2-api; a `tenant` claim. Those
results depend only on the token string, so they are cached by it. Expiry, not-before and
revocation depend on the clock and on logouts, so they are checked on every request.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import time
from dataclasses import dataclass
from typing import Any

import jwt

from phase2_reference.oauth.keyset import KeySet, VerificationKey
from phase2_reference.oauth.tokens import AUDIENCE, TokenService
from phase2_reference.testing.faults import ActiveFaults

ALLOWED_ALGORITHMS = ("RS256", "ES256")
LEEWAY_SECONDS = 10
CACHE_SIZE = 8192


class InvalidToken(Exception):
    """The token is refused; the message is a safe, quote-free description for the challenge."""


@dataclass(frozen=True, slots=True)
class Principal:
    client_id: str
    tenant: str
    scopes: frozenset[str]
    jti: str
    expires_at: float
    not_before: float | None


def _b64url_decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class TokenVerifier:
    def __init__(self, keyset: KeySet, tokens: TokenService, faults: ActiveFaults) -> None:
        self.keyset = keyset
        self.tokens = tokens
        self.faults = faults
        self._cache: dict[str, Principal] = {}

    async def verify(self, token: str) -> Principal:
        principal = self._cache.get(token)
        if principal is None:
            principal = await self._verify_uncached(token)
            if len(self._cache) >= CACHE_SIZE:
                self._cache.clear()
            self._cache[token] = principal
        now = time.time()
        if principal.expires_at + LEEWAY_SECONDS < now and not self.faults.active("accept-expired"):
            raise InvalidToken("The access token expired.")
        if (
            principal.not_before is not None
            and principal.not_before - LEEWAY_SECONDS > now
            and not self.faults.active("accept-nbf-future")
        ):
            raise InvalidToken("The access token is not valid yet.")
        if self.tokens.is_revoked(principal.jti):
            raise InvalidToken("The access token was revoked.")
        return principal

    async def _verify_uncached(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise InvalidToken("The access token is not a JWT.") from exc
        algorithm = header.get("alg")
        kid = header.get("kid")
        key: VerificationKey | None = None
        if isinstance(algorithm, str) and algorithm.lower() == "none" and self.faults.active("accept-alg-none"):
            claims = self._unverified_claims(token)
        elif algorithm == "HS256" and self.faults.active("alg-confusion"):
            key = self._hmac_with_public_key(token)
            claims = self._unverified_claims(token)
        elif algorithm not in ALLOWED_ALGORITHMS:
            raise InvalidToken("The token's signing algorithm is not accepted.")
        else:
            key = await self.keyset.find(kid) if isinstance(kid, str) else None
            if key is None:
                if not self.faults.active("accept-unknown-kid"):
                    raise InvalidToken("The token's key id is not published by a trusted issuer.")
                claims = self._unverified_claims(token)
            elif self.faults.active("skip-signature"):
                claims = self._unverified_claims(token)
            else:
                claims = self._verified_claims(token, key, str(algorithm))
        return self._check_claims(token, claims, key)

    @staticmethod
    def _unverified_claims(token: str) -> dict[str, Any]:
        try:
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as exc:
            raise InvalidToken("The access token is not a JWT.") from exc
        return dict(claims)

    @staticmethod
    def _verified_claims(token: str, key: VerificationKey, algorithm: str) -> dict[str, Any]:
        if (algorithm == "RS256") != (key.key_type == "RSA"):
            raise InvalidToken("The token's algorithm does not match its key.")
        try:
            claims = jwt.decode(
                token,
                key.key,
                algorithms=[algorithm],
                options={
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise InvalidToken("The token signature is invalid.") from exc
        except jwt.PyJWTError as exc:
            raise InvalidToken("The access token is malformed.") from exc
        return dict(claims)

    def _hmac_with_public_key(self, token: str) -> VerificationKey:
        """The fault alg-confusion: accept HS256 keyed with any trusted public key's PEM text."""
        signing_input, _, signature_segment = token.rpartition(".")
        try:
            signature = _b64url_decode(signature_segment)
        except (binascii.Error, ValueError) as exc:
            raise InvalidToken("The access token is malformed.") from exc
        for key in self.keyset.known():
            for secret in key.pem_variants():
                expected = hmac.new(secret, signing_input.encode("ascii", "replace"), hashlib.sha256).digest()
                if hmac.compare_digest(expected, signature):
                    return key
        raise InvalidToken("The token signature is invalid.")

    def _check_claims(self, token: str, claims: dict[str, Any], key: VerificationKey | None) -> Principal:
        issuer = claims.get("iss")
        if not self.faults.active("accept-any-issuer"):
            # A key vouches only for its own issuer's tokens.
            trusted = {key.issuer} if key is not None else self.keyset.issuers
            if not isinstance(issuer, str) or issuer not in trusted:
                raise InvalidToken("The token's issuer is not trusted.")
        audience = claims.get("aud")
        if not self.faults.active("accept-any-audience"):
            audiences = audience if isinstance(audience, list) else [audience]
            if AUDIENCE not in audiences:
                raise InvalidToken("The token is meant for another audience.")
        expires_at = claims.get("exp")
        if not isinstance(expires_at, int | float) or isinstance(expires_at, bool):
            raise InvalidToken("The token has no valid exp claim.")
        not_before = claims.get("nbf")
        if not_before is not None and (not isinstance(not_before, int | float) or isinstance(not_before, bool)):
            raise InvalidToken("The token has an invalid nbf claim.")
        tenant = claims.get("tenant")
        if not isinstance(tenant, str) or not tenant:
            raise InvalidToken("The token has no tenant claim.")
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise InvalidToken("The token's scope claim is not a string.")
        client_id = claims.get("client_id", claims.get("sub"))
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            # Tokens without an id can still be revoked: by their own hash.
            jti = hashlib.sha256(token.encode("utf-8")).hexdigest()
        return Principal(
            client_id=client_id if isinstance(client_id, str) else "",
            tenant=tenant,
            scopes=frozenset(scope.split()),
            jti=jti,
            expires_at=float(expires_at),
            not_before=float(not_before) if not_before is not None else None,
        )
