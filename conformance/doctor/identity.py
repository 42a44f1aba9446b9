"""Who the suite is at the target: the provider's metadata, each client's token and its claims,
and whether the deployment trusts the suite's test issuer.

Claims are decoded without verifying the signature, only to show them: the doctor does not
judge tokens, it tells the engineer what the run will present.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import jwt

from conformance.client.tokens import TokenManager
from conformance.client.transport import NO_USABLE_ANSWER, LimitedClient
from conformance.contract.spec import Contract
from conformance.doctor.findings import Finding, failed, ok
from conformance.errors import AuthError
from conformance.peers.token_issuer import TestIssuer
from conformance.settings import Settings

ROLE_VARIABLES = {"other-tenant": "PHASE2_OTHER_TENANT_CLIENT", "read-only": "PHASE2_READ_ONLY_CLIENT"}
CONTROL_PATH = "/engine"  # a protected read every client may do: getEngineInfo
READ_PATH = "/worlds"  # listWorlds: what a read-only client must be allowed
# A valid token holding the operation's scope must be accepted: without every scope it cannot be shown.
SCOPE_REQUIREMENTS = ("P2-AUTH-012",)


def claims_of(access_token: str) -> dict[str, Any]:
    """The JWT payload, unverified (display only); {} for an opaque token."""
    try:
        claims = jwt.decode(access_token, options={"verify_signature": False, "verify_exp": False, "verify_aud": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def metadata(tokens: TokenManager) -> Finding:
    try:
        found = tokens.metadata()
    except AuthError as exc:
        return failed(
            "auth metadata",
            str(exc),
            "set PHASE2_AUTH_PROVIDER to the issuer whose /.well-known/oauth-authorization-server lists token_endpoint",
            fatal=True,
        )
    return ok("auth metadata", f"issuer {found.issuer}, token endpoint {found.token_endpoint}")


def primary_token(tokens: TokenManager, contract: Contract, settings: Settings) -> tuple[Finding, dict[str, Any]]:
    identity = settings.primary
    try:
        access_token = tokens.token("primary")
    except AuthError as exc:
        return (
            failed(
                "token",
                f"client {identity.client_id}: {exc}",
                "check PHASE2_CLIENT_ID and PHASE2_CLIENT_SECRET with the provider's administrator",
                fatal=True,
            ),
            {},
        )
    claims = claims_of(access_token)
    if not claims:
        return ok("token", f"client {identity.client_id} got an opaque token (no claims to show)"), {}
    scopes = set(str(claims.get("scope", "")).split())
    wanted = {scope for operation in contract.operations for scope in operation.scopes}
    expires_in = _expires_in(claims)
    described = (
        f"client {identity.client_id}: iss {claims.get('iss')}, aud {claims.get('aud')}, "
        f"tenant {claims.get('tenant', '(none)')}, scopes {' '.join(sorted(scopes)) or '(none)'}, "
        f"expires in {expires_in}"
    )
    missing = sorted(wanted - scopes)
    if missing and "scope" in claims:
        return (
            failed(
                "token",
                f"{described}; lacks {' '.join(missing)}",
                f"grant client {identity.client_id} every scope of the contract ({' '.join(sorted(wanted))})",
                SCOPE_REQUIREMENTS,
            ),
            claims,
        )
    return ok("token", described), claims


def _expires_in(claims: dict[str, Any]) -> str:
    exp = claims.get("exp")
    if not isinstance(exp, int | float):
        return "(no exp claim)"
    return f"{exp - time.time():.0f}s"


def roles(
    tokens: TokenManager,
    settings: Settings,
    client: LimitedClient,
    primary_tenant: object,
    requirements_of: Callable[[str], tuple[str, ...]],
) -> list[Finding]:
    """The second tenant's and the read-only client: configured, and working as their role says."""
    assert settings.base_url is not None
    findings = []
    for role in ROLE_VARIABLES:
        requirements = requirements_of(role)
        identity = settings.identity(role)
        name = f"{role} client"
        variables = f"{ROLE_VARIABLES[role]}_ID and {ROLE_VARIABLES[role]}_SECRET"
        if identity is None:
            findings.append(failed(name, "not configured", f"set {variables}", requirements))
            continue
        try:
            access_token = tokens.token(role)
        except AuthError as exc:
            findings.append(failed(name, f"{identity.client_id}: {exc}", f"check {variables}", requirements))
            continue
        tenant = claims_of(access_token).get("tenant")
        if role == "other-tenant" and tenant is not None and tenant == primary_tenant:
            findings.append(
                failed(
                    name,
                    f"{identity.client_id} is in the primary client's tenant {tenant}",
                    f"use a client of another tenant in {variables}",
                    requirements,
                )
            )
            continue
        status = _status(client, settings.base_url + READ_PATH, access_token)
        if status != 200:
            findings.append(
                failed(
                    name,
                    f"{identity.client_id} cannot read: GET {READ_PATH} answered {status}",
                    f"grant {identity.client_id} the read scopes",
                    requirements,
                )
            )
            continue
        where = f", tenant {tenant}" if tenant is not None else ""
        findings.append(ok(name, f"{identity.client_id}{where}: GET {READ_PATH} answered 200"))
    return findings


def _status(client: LimitedClient, url: str, access_token: str) -> int | str:
    try:
        return client.get(url, headers={"Authorization": f"Bearer {access_token}"}).status_code
    except NO_USABLE_ANSWER as exc:
        return " ".join(str(exc).split())[:120] or type(exc).__name__


def test_issuer(
    issuer: TestIssuer,
    settings: Settings,
    client: LimitedClient,
    contract: Contract,
    tenant: str,
    requirements: tuple[str, ...],
) -> tuple[Finding, str]:
    """Is a valid token of the suite's test issuer accepted by an authenticated read?"""
    assert settings.base_url is not None
    scopes = " ".join(sorted({scope for operation in contract.operations for scope in operation.scopes}))
    control = issuer.valid(tenant, scopes)
    status = _status(client, settings.base_url + CONTROL_PATH, control)
    trust = (
        f"start the deployment trusting issuer {issuer.issuer} with JWKS {issuer.jwks_url} "
        "(the reference: --trust-issuer ISSUER=JWKS; fix the port with --test-issuer-port "
        "and the host with --callback-host)"
    )
    if status != 200:
        return (
            failed(
                "test issuer",
                f"a valid token of the suite's test issuer was refused (GET {CONTROL_PATH} answered {status})",
                trust + ", then pass --test-issuer-trusted",
                requirements,
            ),
            control,
        )
    if not settings.test_issuer_trusted:
        return (
            failed(
                "test issuer",
                f"the deployment accepts the suite's test issuer {issuer.issuer}, but the run is not told so",
                "pass --test-issuer-trusted",
                requirements,
            ),
            control,
        )
    return ok(
        "test issuer", f"the deployment accepts tokens of {issuer.issuer} (GET {CONTROL_PATH} answered 200)"
    ), control
