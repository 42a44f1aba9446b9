"""RFC 9457 problem documents: the one shape every 4xx and 5xx answer of the reference takes.

Handlers and the gateway raise `ProblemError`; the gateway renders it with the request id.
Details are written here, never taken from exception text, so no internals can leak.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from phase2_reference.shared.jsonutil import dumps

PROBLEM_BASE = "https://phase2.example/problems/"
PROBLEM_JSON = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    412: "Precondition failed",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Validation error",
    428: "Precondition required",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ProblemError(Exception):
    """An answer in problem+json form; raised anywhere below the gateway."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str,
        *,
        title: str | None = None,
        headers: Sequence[tuple[str, str]] = (),
        extra: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.title = title or TITLES.get(status, "Error")
        self.detail = detail
        self.headers = list(headers)
        self.extra = dict(extra or {})

    def document(self, request_id: str) -> dict[str, Any]:
        document: dict[str, Any] = {
            "type": PROBLEM_BASE + self.slug,
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
            "request_id": request_id,
        }
        document.update(self.extra)
        return document

    def body(self, request_id: str) -> bytes:
        return dumps(self.document(request_id))


def not_found(detail: str = "No such resource.") -> ProblemError:
    return ProblemError(404, "not-found", detail)


def conflict(detail: str) -> ProblemError:
    return ProblemError(409, "conflict", detail)


def bad_request(detail: str, errors: Sequence[Mapping[str, str]] = ()) -> ProblemError:
    extra = {"errors": list(errors)} if errors else None
    return ProblemError(400, "bad-request", detail, extra=extra)


def unprocessable(detail: str, errors: Sequence[Mapping[str, str]]) -> ProblemError:
    return ProblemError(422, "validation-error", detail, extra={"errors": list(errors)})


def unavailable(detail: str = "The data store is unavailable.", retry_after: int = 1) -> ProblemError:
    return ProblemError(503, "unavailable", detail, headers=[("retry-after", str(retry_after))])


def oauth_error(status: int, error: str, detail: str, *, headers: Sequence[tuple[str, str]] = ()) -> ProblemError:
    """An RFC 6749 §5.2 / RFC 6750 §3.1 error carried in a problem document's `error` member."""
    titles = {
        "invalid_request": "Invalid request",
        "invalid_client": "Invalid client",
        "invalid_grant": "Invalid grant",
        "invalid_scope": "Invalid scope",
        "unsupported_grant_type": "Unsupported grant type",
        "invalid_token": "Invalid token",
        "insufficient_scope": "Insufficient scope",
    }
    return ProblemError(
        status,
        error.replace("_", "-"),
        detail,
        title=titles.get(error),
        headers=headers,
        extra={"error": error},
    )
