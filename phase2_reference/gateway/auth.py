"""Bearer authentication and scope checks for protected operations (RFC 6750 challenges)."""

from __future__ import annotations

from collections.abc import Mapping

from phase2_reference.oauth.verifier import InvalidToken, Principal, TokenVerifier
from phase2_reference.shared.problems import ProblemError, oauth_error
from phase2_reference.testing.faults import ActiveFaults

REALM = 'realm="phase2"'


def challenge(error: str | None = None, description: str | None = None, scope: str | None = None) -> str:
    parts = [f"Bearer {REALM}"]
    if error is not None:
        parts.append(f'error="{error}"')
    if description is not None:
        parts.append(f'error_description="{description}"')
    if scope is not None:
        parts.append(f'scope="{scope}"')
    return ", ".join(parts)


def bearer_token(headers: Mapping[str, str]) -> str | None:
    authorization = headers.get("authorization")
    if authorization is None:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def _has_scopes(principal: Principal, needed: frozenset[str], faults: ActiveFaults) -> bool:
    if faults.active("ignore-scopes"):
        return True
    held = principal.scopes
    if faults.active("reader-can-write"):
        held = held | {scope.replace(":read", ":write") for scope in held}
    return needed <= held


async def authenticate(
    headers: Mapping[str, str], needed: frozenset[str], verifier: TokenVerifier, faults: ActiveFaults
) -> Principal:
    token = bearer_token(headers)
    if token is None:
        raise ProblemError(
            401,
            "unauthorized",
            "This operation needs a bearer access token.",
            headers=[("www-authenticate", challenge())],
        )
    try:
        principal = await verifier.verify(token)
    except InvalidToken as exc:
        description = str(exc)
        raise oauth_error(
            401,
            "invalid_token",
            description,
            headers=[("www-authenticate", challenge("invalid_token", description))],
        ) from None
    if not _has_scopes(principal, needed, faults):
        wanted = " ".join(sorted(needed))
        raise oauth_error(
            403,
            "insufficient_scope",
            f"This operation needs the {wanted} scope.",
            headers=[("www-authenticate", challenge("insufficient_scope", scope=wanted))],
        )
    return principal
