"""The auth class: bearer tokens, scopes, the token endpoints and isolation across tenants.

Refusal rules are tried on every protected operation the contract declares (flagged ones while
their flag is on), each called with a request that is valid in every other respect: path ids are
random (authentication comes before existence, so 401 and 403 come before 404), bodies are the
contract's own examples. Token edge cases are minted by the suite's test issuer; a control token
from it must be accepted first, or those rules are not applicable on this deployment.
"""

from __future__ import annotations

import json
import re
import secrets
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import jwt

from conformance.checks.context import ScenarioContext
from conformance.checks.protocol import response_schema_errors
from conformance.checks.registry import check
from conformance.classes.issuer import TestIssuer
from conformance.classes.paging import MAX_LIMIT, Page, parse_page, walk
from conformance.classes.sse import about, parse_event_stream
from conformance.contract.spec import Operation
from conformance.errors import AuthError
from conformance.target.api import NO_TOKEN
from conformance.target.exchange import ObservedResponse, from_httpx

# Query parameters that keep a probe short: one item per page, a stream that ends at once.
PROBE_QUERY = {"limit": 1, "max_events": 1, "wait": 0}
FALLBACK_TENANT = "phase2-conformance"  # when the primary's token carries no tenant claim
CONTROL_OPERATION = "listWorlds"
METADATA_PATH = "/.well-known/oauth-authorization-server"
MAX_PAGES = 200  # a list walk stops here; the run's time budget is the other bound
WALK_RESERVE = 10.0  # seconds of the scenario's budget a walk leaves for the checks after it
STATUS_POLL = 0.1
_AUTH_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


# --- reading refusals -------------------------------------------------------------------------


def challenge_scheme(response: ObservedResponse) -> str | None:
    """The auth scheme of the WWW-Authenticate challenge, lower-cased (None when absent)."""
    challenge = response.headers.get("www-authenticate", "").strip()
    return challenge.split(None, 1)[0].rstrip(",").lower() if challenge else None


def challenge_params(response: ObservedResponse) -> dict[str, str]:
    """The auth-params of the WWW-Authenticate challenge (`error`, `scope`, `realm`, ...)."""
    challenge = response.headers.get("www-authenticate", "").strip()
    parts = challenge.split(None, 1)
    if len(parts) < 2:
        return {}
    return {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _AUTH_PARAM.finditer(parts[1])
    }


def oauth_error(response: ObservedResponse) -> str | None:
    """The OAuth error code of a refusal: the Bearer challenge's `error`, else the problem's `error`."""
    from_challenge = challenge_params(response).get("error")
    if from_challenge is not None:
        return from_challenge
    document = response.json_or_none()
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, str) else None


def refusal_problem(response: ObservedResponse, status: int, error: str) -> str | None:
    """Why `response` is not a refusal with `status` and OAuth `error` (None when it is)."""
    if response.status != status:
        return f"{response.method} {response.path} answered {response.status}, not {status}"
    found = oauth_error(response)
    if found != error:
        return f"{response.method} {response.path} answered {status} with error={found!r}, not {error!r}"
    return None


# --- probing any operation --------------------------------------------------------------------


def enabled_protected(ctx: ScenarioContext) -> list[Operation]:
    """The protected operations the target serves: flagged ones only while their flag is on."""
    return [
        operation
        for operation in ctx.contract.protected_operations()
        if operation.feature_flag is None or operation.feature_flag in ctx.settings.feature_flags
    ]


