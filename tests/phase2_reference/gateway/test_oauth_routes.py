"""The OAuth 2.0 provider endpoints outside /v2: token endpoint, RFC 8414 metadata, JWKS."""

from __future__ import annotations

import base64

from tests.phase2_reference.conftest import CLIENTS, Api


def basic(client_id: str, secret: str) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def test_metadata_names_issuer_token_endpoint_and_jwks(api: Api) -> None:
    origin = api.server.origin
    metadata = api.http.get(origin + "/.well-known/oauth-authorization-server").json()
    assert metadata["issuer"] == origin
    assert metadata["token_endpoint"] == origin + "/oauth2/token"
    assert metadata["jwks_uri"] == origin + "/.well-known/jwks.json"
    assert metadata["grant_types_supported"] == ["client_credentials", "refresh_token"]
    assert metadata["token_endpoint_auth_methods_supported"] == ["client_secret_basic", "client_secret_post"]
    assert "worlds:write" in metadata["scopes_supported"]
    keys = api.http.get(metadata["jwks_uri"]).json()["keys"]
    assert [key["kty"] for key in keys] == ["RSA"]


def test_client_credentials_with_basic_and_post_auth(api: Api) -> None:
    endpoint = api.server.origin + "/oauth2/token"
    client_id, secret = CLIENTS["a"]
    with_basic = api.http.post(
        endpoint,
        data={"grant_type": "client_credentials", "scope": "worlds:read"},
        headers={"Authorization": basic(client_id, secret)},
    )
    assert with_basic.status_code == 200
    assert with_basic.headers["cache-control"] == "no-store"
    assert with_basic.headers["pragma"] == "no-cache"
    assert with_basic.json()["scope"] == "worlds:read"
    with_post = api.http.post(
        endpoint, data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret}
    )
    assert with_post.status_code == 200
    token = with_post.json()["access_token"]
    assert api.http.get("/worlds", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    refreshed = api.http.post(
        endpoint,
        data={"grant_type": "refresh_token", "refresh_token": with_post.json()["refresh_token"]},
        headers={"Authorization": basic(client_id, secret)},
    )
    assert refreshed.status_code == 200


def test_token_endpoint_errors(api: Api) -> None:
    endpoint = api.server.origin + "/oauth2/token"
    client_id, secret = CLIENTS["a"]
    wrong = api.http.post(
        endpoint, data={"grant_type": "client_credentials"}, headers={"Authorization": basic(client_id, "x")}
    )
    assert wrong.status_code == 401
    assert wrong.json()["error"] == "invalid_client"
    assert wrong.headers["www-authenticate"] == 'Basic realm="phase2"'
    both = api.http.post(
        endpoint,
        data={"grant_type": "client_credentials", "client_id": client_id},
        headers={"Authorization": basic(client_id, secret)},
    )
    assert both.json()["error"] == "invalid_request"
    assert api.http.post(endpoint, data={"grant_type": "password"}).json()["error"] == "unsupported_grant_type"
    assert api.http.post(endpoint, data={}).json()["error"] == "invalid_request"
    assert api.http.post(endpoint, json={"grant_type": "client_credentials"}).json()["error"] == "invalid_request"
    unknown = api.http.post(endpoint, data={"grant_type": "refresh_token", "refresh_token": "rt_nope"})
    assert unknown.status_code == 400
    assert unknown.json()["error"] == "invalid_grant"
    scope = api.http.post(
        endpoint,
        data={"grant_type": "client_credentials", "scope": "admin"},
        headers={"Authorization": basic(client_id, secret)},
    )
    assert scope.json()["error"] == "invalid_scope"
    assert api.http.get(endpoint).status_code == 405
    assert api.http.get(endpoint).headers["allow"] == "POST"
