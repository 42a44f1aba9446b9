"""Login, refresh-token rotation and logout over HTTP."""

from __future__ import annotations

import jwt

from tests.phase2_reference.conftest import CLIENTS, Api


def test_login_issues_tokens_that_are_never_cached(api: Api) -> None:
    response = api.login("a", scope="worlds:read worlds:write")
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["pragma"] == "no-cache"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 900
    assert body["scope"] == "worlds:read worlds:write"
    assert body["refresh_token"].startswith("rt_")
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    header = jwt.get_unverified_header(body["access_token"])
    assert header["alg"] == "RS256"
    assert header["kid"]
    assert claims["iss"] == api.server.origin
    assert claims["aud"] == "phase2-api"
    assert claims["sub"] == claims["client_id"] == "tenant-a-admin"
    assert claims["tenant"] == "tenant-a"
    assert claims["exp"] - claims["iat"] == 900
    assert claims["nbf"] == claims["iat"]
    assert claims["jti"]


def test_login_without_scope_grants_everything_the_client_holds(api: Api) -> None:
    scope = api.login("reader").json()["scope"].split()
    assert sorted(scope) == ["engine:read", "events:read", "runtimes:read", "worlds:read"]


def test_login_with_a_wrong_secret_is_invalid_client(api: Api) -> None:
    response = api.http.post("/auth/login", json={"client_id": "tenant-a-admin", "client_secret": "wrong"})
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="phase2"'
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["error"] == "invalid_client"
    unknown = api.http.post("/auth/login", json={"client_id": "nobody", "client_secret": "x"})
    assert unknown.status_code == 401
    assert unknown.json()["error"] == "invalid_client"


def test_login_asking_beyond_the_clients_scopes_is_invalid_scope(api: Api) -> None:
    response = api.login("reader", scope="worlds:read worlds:write")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"


def test_login_body_errors_are_invalid_request(api: Api) -> None:
    client_id, secret = CLIENTS["a"]
    for body in (
        {"client_id": client_id},
        {"client_id": client_id, "client_secret": secret, "extra": 1},
        {"client_id": client_id, "client_secret": secret, "grant_type": "password"},
    ):
        response = api.http.post("/auth/login", json=body)
        assert response.status_code == 400, body
        assert response.json()["error"] == "invalid_request"
        assert response.headers["cache-control"] == "no-store"
    malformed = api.http.post("/auth/login", content=b"{", headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert malformed.json()["error"] == "invalid_request"


def test_refresh_rotates_and_a_reused_token_revokes_the_family(api: Api) -> None:
    first = api.login("a").json()
    second = api.http.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    assert second.headers["cache-control"] == "no-store"
    rotated = second.json()
    assert rotated["refresh_token"] != first["refresh_token"]
    assert rotated["scope"] == first["scope"]
    reused = api.http.post("/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    # The reuse revoked the whole family, the successor included.
    successor = api.http.post(
        "/auth/refresh", json={"grant_type": "refresh_token", "refresh_token": rotated["refresh_token"]}
    )
    assert successor.status_code == 400
    assert successor.json()["error"] == "invalid_grant"


def test_refresh_with_an_unknown_token_is_invalid_grant(api: Api) -> None:
    response = api.http.post("/auth/refresh", json={"refresh_token": "rt_never-issued"})
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_logout_revokes_the_access_token_and_the_refresh_token(api: Api) -> None:
    tokens = api.login("a").json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert api.http.get("/worlds", headers=bearer).status_code == 200
    response = api.http.post("/auth/logout", headers=bearer, json={"refresh_token": tokens["refresh_token"]})
    assert response.status_code == 204
    assert response.content == b""
    after = api.http.get("/worlds", headers=bearer)
    assert after.status_code == 401
    assert after.json()["error"] == "invalid_token"
    assert 'error="invalid_token"' in after.headers["www-authenticate"]
    refreshed = api.http.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status_code == 400
    assert refreshed.json()["error"] == "invalid_grant"


def test_logout_without_a_body_and_with_a_bad_body(api: Api) -> None:
    tokens = api.login("a").json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    bad = api.http.post("/auth/logout", headers=bearer, json={"refresh_token": 5})
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["pointer"] == "/refresh_token"
    # A refused logout revoked nothing.
    assert api.http.get("/engine", headers=bearer).status_code == 200
    assert api.http.post("/auth/logout", headers=bearer).status_code == 204
    assert api.http.get("/engine", headers=bearer).status_code == 401


def test_logout_needs_a_token(api: Api) -> None:
    response = api.http.post("/auth/logout")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="phase2"'
