"""Issuing tokens: RS256 access tokens, rotating refresh tokens, and revocation.

The JSON login, the JSON refresh and the RFC 6749 form endpoint all go through `TokenService`.
Refresh tokens are opaque random strings stored only as SHA-256 hashes, grouped in families:
every use consumes the token and issues its successor; presenting a consumed token again
revokes the whole family (RFC 9700 §4.14.2). Revoked access-token ids are kept in SQLite and
mirrored in memory, so checking revocation on every request costs no query.
"""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass

import jwt

from phase2_reference.oauth.clients import Client
from phase2_reference.oauth.keys import SigningKey
from phase2_reference.store.sqlite import Store, Transaction
from phase2_reference.testing.faults import ActiveFaults

AUDIENCE = "phase2-api"
REFRESH_TTL = 30 * 24 * 3600


class GrantError(Exception):
    """An RFC 6749 §5.2 error: `error` is the code, the message a safe description."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


@dataclass(frozen=True, slots=True)
class IssuedTokens:
    access_token: str
    refresh_token: str
    expires_in: int
    scope: str

    def as_json(self) -> dict[str, object]:
        return {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "refresh_token": self.refresh_token,
            "scope": self.scope,
        }


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def resolve_scope(client: Client, requested: str | None) -> str:
    """The granted scope string: what was asked for (all the client holds when nothing was)."""
    wanted = (requested or "").split()
    if not wanted:
        return " ".join(sorted(client.scopes))
    beyond = [scope for scope in wanted if scope not in client.scopes]
    if beyond:
        raise GrantError("invalid_scope", "The requested scope exceeds what this client may hold.")
    return " ".join(dict.fromkeys(wanted))


class TokenService:
    def __init__(self, store: Store, key: SigningKey, issuer: str, ttl: int, faults: ActiveFaults) -> None:
        self.store = store
        self.key = key
        self.issuer = issuer
        self.ttl = ttl
        self.faults = faults
        self.revoked_jtis: set[str] = {
            row[0]
            for row in store.connection.execute(
                "SELECT jti FROM revoked_access_tokens WHERE expires_at > ?", (time.time() - 60,)
            )
        }

    def _access_token(self, client_id: str, tenant: str, scope: str) -> str:
        issued_at = int(time.time())
        claims = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": client_id,
            "client_id": client_id,
            "tenant": tenant,
            "scope": scope,
            "iat": issued_at,
            "nbf": issued_at,
            "exp": issued_at + self.ttl,
            "jti": str(uuid.uuid4()),
        }
        return jwt.encode(claims, self.key.private_key, algorithm="RS256", headers={"kid": self.key.kid})

    def _new_refresh_token(self, tx: Transaction, family: str, client_id: str, tenant: str, scope: str) -> str:
        token = "rt_" + secrets.token_urlsafe(32)
        tx.execute(
            "INSERT INTO refresh_tokens (token_hash, family, client_id, tenant, scope, expires_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_hash(token), family, client_id, tenant, scope, time.time() + REFRESH_TTL),
        )
        return token

    def login(self, client: Client, requested_scope: str | None) -> IssuedTokens:
        scope = resolve_scope(client, requested_scope)
        with self.store.transaction() as tx:
            refresh = self._new_refresh_token(tx, str(uuid.uuid4()), client.client_id, client.tenant, scope)
        return IssuedTokens(self._access_token(client.client_id, client.tenant, scope), refresh, self.ttl, scope)

    def refresh(self, refresh_token: str, client_id: str | None = None) -> IssuedTokens:
        """Consume `refresh_token` and issue its successor.

        `client_id` is the authenticated client, when there is one; the token must be its own.
        """
        token_hash = _hash(refresh_token)
        with self.store.transaction() as tx:
            row = tx.execute(
                "SELECT family, client_id, tenant, scope, expires_at, used FROM refresh_tokens WHERE token_hash = ?",
                (token_hash,),
            ).fetchone()
            if row is None:
                raise GrantError("invalid_grant", "The refresh token is invalid, expired or already used.")
            family, owner, tenant, scope, expires_at, used = row
            revoked = tx.execute("SELECT 1 FROM revoked_families WHERE family = ?", (family,)).fetchone()
            if used and not revoked:
                # Reuse of a consumed token: someone holds a copy, so the whole family goes.
                tx.execute("INSERT OR IGNORE INTO revoked_families (family) VALUES (?)", (family,))
            if used or revoked or expires_at < time.time() or (client_id is not None and client_id != owner):
                failure = GrantError("invalid_grant", "The refresh token is invalid, expired or already used.")
            else:
                failure = None
                if self.faults.active("refresh-not-rotated"):
                    successor = refresh_token
                else:
                    tx.execute("UPDATE refresh_tokens SET used = 1 WHERE token_hash = ?", (token_hash,))
                    successor = self._new_refresh_token(tx, family, owner, tenant, scope)
        # The family revocation above must commit even though the answer is an error.
        if failure is not None:
            raise failure
        return IssuedTokens(self._access_token(owner, tenant, scope), successor, self.ttl, scope)

    def logout(self, jti: str, expires_at: float, refresh_token: str | None, client_id: str) -> None:
        if self.faults.active("logout-noop"):
            return
        with self.store.transaction() as tx:
            tx.execute(
                "INSERT OR IGNORE INTO revoked_access_tokens (jti, expires_at) VALUES (?, ?)",
                (jti, expires_at),
            )
            if refresh_token is not None:
                row = tx.execute(
                    "SELECT family, client_id FROM refresh_tokens WHERE token_hash = ?",
                    (_hash(refresh_token),),
                ).fetchone()
                # RFC 7009 §2.2: a token of another client (or an unknown one) is ignored, not an error.
                if row is not None and row[1] == client_id:
                    tx.execute("INSERT OR IGNORE INTO revoked_families (family) VALUES (?)", (row[0],))
        self.revoked_jtis.add(jti)

    def is_revoked(self, jti: str) -> bool:
        return jti in self.revoked_jtis
