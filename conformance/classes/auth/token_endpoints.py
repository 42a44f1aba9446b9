"""Scenario checks of the auth class on the token endpoints: login and refresh answers, invalid
clients, refresh-token rotation, logout revoking its token, and the provider's RFC 8414 metadata
(P2-AUTH-013..018).
"""

from __future__ import annotations

import secrets
from urllib.parse import urlsplit, urlunsplit

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import check
from conformance.classes.auth.auth_probes import (
    CONTROL_OPERATION,
    refusal_facts,
    refusal_problem,
    send_probe,
)
from conformance.classes.protocol.protocol_responses import response_schema_errors
from conformance.client.observed import ObservedResponse, from_httpx

METADATA_PATH = "/.well-known/oauth-authorization-server"


def _login(ctx: ScenarioContext, client_id: str | None = None, secret: str | None = None) -> ObservedResponse:
    identity = ctx.settings.primary
    body = {
        "grant_type": "client_credentials",
        "client_id": client_id or identity.client_id,
        "client_secret": secret or identity.client_secret.reveal(),
    }
    return _registered(ctx, ctx.api.call("login", json=body))


def _refresh(ctx: ScenarioContext, refresh_token: str) -> ObservedResponse:
    body = {"grant_type": "refresh_token", "refresh_token": refresh_token}
    return _registered(ctx, ctx.api.call("refreshToken", json=body))


def _registered(ctx: ScenarioContext, response: ObservedResponse) -> ObservedResponse:
    """Tokens the suite obtains itself are masked in every report, as the TokenManager's are."""
    document = response.json_or_none()
    if isinstance(document, dict):
        for name in ("access_token", "refresh_token"):
            if isinstance(document.get(name), str):
                ctx.recorder.redactor.register(document[name])
    return response


def _token(response: ObservedResponse, name: str) -> str | None:
    document = response.json_or_none()
    value = document.get(name) if isinstance(document, dict) else None
    return value if isinstance(value, str) and value else None


def _login_tokens(ctx: ScenarioContext) -> tuple[ObservedResponse, str, str]:
    response = ctx.require(_login(ctx), {200}, "log in with the primary client")
    access_token, refresh_token = _token(response, "access_token"), _token(response, "refresh_token")
    if access_token is None or refresh_token is None:
        ctx.blocked("login answered without an access_token and a refresh_token (see P2-AUTH-013)")
    return response, access_token, refresh_token


def _no_store(response: ObservedResponse) -> bool:
    directives = {
        part.split("=", 1)[0].strip().lower() for part in response.headers.get("cache-control", "").split(",")
    }
    return "no-store" in directives


@check("P2-AUTH-013", "P2-AUTH-014", kind="scenario")
def check_token_responses(ctx: ScenarioContext) -> None:
    """Token responses hold the RFC 6749 §5.1 fields, and every token response is no-store."""
    issued: list[ObservedResponse] = []
    login = _login(ctx)
    issued.append(login)
    refresh_token = _token(login, "refresh_token")
    if login.status == 200 and refresh_token is not None:
        issued.append(_refresh(ctx, refresh_token))
    for response in issued:
        if response.status != 200:
            ctx.fail(
                "P2-AUTH-013",
                "Token endpoint did not issue tokens",
                f"{response.path} answered {response.status}",
                response,
            )
            continue
        errors = response_schema_errors(ctx.contract, response)
        problems = errors if errors is not None else ["the body is not a JSON token response"]
        ctx.check(
            "P2-AUTH-013",
            not problems,
            "Token response lacks RFC 6749 fields",
            "; ".join(problems[:5]),
            response,
        )
    refused = [_login(ctx, client_id=f"p2c-unknown-{secrets.token_hex(4)}", secret="p2c-wrong-secret")]
    if refresh_token is not None:
        refused.append(_refresh(ctx, refresh_token))  # consumed by the refresh above
    for response in (*issued, *refused):
        ctx.check(
            "P2-AUTH-014",
            _no_store(response),
            "Token response may be cached",
            f"{response.status} from {response.path} has Cache-Control "
            f"{response.headers.get('cache-control', '(absent)')!r}",
            response,
        )


