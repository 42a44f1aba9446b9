"""Request context: headers and request ids."""

from __future__ import annotations

import uuid
from typing import Any

from phase2_reference.gateway.http import RequestContext, context_of, header_map


def scope(*headers: tuple[bytes, bytes]) -> dict[str, Any]:
    return {"type": "http", "method": "GET", "path": "/v2/x", "headers": list(headers)}


def test_headers_are_lower_cased_and_repeats_joined() -> None:
    assert header_map(scope((b"Accept", b"a"), (b"accept", b"b"), (b"X-Y", b"\xe9"))) == {
        "accept": "a, b",
        "x-y": "é",
    }


def test_request_ids_are_echoed_when_valid_else_fresh() -> None:
    assert RequestContext.from_scope(scope((b"x-request-id", b"abc-1"))).request_id == "abc-1"
    fresh = RequestContext.from_scope(scope((b"x-request-id", b"not valid")))
    assert uuid.UUID(fresh.request_id).version == 4
    assert uuid.UUID(RequestContext.from_scope(scope()).request_id).version == 4


def test_the_context_is_created_once_per_scope() -> None:
    request = scope()
    assert context_of(request) is context_of(request)
