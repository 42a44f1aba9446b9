"""Scenario checks of the auth class on scopes: a token lacking an operation's scope is refused with
403 insufficient_scope, one holding it is not (P2-AUTH-011/012), and the read-only client can read
but never write (P2-AUTH-022).
"""

from __future__ import annotations

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import check
from conformance.classes.auth.auth_probes import (
    all_scopes,
    enabled_protected,
    refusal_facts,
    refusal_problem,
    send_probe,
    trusted_issuer,
)
from conformance.errors import AuthError


def _scoped_token(ctx: ScenarioContext, scopes: list[str]) -> str:
    try:
        return ctx.api.tokens.token("primary", " ".join(scopes))
    except AuthError as exc:
        ctx.blocked(f"cannot obtain a token narrowed to {' '.join(scopes)!r}: {exc}")


@check("P2-AUTH-011", "P2-AUTH-012", kind="scenario", cost=1.25)
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
            **refusal_facts(lacking, 403, "insufficient_scope"),
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
                **refusal_facts(empty, 403, "insufficient_scope"),
            )
        holding = send_probe(ctx, operation, token=_scoped_token(ctx, list(operation.scopes)))
        ctx.check(
            "P2-AUTH-012",
            holding.status not in (401, 403),
            "A token holding the operation's scope is refused",
            f"{operation.label} answered {holding.status} to a token holding {' '.join(operation.scopes)}",
            holding,
        )


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
                expected="403",
                actual=f"answered {response.status}",
                expected_status=(403,),
            )
        else:
            ctx.check(
                "P2-AUTH-022",
                response.status not in (401, 403),
                "A read-only client cannot read",
                f"{operation.label} answered {response.status} to the read-only client",
                response,
            )