def _resolved(raw: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        target: Any = raw
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@dataclass(frozen=True)
class Probe:
    """A request to one operation that is valid except, perhaps, for its credentials."""

    operation: Operation
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def probe_for(ctx: ScenarioContext, operation: Operation) -> Probe:
    """Random ids, the contract's example body (with a fresh name and world id), required headers."""
    raw = ctx.contract.raw
    definition = raw["paths"][operation.path][operation.method.lower()]
    parameters = [
        _resolved(raw, p)
        for p in (*raw["paths"][operation.path].get("parameters", []), *definition.get("parameters", []))
    ]
    path: dict[str, str] = {}
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for parameter in parameters:
        schema = _resolved(raw, parameter.get("schema", {}))
        if parameter["in"] == "path":
            path[parameter["name"]] = (
                str(uuid.uuid4()) if schema.get("format") == "uuid" else f"p2c-{secrets.token_hex(4)}"
            )
        elif parameter["in"] == "query" and parameter["name"] in PROBE_QUERY:
            query[parameter["name"]] = PROBE_QUERY[parameter["name"]]
        elif parameter["in"] == "header" and parameter.get("required"):
            headers[parameter["name"]] = str((schema.get("examples") or ['"1"'])[0])
    body = None
    if operation.body_required:
        content = definition["requestBody"]["content"][operation.request_media_types[0]]
        example: Any = next(iter(content.get("examples", {}).values()), {})
        body = dict(_resolved(raw, example).get("value", {}))
        if "name" in body:
            body["name"] = ctx.unique_name("p2c-auth")
        if "world_id" in body:
            body["world_id"] = str(uuid.uuid4())
    return Probe(operation, path, query, body, headers)


def send_probe(ctx: ScenarioContext, operation: Operation, **credentials: Any) -> ObservedResponse:
    """Send the operation's probe with `token=`, `role=` or `scope=`; undo what it created."""
    probe = probe_for(ctx, operation)
    response = ctx.api.call(
        operation.operation_id,
        path=probe.path,
        query=probe.query,
        json=probe.body,
        headers=probe.headers,
        **credentials,
    )
    undo_creation(ctx, response, "other-tenant" if credentials.get("role") == "other-tenant" else "primary")
    return response


def undo_creation(ctx: ScenarioContext, response: ObservedResponse, owner: str) -> None:
    """A call that should have been refused may have created something: its tenant's admin undoes it."""
    document = response.json_or_none()
    created_id = document.get("id") if isinstance(document, dict) else None
    operation_id = response.operation.operation_id if response.operation else None
    if not isinstance(created_id, str):
        return
    if operation_id == "createWorld" and response.status == 201:
        ctx.on_cleanup(lambda: ctx.api.call("deleteWorld", path={"world_id": created_id}, role=owner))
    elif operation_id == "startRuntime" and response.status == 202:
        ctx.on_cleanup(lambda: _stop_quietly(ctx, created_id, owner))


# --- missing and malformed tokens -------------------------------------------------------------


@check("P2-AUTH-001", "P2-AUTH-002", kind="scenario")
def check_missing_and_malformed_tokens(ctx: ScenarioContext) -> None:
    """Protected operations answer 401 and a Bearer-scheme challenge with no token, invalid_token to junk."""
    for operation in enabled_protected(ctx):
        missing = send_probe(ctx, operation, token=NO_TOKEN)
        scheme = challenge_scheme(missing)
        ctx.check(
            "P2-AUTH-001",
            missing.status == 401 and scheme == "bearer",
            "Request without a token is not refused with a Bearer-scheme challenge",
            f"{operation.label} answered {missing.status} with WWW-Authenticate "
            f"{missing.headers.get('www-authenticate', '(absent)')!r}",
            missing,
        )
        for garbage in (f"p2c-not-a-jwt-{secrets.token_hex(8)}", "bm90.YSBqd3Q.x"):
            refused = send_probe(ctx, operation, token=garbage)
            problem = refusal_problem(refused, 401, "invalid_token")
            ctx.check(
                "P2-AUTH-002",
                problem is None,
                "A non-JWT token is not refused as invalid_token",
                problem or "",
                refused,
            )


# --- edge-case tokens of the test issuer ------------------------------------------------------


def all_scopes(ctx: ScenarioContext) -> list[str]:
    return sorted({scope for operation in ctx.contract.operations for scope in operation.scopes})


def primary_tenant(ctx: ScenarioContext) -> str:
    """The tenant claim of the primary client's own token, so test-issuer tokens act in its tenant."""
    try:
        claims = jwt.decode(ctx.api.tokens.token("primary"), options={"verify_signature": False})
    except jwt.PyJWTError:
        return FALLBACK_TENANT
    tenant = claims.get("tenant")
    return tenant if isinstance(tenant, str) and tenant else FALLBACK_TENANT


def trusted_issuer(ctx: ScenarioContext) -> tuple[TestIssuer, str] | str:
    """The test issuer and tenant when the target accepts its control token; else why not."""
    issuer: TestIssuer | None = ctx.resources.test_issuer
    if issuer is None:
        return "the suite's test issuer is not running"
    tenant = primary_tenant(ctx)
    control = issuer.valid(tenant, " ".join(all_scopes(ctx)))
    ctx.recorder.redactor.register(control)
    response = send_probe(ctx, ctx.contract.operation(CONTROL_OPERATION), token=control)
    if response.status in (401, 403):
        return (
            f"the deployment refused a valid token of the suite's test issuer ({response.status} on "
            f"{response.operation.label if response.operation else CONTROL_OPERATION}), so it does not trust "
            f"the issuer {issuer.issuer}; see README 'Trusting the test issuer (vendors)'"
        )
    ctx.require(response, range(200, 300), "the test issuer's control token")
    return issuer, tenant


def _refused_everywhere(
    ctx: ScenarioContext, requirement_id: str, what: str, mint: Callable[[TestIssuer, str, str], str]
) -> None:
    found = trusted_issuer(ctx)
    if isinstance(found, str):
        ctx.not_applicable(requirement_id, found)
        return
    issuer, tenant = found
    scope = " ".join(all_scopes(ctx))
    for operation in enabled_protected(ctx):
        token = mint(issuer, tenant, scope)
        ctx.recorder.redactor.register(token)
        response = send_probe(ctx, operation, token=token)
        problem = refusal_problem(response, 401, "invalid_token")
        ctx.check(
            requirement_id,
            problem is None,
            f"{what} is not refused as invalid_token",
            problem or "",
            response,
        )


@check("P2-AUTH-003", kind="scenario", needs=("test-issuer",))
def check_expired_token(ctx: ScenarioContext) -> None:
    """An expired token is refused with 401 invalid_token."""
    _refused_everywhere(ctx, "P2-AUTH-003", "An expired token", TestIssuer.expired)


@check("P2-AUTH-004", kind="scenario", needs=("test-issuer",))
def check_not_yet_valid_token(ctx: ScenarioContext) -> None:
    """A token whose nbf lies an hour ahead is refused with 401 invalid_token."""
    _refused_everywhere(ctx, "P2-AUTH-004", "A token not valid yet", TestIssuer.not_yet_valid)


@check("P2-AUTH-005", kind="scenario", needs=("test-issuer",))
def check_untrusted_issuer(ctx: ScenarioContext) -> None:
    """A token claiming an issuer the deployment does not trust is refused with 401 invalid_token."""
    _refused_everywhere(ctx, "P2-AUTH-005", "A token of an untrusted issuer", TestIssuer.wrong_issuer)


@check("P2-AUTH-006", kind="scenario", needs=("test-issuer",))
def check_wrong_audience(ctx: ScenarioContext) -> None:
    """A token for another audience is refused with 401 invalid_token."""
    _refused_everywhere(ctx, "P2-AUTH-006", "A token for another audience", TestIssuer.wrong_audience)


@check("P2-AUTH-007", kind="scenario", needs=("test-issuer",))
def check_alg_none(ctx: ScenarioContext) -> None:
    """An unsigned token (alg none) is refused with 401 invalid_token."""
    _refused_everywhere(ctx, "P2-AUTH-007", "An unsigned (alg none) token", TestIssuer.alg_none)


@check("P2-AUTH-008", kind="scenario", needs=("test-issuer",))
def check_alg_confusion(ctx: ScenarioContext) -> None:
    """An HS256 token keyed with the issuer's public key is refused with 401 invalid_token."""
    _refused_everywhere(ctx, "P2-AUTH-008", "An HS256 token keyed with the public key", TestIssuer.alg_confusion)


@check("P2-AUTH-009", kind="scenario", needs=("test-issuer",))
def check_tampered_token(ctx: ScenarioContext) -> None:
    """A token whose claims were altered after signing is refused with 401 invalid_token."""
    _refused_everywhere(ctx, "P2-AUTH-009", "A token altered after signing", TestIssuer.tampered)


@check("P2-AUTH-010", kind="scenario", needs=("test-issuer",))
def check_unknown_kid(ctx: ScenarioContext) -> None:
    """A token signed under a key id the issuer does not publish is refused with 401 invalid_token."""
    _refused_everywhere(ctx, "P2-AUTH-010", "A token with an unpublished key id", TestIssuer.unknown_kid)


# --- scopes -----------------------------------------------------------------------------------


def _scoped_token(ctx: ScenarioContext, scopes: list[str]) -> str:
    try:
        return ctx.api.tokens.token("primary", " ".join(scopes))
    except AuthError as exc:
        ctx.blocked(f"cannot obtain a token narrowed to {' '.join(scopes)!r}: {exc}")


@check("P2-AUTH-011", "P2-AUTH-012", kind="scenario")
def check_scopes(ctx: ScenarioContext) -> None:
    """Without the operation's scope: 403 insufficient_scope; with exactly that scope: not 401 or 403."""
    every_scope = all_scopes(ctx)
    issuer = trusted_issuer(ctx) if ctx.resources.test_issuer is not None else None
    for operation in enabled_protected(ctx):
        if not operation.scopes:
            # An operation open to any valid token (logout): a fresh one, since logout revokes it.
            token = ctx.api.tokens.disposable_token("primary")
            response = send_probe(ctx, operation, token=token)
            ctx.check(
                "P2-AUTH-012",
                response.status not in (401, 403),
                "A valid token is refused",
                f"{operation.label} answered {response.status}",
                response,
            )
            continue
        others = [scope for scope in every_scope if scope not in operation.scopes]
        lacking = send_probe(ctx, operation, token=_scoped_token(ctx, others))
        problem = refusal_problem(lacking, 403, "insufficient_scope")
        ctx.check(
            "P2-AUTH-011",
            problem is None,
            "A token lacking the operation's scope is not refused",
            f"{problem} (the token held {' '.join(others)})" if problem else "",
            lacking,
        )
        if isinstance(issuer, tuple):
            test_issuer, tenant = issuer
            unscoped = test_issuer.without_scope(tenant)
            ctx.recorder.redactor.register(unscoped)
            empty = send_probe(ctx, operation, token=unscoped)
            problem = refusal_problem(empty, 403, "insufficient_scope")
            ctx.check(
                "P2-AUTH-011",
                problem is None,
                "A token with no scope at all is not refused",
                problem or "",
                empty,
            )
        holding = send_probe(ctx, operation, token=_scoped_token(ctx, list(operation.scopes)))
        ctx.check(
            "P2-AUTH-012",
            holding.status not in (401, 403),
            "A token holding the operation's scope is refused",
            f"{operation.label} answered {holding.status} to a token holding {' '.join(operation.scopes)}",
            holding,
        )


# --- the token endpoints ----------------------------------------------------------------------


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


@check("P2-AUTH-016", kind="scenario")
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
    ctx.check("P2-AUTH-016", problem is None, "A used refresh token is not refused", problem or "", reused)


@check("P2-AUTH-017", kind="scenario")
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
    ctx.check("P2-AUTH-017", problem is None, "A logged-out access token is still accepted", problem or "", after)


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


# --- isolation across tenants -----------------------------------------------------------------


@dataclass(frozen=True)
class Owned:
    """A world of the primary tenant with a running runtime, as the owner last read them."""

    world: dict[str, Any]
    runtime: dict[str, Any]
    etag: str
    plugin: str

    @property
    def world_id(self) -> str:
        return str(self.world["id"])

    @property
    def runtime_id(self) -> str:
        return str(self.runtime["id"])

    @property
    def subjects(self) -> set[str]:
        return {f"worlds/{self.world_id}", f"runtimes/{self.runtime_id}"}


def _wait_for_status(
    ctx: ScenarioContext, runtime_id: str, wanted: set[str], role: str = "primary"
) -> ObservedResponse:
    deadline = time.monotonic() + min(ctx.settings.profile.runtime_timeout, max(ctx.time_left - 5, 0.0))
    while True:
        response = ctx.api.call("getRuntime", path={"runtime_id": runtime_id}, role=role)
        document = response.json_or_none()
        if response.status != 200 or (isinstance(document, dict) and document.get("status") in wanted):
            return response
        if time.monotonic() >= deadline:
            return response
        time.sleep(STATUS_POLL)


def _stop_quietly(ctx: ScenarioContext, runtime_id: str, role: str = "primary") -> None:
    ctx.api.call("stopRuntime", path={"runtime_id": runtime_id}, role=role)
    _wait_for_status(ctx, runtime_id, {"stopped", "failed"}, role)


def own_world_with_runtime(ctx: ScenarioContext) -> Owned:
    """Create a world and run a runtime on it as the primary client; cleanups undo both."""
    plugins = ctx.require(ctx.api.call("listPlugins"), {200}, "list the engine's plugins").json()
    plugin = str(plugins["items"][0]["name"])
    created = ctx.require(
        ctx.api.call("createWorld", json={"name": ctx.unique_name("p2c-iso")}),
        {201},
        "create the owner's world",
    )
    world_id = created.json()["id"]
    ctx.on_cleanup(lambda: ctx.api.call("deleteWorld", path={"world_id": world_id}))
    started = ctx.require(
        ctx.api.call("startRuntime", json={"world_id": world_id, "plugin": plugin}),
        {202},
        "start the owner's runtime",
    )
    runtime_id = started.json()["id"]
    ctx.on_cleanup(lambda: _stop_quietly(ctx, runtime_id))
    running = _wait_for_status(ctx, runtime_id, {"running"})
    if running.status != 200 or running.json().get("status") != "running":
        ctx.blocked(f"the owner's runtime did not reach running within {ctx.settings.profile.runtime_timeout:g}s")
    world = ctx.require(ctx.api.call("getWorld", path={"world_id": world_id}), {200}, "read the owner's world")
    return Owned(world.json(), running.json(), world.headers.get("etag", '"1"'), plugin)


def listed(ctx: ScenarioContext, operation_id: str, role: str, filters: Mapping[str, str] | None = None) -> list[Any]:
    """Every item of a list as `role` sees it, walking all its pages."""

    def fetch(limit: int, cursor: str | None) -> Page:
        response = ctx.api.call(operation_id, query={"limit": limit, "cursor": cursor, **(filters or {})}, role=role)
        where = f"{operation_id} as the {role} client"
        if response.status != 200:
            return Page((), None, f"{where} answered {response.status}", response)
        return parse_page(response.json_or_none(), where, response)

    deadline = time.monotonic() + max(ctx.time_left - WALK_RESERVE, 0.0)
    result = walk(fetch, MAX_LIMIT, max_pages=MAX_PAGES, deadline=deadline)
    if result.problem is not None:
        ctx.blocked(f"cannot walk {operation_id}: {result.problem}")
    return [item for page in result.pages for item in page.items]


def _mentions(item: Any, owned: Owned) -> bool:
    text = json.dumps(item)
    return owned.world_id in text or owned.runtime_id in text


@check("P2-AUTH-019", kind="scenario", needs=("other-tenant",))
def check_tenant_isolation_reads(ctx: ScenarioContext) -> None:
    """Another tenant's world and runtime answer 404 to every read and are never listed."""
    owned = own_world_with_runtime(ctx)
    other = "other-tenant"
    reads = [
        ctx.api.call("getWorld", path={"world_id": owned.world_id}, role=other),
        ctx.api.call("getRuntime", path={"runtime_id": owned.runtime_id}, role=other),
    ]
    if "world-preview" in ctx.settings.feature_flags:
        reads.append(ctx.api.call("previewWorld", path={"world_id": owned.world_id}, role=other))
    for response in reads:
        ctx.check(
            "P2-AUTH-019",
            response.status == 404,
            "Another tenant's resource can be read",
            f"{response.method} {response.path} answered {response.status} to the other tenant",
            response,
        )
    for operation_id, query in (
        ("listWorlds", None),
        ("listRuntimes", None),
        ("listRuntimes", {"world_id": owned.world_id}),
    ):
        leaked = [item for item in listed(ctx, operation_id, other, query) if _mentions(item, owned)]
        ctx.check(
            "P2-AUTH-019",
            not leaked,
            "Another tenant's resource is listed",
            f"{operation_id}{f' filtered by {query}' if query else ''} showed the other tenant "
            f"{len(leaked)} of the owner's items",
            operation=ctx.contract.operation(operation_id).label,
        )


@check("P2-AUTH-020", kind="scenario", needs=("other-tenant",))
def check_tenant_isolation_writes(ctx: ScenarioContext) -> None:
    """Another tenant's world and runtime answer 404 to every write and stay unchanged."""
    owned = own_world_with_runtime(ctx)
    other = "other-tenant"
    writes = [
        ctx.api.call(
            "updateWorld",
            path={"world_id": owned.world_id},
            json={"description": "changed by another tenant"},
            headers={"If-Match": owned.etag},
            role=other,
        ),
        ctx.api.call("startRuntime", json={"world_id": owned.world_id, "plugin": owned.plugin}, role=other),
        ctx.api.call("stopRuntime", path={"runtime_id": owned.runtime_id}, role=other),
        ctx.api.call("deleteRuntime", path={"runtime_id": owned.runtime_id}, role=other),
        ctx.api.call("deleteWorld", path={"world_id": owned.world_id}, role=other),
    ]
    for response in writes:
        ctx.check(
            "P2-AUTH-020",
            response.status == 404,
            "Another tenant's resource can be changed",
            f"{response.method} {response.path} answered {response.status} to the other tenant",
            response,
        )
        undo_creation(ctx, response, other)
    world = ctx.api.call("getWorld", path={"world_id": owned.world_id})
    ctx.check(
        "P2-AUTH-020",
        world.status == 200 and world.json_or_none() == owned.world,
        "Another tenant's write changed the owner's world",
        f"the owner now reads {world.status} {'(changed)' if world.status == 200 else ''}",
        world,
    )
    runtime = ctx.api.call("getRuntime", path={"runtime_id": owned.runtime_id})
    document = runtime.json_or_none() if runtime.status == 200 else None
    unchanged = isinstance(document, dict) and (document.get("status"), document.get("version")) == (
        owned.runtime.get("status"),
        owned.runtime.get("version"),
    )
    ctx.check(
        "P2-AUTH-020",
        unchanged,
        "Another tenant's write changed the owner's runtime",
        f"the owner now reads {runtime.status} status={document.get('status') if document else None!r}",
        runtime,
    )
    runtimes = [item.get("id") for item in listed(ctx, "listRuntimes", "primary", {"world_id": owned.world_id})]
    ctx.check(
        "P2-AUTH-020",
        runtimes == [owned.runtime_id],
        "Another tenant started a runtime on the owner's world",
        f"the owner's world has runtimes {runtimes}",
        operation=ctx.contract.operation("startRuntime").label,
    )


@check("P2-AUTH-021", kind="scenario", needs=("other-tenant",))
def check_tenant_isolation_events(ctx: ScenarioContext) -> None:
    """Events about another tenant's resources are never listed or streamed."""
    owned = own_world_with_runtime(ctx)
    other = "other-tenant"
    own_events = ctx.require(
        ctx.api.call("listEvents", query={"subject": f"worlds/{owned.world_id}", "limit": 1}),
        {200},
        "the owner's events",
    ).json()["items"]
    for subject in sorted(owned.subjects):
        filtered = ctx.api.call("listEvents", query={"subject": subject, "limit": MAX_LIMIT}, role=other)
        items = filtered.json_or_none().get("items", []) if isinstance(filtered.json_or_none(), dict) else None
        ctx.check(
            "P2-AUTH-021",
            filtered.status == 200 and items == [],
            "Another tenant's events are listed",
            f"listing subject {subject} as the other tenant answered {filtered.status} with "
            f"{len(items) if items is not None else 'no'} items",
            filtered,
        )
    leaked = [item for item in listed(ctx, "listEvents", other) if _mentions(item, owned)]
    ctx.check(
        "P2-AUTH-021",
        not leaked,
        "Another tenant's events are listed",
        f"the other tenant's event list holds {len(leaked)} events about the owner's resources",
        operation=ctx.contract.operation("listEvents").label,
    )
    # Resume just before the owner's first event, so the stream's backlog is where a leak would be.
    headers = {"Last-Event-ID": str(int(own_events[0]["id"]) - 1)} if own_events else None
    stream = ctx.api.call("streamEvents", query={"wait": 0, "max_events": 1000}, headers=headers, role=other)
    messages, _ = parse_event_stream(stream.body) if stream.status == 200 else ([], False)
    leaked = about(messages, owned.subjects)
    ctx.check(
        "P2-AUTH-021",
        stream.status == 200 and not leaked,
        "Another tenant's events are streamed",
        f"the stream answered {stream.status} with {len(leaked)} events about the owner's resources",
        stream,
    )


# --- the read-only client ---------------------------------------------------------------------


@check("P2-AUTH-022", kind="scenario", needs=("read-only",))
def check_read_only_client(ctx: ScenarioContext) -> None:
    """A read-only client can read, and every write answers 403."""
    for operation in enabled_protected(ctx):
        if not operation.scopes:
            continue  # logout needs no scope, and would revoke the reader's shared token
        response = send_probe(ctx, operation, role="read-only")
        if operation.is_write:
            ctx.check(
                "P2-AUTH-022",
                response.status == 403,
                "A read-only client can write",
                f"{operation.label} answered {response.status} to the read-only client",
                response,
            )
        else:
            ctx.check(
                "P2-AUTH-022",
                response.status not in (401, 403),
                "A read-only client cannot read",
                f"{operation.label} answered {response.status} to the read-only client",
                response,
            )
