"""Answers of the contract's operations for unit tests: an `ObservedResponse` as the client makes one."""

from __future__ import annotations

from collections.abc import Mapping

from conformance.client.observed import ObservedResponse
from conformance.contract import load_contract

BASE_URL = "http://127.0.0.1:9/v2"  # nothing listens there: the tests judge answers, they send nothing


def answer(
    label: str, status: int, *, headers: Mapping[str, str] | None = None, body: bytes = b"{}", path: str | None = None
) -> ObservedResponse:
    """An answer of `label` ("GET /worlds/{world_id}") to a request without headers or body, at
    `path` (the label's template when None)."""
    method, template = label.split(" ", 1)
    operation = load_contract().by_label(label)
    assert operation is not None, label
    return ObservedResponse(
        operation=operation,
        method=method,
        url=BASE_URL + (path or template),
        request_headers={},
        request_body=None,
        status=status,
        headers=dict(headers or {}),
        body=body,
    )
