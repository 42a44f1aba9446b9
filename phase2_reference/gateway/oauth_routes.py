"""The reference as its own OAuth 2.0 provider: RFC 6749 token endpoint, RFC 8414 metadata, JWKS.

These routes sit outside the contract's /v2 server, where OAuth clients expect them. Errors
here are RFC 6749 §5.2 JSON (`error`, `error_description`), not problem documents.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from urllib.parse import parse_qsl, unquote_plus

from phase2_reference.gateway.http import Reply
from phase2_reference.gateway.state import AppState
from phase2_reference.oauth.tokens import GrantError
from phase2_reference.shared.jsonutil import dumps
from phase2_reference.store.sqlite import StoreUnavailable

NO_STORE = [("cache-control", "no-store"), ("pragma", "no-cache")]
FORM = "application/x-www-form-urlencoded"


def _error(status: int, error: str, description: str, *extra: tuple[str, str]) -> Reply:
    body = dumps({"error": error, "error_description": description})
    return Reply(status, body, headers=[*NO_STORE, *extra])


def _basic_credentials(headers: Mapping[str, str]) -> tuple[str, str] | None:
    authorization = headers.get("authorization", "")
    scheme, _, encoded = authorization.strip().partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return ("", "")
    client_id, _, secret = decoded.partition(":")
    # RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote_plus(client_id), unquote_plus(secret)


async def token_endpoint(state: AppState, headers: Mapping[str, str], body: bytes) -> Reply:
    media_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if media_type != FORM:
        return _error(400, "invalid_request", f"The token endpoint accepts {FORM}.")
    try:
        form = dict(parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False))
    except (UnicodeDecodeError, ValueError):
        return _error(400, "invalid_request", "The form body is malformed.")
    basic = _basic_credentials(headers)
    if basic is not None and ("client_id" in form or "client_secret" in form):
        return _error(400, "invalid_request", "Use one client authentication method, not two.")
    client_id, secret = basic if basic is not None else (form.get("client_id"), form.get("client_secret"))
    grant_type = form.get("grant_type")
    challenge = ("www-authenticate", 'Basic realm="phase2"')
    try:
        if grant_type == "client_credentials":
            client = state.clients.authenticate(client_id or "", secret or "") if client_id and secret else None
            if client is None:
                return _error(401, "invalid_client", "Client authentication failed.", challenge)
            issued = state.tokens.login(client, form.get("scope"))
        elif grant_type == "refresh_token":
            if client_id is not None and state.clients.authenticate(client_id, secret or "") is None:
                return _error(401, "invalid_client", "Client authentication failed.", challenge)
            refresh_token = form.get("refresh_token")
            if not refresh_token:
                return _error(400, "invalid_request", "refresh_token is required.")
            issued = state.tokens.refresh(refresh_token, client_id)
        elif grant_type is None:
            return _error(400, "invalid_request", "grant_type is required.")
        else:
            return _error(400, "unsupported_grant_type", "Only client_credentials and refresh_token are supported.")
    except GrantError as exc:
        return _error(400, exc.error, exc.description)
    except StoreUnavailable:
        return _error(503, "temporarily_unavailable", "The data store is unavailable.", ("retry-after", "1"))
    return Reply(200, dumps(issued.as_json()), headers=list(NO_STORE))


def jwks(state: AppState) -> Reply:
    return Reply(200, dumps({"keys": [state.signing_key.public_jwk]}), headers=[("cache-control", "max-age=300")])


def metadata(state: AppState) -> Reply:
    issuer = state.issuer
    document = {
        "issuer": issuer,
        "token_endpoint": f"{issuer}/oauth2/token",
        "jwks_uri": f"{issuer}/.well-known/jwks.json",
        "grant_types_supported": ["client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": list(state.contract.scopes),
        "response_types_supported": [],
    }
    return Reply(200, dumps(document))
