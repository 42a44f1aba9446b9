"""Handlers of the auth tag: JSON login, refresh-token rotation and logout."""

from __future__ import annotations

from phase2_reference.gateway.handlers.registry import operation
from phase2_reference.gateway.http import Call, Reply
from phase2_reference.gateway.state import AppState
from phase2_reference.oauth.tokens import GrantError
from phase2_reference.shared.jsonutil import dumps
from phase2_reference.shared.problems import ProblemError, oauth_error

BASIC_CHALLENGE = ("www-authenticate", 'Basic realm="phase2"')


def invalid_client(state: AppState) -> ProblemError:
    if state.faults.active("invalid-client-400"):
        return oauth_error(400, "invalid_client", "Client authentication failed.")
    return oauth_error(401, "invalid_client", "Client authentication failed.", headers=[BASIC_CHALLENGE])


@operation("login")
async def login(state: AppState, call: Call) -> Reply:
    client = state.clients.authenticate(call.body["client_id"], call.body["client_secret"])
    if client is None:
        raise invalid_client(state)
    try:
        issued = state.tokens.login(client, call.body.get("scope"))
    except GrantError as exc:
        raise oauth_error(400, exc.error, exc.description) from None
    return Reply(200, dumps(issued.as_json()))


@operation("refreshToken")
async def refresh_token(state: AppState, call: Call) -> Reply:
    try:
        issued = state.tokens.refresh(call.body["refresh_token"])
    except GrantError as exc:
        raise oauth_error(400, exc.error, exc.description) from None
    return Reply(200, dumps(issued.as_json()))


@operation("logout")
async def logout(state: AppState, call: Call) -> Reply:
    principal = call.principal
    assert principal is not None
    refresh = call.body.get("refresh_token") if isinstance(call.body, dict) else None
    state.tokens.logout(principal.jti, principal.expires_at, refresh, principal.client_id)
    return Reply(204, content_type=None)
