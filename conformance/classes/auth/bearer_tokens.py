"""Scenario checks of the auth class on bearer tokens: missing and malformed ones, and the test
issuer's edge cases (expired, not yet valid, foreign issuer or audience, unsigned, confused
algorithm, tampered, unknown key id), each refused as invalid_token (P2-AUTH-001..010).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import check
from conformance.classes.auth.auth_probes import (
    all_scopes,
    challenge_scheme,
    enabled_protected,
    refusal_facts,
    refusal_problem,
    send_probe,
    trusted_issuer,
)
from conformance.client.api_client import NO_TOKEN
from conformance.client.step_log import note_token
from conformance.peers.token_issuer import TestIssuer


@check("P2-AUTH-001", "P2-AUTH-002", kind="scenario", cost=1.25)
def check_missing_and_malformed_tokens(ctx: ScenarioContext) -> None:
    """Protected operations answer 401 and a Bearer-scheme challenge with no token, invalid_token to junk."""
    for operation in enabled_protected(ctx):
        missing = send_probe(ctx, operation, token=NO_TOKEN)
        scheme = challenge_scheme(missing)
        challenge = missing.headers.get("www-authenticate", "(absent)")
        ctx.check(
            "P2-AUTH-001",
            missing.status == 401 and scheme == "bearer",
            "Request without a token is not refused with a Bearer-scheme challenge",
            f"{operation.label} answered {missing.status} with WWW-Authenticate "
            f"{missing.headers.get('www-authenticate', '(absent)')!r}",
            missing,
            expected="401 with a Bearer challenge",
            actual=f"answered {missing.status} with WWW-Authenticate {challenge!r}",
            expected_status=(401,) if missing.status != 401 else (),
        )
        opaque = note_token(f"p2c-not-a-jwt-{secrets.token_hex(8)}", "junk:opaque")
        for garbage in (opaque, note_token("bm90.YSBqd3Q.x", "junk:three-part")):
            refused = send_probe(ctx, operation, token=garbage)
            problem = refusal_problem(refused, 401, "invalid_token")
            ctx.check(
                "P2-AUTH-002",
                problem is None,
                "A non-JWT token is not refused as invalid_token",
                problem or "",
                refused,
                **refusal_facts(refused, 401, "invalid_token"),
            )


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
            **refusal_facts(response, 401, "invalid_token"),
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
