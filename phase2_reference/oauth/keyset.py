"""Verification keys by key id: the reference's own key and those of trusted extra issuers.

A trusted issuer's JWKS comes from a file (read once) or a URL (fetched on first need, cached,
and refetched at most every `REFETCH_INTERVAL` seconds when an unknown key id shows up, so a
flood of forged key ids cannot turn into a flood of fetches).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import jwt
from cryptography.hazmat.primitives import serialization

from phase2_reference.config import ConfigError, TrustedIssuer
from phase2_reference.oauth.keys import SigningKey

REFETCH_INTERVAL = 30.0
FETCH_TIMEOUT = 5.0

logger = logging.getLogger("phase2_reference.keyset")


@dataclass(frozen=True, slots=True)
class VerificationKey:
    issuer: str
    kid: str
    key: Any  # a cryptography public key object
    key_type: str  # RSA | EC

    def pem_variants(self) -> Iterator[bytes]:
        """Spellings of the public key an algorithm-confusion attacker might use as an HMAC secret."""
        spki = self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        yield spki
        yield spki.rstrip(b"\n")
        if self.key_type == "RSA":
            pkcs1 = self.key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.PKCS1)
            yield pkcs1
            yield pkcs1.rstrip(b"\n")


def parse_jwks(issuer: str, document: Any) -> dict[str, VerificationKey]:
    try:
        keyset = jwt.PyJWKSet.from_dict(document)
    except (jwt.PyJWKSetError, jwt.InvalidKeyError, TypeError, KeyError) as exc:
        raise ValueError(f"not a usable JWKS: {exc}") from exc
    keys: dict[str, VerificationKey] = {}
    for jwk in keyset.keys:
        if jwk.key_id and jwk.key_type in ("RSA", "EC"):
            keys[jwk.key_id] = VerificationKey(issuer, jwk.key_id, jwk.key, jwk.key_type)
    return keys


class TrustedIssuerKeys:
    def __init__(self, trusted: TrustedIssuer) -> None:
        self.issuer = trusted.issuer
        self.source = trusted.jwks_source
        self.is_url = trusted.is_url
        self.keys: dict[str, VerificationKey] = {}
        self._fetched_at: float | None = None
        # Requests arriving while a fetch is in flight wait for it: without this, a valid token
        # checked during the first fetch found no key (and no refetch allowed yet) and got a 401.
        self.fetching = asyncio.Lock()
        if not self.is_url:
            try:
                document = json.loads(Path(self.source).read_text(encoding="utf-8"))
                self.keys = parse_jwks(self.issuer, document)
            except (OSError, ValueError) as exc:
                raise ConfigError(f"--trust-issuer: cannot use JWKS file {self.source}: {exc}") from exc

    def may_refetch(self) -> bool:
        return self.is_url and (self._fetched_at is None or time.monotonic() - self._fetched_at > REFETCH_INTERVAL)

    async def refetch(self) -> None:
        self._fetched_at = time.monotonic()
        try:
            async with httpx.AsyncClient(timeout=FETCH_TIMEOUT) as client:
                response = await client.get(self.source)
                response.raise_for_status()
                self.keys = parse_jwks(self.issuer, response.json())
        except (httpx.HTTPError, ValueError) as exc:
            logger.warning(
                "cannot fetch the JWKS of a trusted issuer", extra={"issuer": self.issuer, "error": str(exc)}
            )


class KeySet:
    def __init__(self, own_issuer: str, signing_key: SigningKey, trusted: tuple[TrustedIssuer, ...]) -> None:
        self.own_issuer = own_issuer
        self.own = VerificationKey(own_issuer, signing_key.kid, signing_key.public_key, "RSA")
        self.trusted = [TrustedIssuerKeys(entry) for entry in trusted]

    @property
    def issuers(self) -> frozenset[str]:
        return frozenset([self.own_issuer, *(entry.issuer for entry in self.trusted)])

    def known(self) -> list[VerificationKey]:
        return [self.own, *(key for entry in self.trusted for key in entry.keys.values())]

    def _lookup(self, kid: str) -> VerificationKey | None:
        if kid == self.own.kid:
            return self.own
        for entry in self.trusted:
            if kid in entry.keys:
                return entry.keys[kid]
        return None

    async def find(self, kid: str) -> VerificationKey | None:
        found = self._lookup(kid)
        if found is None:
            for entry in self.trusted:
                if not entry.is_url:
                    continue
                async with entry.fetching:
                    if entry.may_refetch():
                        await entry.refetch()
            found = self._lookup(kid)
        return found