@check("P2-AUTH-015", kind="scenario")
def check_invalid_client(ctx: ScenarioContext) -> None:
    """Unknown client credentials and a wrong secret are refused with 401 invalid_client."""
    attempts = (
        _login(ctx, client_id=f"p2c-unknown-{secrets.token_hex(4)}", secret="p2c-wrong-secret"),
        _login(ctx, secret=f"p2c-wrong-secret-{secrets.token_hex(4)}"),
    )
    for response in attempts:
        document = response.json_or_none()
        error = document.get("error") if isinstance(document, dict) else None
        ctx.check(
            "P2-AUTH-015",
            response.status == 401 and error == "invalid_client",
            "Unknown client credentials are not refused as invalid_client",
            f"answered {response.status} with error={error!r}",
            response,
        )


@check("P2-AUTH-016", kind="scenario", exclusive=True)
def check_refresh_rotation(ctx: ScenarioContext) -> None:
    """Refreshing rotates the refresh token, and the used one is refused with 400 invalid_grant."""
    _, _, first = _login_tokens(ctx)
    rotated = ctx.require(_refresh(ctx, first), {200}, "refresh the login's refresh token")
    second = _token(rotated, "refresh_token")
    ctx.check(
        "P2-AUTH-016",
        second is not None and second != first,
        "Refresh token not rotated",
        "the refresh answer holds no refresh_token" if second is None else "the same refresh token came back",
        rotated,
    )
    reused = _refresh(ctx, first)
    problem = refusal_problem(reused, 400, "invalid_grant")
    ctx.check(
        "P2-AUTH-016",
        problem is None,
        "A used refresh token is not refused",
        problem or "",
        reused,
        **refusal_facts(reused, 400, "invalid_grant"),
    )


@check("P2-AUTH-017", kind="scenario", exclusive=True)
def check_logout_revokes(ctx: ScenarioContext) -> None:
    """After logout the revoked access token is refused with 401 invalid_token."""
    _, access_token, _ = _login_tokens(ctx)
    control = ctx.contract.operation(CONTROL_OPERATION)
    ctx.require(send_probe(ctx, control, token=access_token), {200}, "use the fresh access token")
    logout = ctx.api.call("logout", token=access_token)
    if logout.status != 204:
        ctx.fail("P2-AUTH-017", "Logout did not answer 204", f"got {logout.status}", logout)
        return
    after = send_probe(ctx, control, token=access_token)
    problem = refusal_problem(after, 401, "invalid_token")
    ctx.check(
        "P2-AUTH-017",
        problem is None,
        "A logged-out access token is still accepted",
        problem or "",
        after,
        **refusal_facts(after, 401, "invalid_token"),
    )


def metadata_urls(issuer: str) -> list[str]:
    """Where RFC 8414 metadata of `issuer` lives: the well-known path goes between host and path
    (§3.1); the appended form many providers also serve comes second, for an issuer with a path."""
    parts = urlsplit(issuer.rstrip("/"))
    inserted = urlunsplit((parts.scheme, parts.netloc, METADATA_PATH + parts.path, "", ""))
    appended = issuer.rstrip("/") + METADATA_PATH
    return [inserted] if inserted == appended else [inserted, appended]


@check("P2-AUTH-018", kind="scenario")
def check_provider_metadata(ctx: ScenarioContext) -> None:
    """The provider publishes RFC 8414 metadata naming its issuer, token endpoint and JWKS."""
    provider = ctx.api.tokens.provider.rstrip("/")
    for url in metadata_urls(provider):
        response = from_httpx(ctx.api.client.get(url, headers={"Accept": "application/json"}), None)
        document = response.json_or_none() if response.status == 200 else None
        if isinstance(document, dict):
            break
    else:
        ctx.fail("P2-AUTH-018", "No RFC 8414 metadata", f"{response.url} answered {response.status}", response)
        return
    problems = []
    # RFC 8414 §3.3 wants the issuer identical; a trailing slash is how providers commonly differ.
    if str(document.get("issuer", "")).rstrip("/") != provider:
        problems.append(f"issuer is {document.get('issuer')!r}, not the provider {provider!r} (RFC 8414 §3.3)")
    for member in ("token_endpoint", "jwks_uri"):
        if not str(document.get(member, "")).startswith(("https://", "http://")):
            problems.append(f"{member} is {document.get(member)!r}, not an absolute URL")
    if not problems:
        jwks = from_httpx(ctx.api.client.get(str(document["jwks_uri"])), None)
        keys = jwks.json_or_none()
        if jwks.status != 200 or not isinstance(keys, dict) or not keys.get("keys"):
            problems.append(f"jwks_uri answered {jwks.status} without a non-empty `keys` set")
    ctx.check("P2-AUTH-018", not problems, "Provider metadata is incomplete", "; ".join(problems), response)
