"""The token service: scopes, rotation, reuse detection, logout and persistence of revocations."""

from __future__ import annotations

from pathlib import Path

import jwt
import pytest

from phase2_reference.oauth.clients import Client
from phase2_reference.oauth.keys import SigningKey
from phase2_reference.oauth.tokens import GrantError, TokenService, resolve_scope
from phase2_reference.store.sqlite import Store
from phase2_reference.testing.faults import ActiveFaults

CLIENT = Client("c", b"", "tenant-x", frozenset({"worlds:read", "worlds:write"}))


def service(store: Store | None = None, faults: ActiveFaults | None = None) -> TokenService:
    return TokenService(store or Store(None), SigningKey.generate(), "http://issuer", 60, faults or ActiveFaults())


def test_scope_resolution() -> None:
    assert resolve_scope(CLIENT, None) == "worlds:read worlds:write"
    assert resolve_scope(CLIENT, " worlds:read  worlds:read ") == "worlds:read"
    with pytest.raises(GrantError) as raised:
        resolve_scope(CLIENT, "worlds:read engine:read")
    assert raised.value.error == "invalid_scope"


def test_login_claims() -> None:
    tokens = service()
    issued = tokens.login(CLIENT, "worlds:read")
    claims = jwt.decode(issued.access_token, tokens.key.public_key, algorithms=["RS256"], audience="phase2-api")
    assert claims["iss"] == "http://issuer"
    assert claims["tenant"] == "tenant-x"
    assert claims["scope"] == "worlds:read"
    assert claims["exp"] - claims["iat"] == 60
    assert issued.as_json()["token_type"] == "Bearer"
    stored = tokens.store.connection.execute("SELECT token_hash FROM refresh_tokens").fetchall()
    assert stored
    assert all(issued.refresh_token not in row[0] for row in stored), "refresh tokens are stored hashed"


def test_rotation_reuse_and_client_binding() -> None:
    tokens = service()
    first = tokens.login(CLIENT, None)
    with pytest.raises(GrantError):
        tokens.refresh(first.refresh_token, client_id="someone-else")
    second = tokens.refresh(first.refresh_token, client_id="c")
    third = tokens.refresh(second.refresh_token)
    with pytest.raises(GrantError) as reused:
        tokens.refresh(first.refresh_token)
    assert reused.value.error == "invalid_grant"
    with pytest.raises(GrantError):
        tokens.refresh(third.refresh_token)


def test_logout_revokes_and_revocations_survive_a_restart(tmp_path: Path) -> None:
    tokens = service(Store(tmp_path))
    issued = tokens.login(CLIENT, None)
    tokens.logout("jti-1", 9_999_999_999, issued.refresh_token, "c")
    assert tokens.is_revoked("jti-1")
    with pytest.raises(GrantError):
        tokens.refresh(issued.refresh_token)
    tokens.store.close()
    restarted = service(Store(tmp_path))
    assert restarted.is_revoked("jti-1")


def test_logout_ignores_another_clients_refresh_token() -> None:
    tokens = service()
    theirs = tokens.login(CLIENT, None)
    tokens.logout("jti-2", 9_999_999_999, theirs.refresh_token, "not-c")
    assert tokens.refresh(theirs.refresh_token).scope == "worlds:read worlds:write"
