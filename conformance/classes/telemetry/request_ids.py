"""Request ids judged on every response of the run: present, echoed when valid, never repeated."""

from __future__ import annotations

import re

from conformance.checks.context import ResponseContext
from conformance.checks.registry import CheckFailed, check

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")  # the contract's RequestId schema


@check("P2-TEL-009", kind="response")
def check_request_id(ctx: ResponseContext) -> bool | None:
    """Every response carries X-Request-ID, echoing a valid one the request sent."""
    returned = ctx.response.headers.get("x-request-id")
    if not returned:
        raise CheckFailed(
            "Response without X-Request-ID",
            f"{ctx.response.method} {ctx.response.path}",
            expected="an X-Request-ID header",
            actual=f"answered {ctx.response.status} without X-Request-ID",
        )
    sent = ctx.response.sent_header("X-Request-ID")
    if sent is not None and REQUEST_ID.match(sent) and returned != sent:
        raise CheckFailed(
            "X-Request-ID not echoed",
            f"sent {sent!r}, got {returned!r}",
            expected=f"X-Request-ID {sent!r} (as sent)",
            actual=f"X-Request-ID {returned!r}",
        )
    return True


@check("P2-TEL-010", kind="response")
def check_request_id_unique(ctx: ResponseContext) -> bool | None:
    """X-Request-IDs the deployment generates are never repeated."""
    if ctx.response.sent_header("X-Request-ID") is not None:
        return None
    returned = ctx.response.headers.get("x-request-id")
    if not returned:
        return None
    seen: set[str] = ctx.state.setdefault("generated_request_ids", set())
    if returned in seen:
        raise CheckFailed("Generated X-Request-ID repeated", f"{returned!r} was already returned for another request")
    seen.add(returned)
    return True
