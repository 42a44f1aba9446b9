"""The response checks on hand-built responses; the fault corpus shows each against a real server."""

from __future__ import annotations

import json
from typing import Any

import pytest

from conformance.checks.context import ResponseContext
from conformance.checks.registry import CheckFailed, ResponseCheck
from conformance.classes.protocol.protocol_responses import (
    check_allow_on_405,
    check_enum_values,
    check_etag_matches_version,
    check_location_on_create,
    check_no_internals,
    check_problem_details,
    check_retry_after,
    check_rfc3339_timestamps,
    check_www_authenticate,
)
from conformance.classes.telemetry.request_ids import check_request_id, check_request_id_unique
from conformance.client.observed import ObservedResponse
from conformance.contract import load_contract

WORLD = {
    "id": "3f0c9a52-6a4e-4f3e-9a57-1d6e2b0c8f11",
    "name": "a",
    "description": "",
    "labels": {},
    "settings": {"tick_rate_hz": 30, "max_entities": 10},
    "version": 2,
    "created_at": "2026-11-26T10:00:00Z",
    "updated_at": "2026-11-26T10:00:00.123+01:00",
}


def respond(
    operation_id: str | None,
    status: int,
    body: Any = None,
    headers: dict[str, str] | None = None,
    method: str | None = None,
    sent: dict[str, str] | None = None,
) -> ResponseContext:
    contract = load_contract()
    operation = contract.operation(operation_id) if operation_id else None
    raw = body if isinstance(body, bytes) else json.dumps(body).encode() if body is not None else b""
    base = {"x-request-id": "r-1"}
    if isinstance(body, dict) and status >= 400:
        base["content-type"] = "application/problem+json"
    elif body is not None:
        base["content-type"] = "application/json"
    observed = ObservedResponse(
        operation=operation,
        method=method or (operation.method if operation else "GET"),
        url="http://t/v2" + (operation.path if operation else "/x"),
        request_headers=sent or {},
        request_body=None,
        status=status,
        headers={**base, **(headers or {})},
        body=raw,
    )
    return ResponseContext(observed, contract, {})


def verdict(check: ResponseCheck, ctx: ResponseContext) -> str:
    try:
        result = check(ctx)
    except CheckFailed as failure:
        return f"failed: {failure.title}"
    return "passed" if result else "n/a"


PROBLEM = {"type": "https://phase2.example/problems/not-found", "title": "Not found", "status": 404}


@pytest.mark.parametrize(
    ("check", "ctx", "expected"),
    [
        (check_problem_details, respond("getWorld", 404, PROBLEM), "passed"),
        (
            check_problem_details,
            respond("getWorld", 404, {**PROBLEM, "status": 400}),
            "failed: Problem status differs",
        ),
        (
            check_problem_details,
            respond("getWorld", 404, b"not found", {"content-type": "text/plain"}),
            "failed: Error response is not",
        ),
        (check_problem_details, respond("getReadiness", 503, {"status": "not_ready"}), "n/a"),
        (check_problem_details, respond("getWorld", 200, WORLD), "n/a"),
        (
            check_no_internals,
            respond("getWorld", 500, {**PROBLEM, "detail": 'File "/app/x.py", line 3'}),
            "failed: Error response exposes",
        ),
        (
            check_no_internals,
            respond("getWorld", 422, {**PROBLEM, "detail": "SELECT id FROM worlds"}),
            "failed: Error response exposes",
        ),
        (check_no_internals, respond("getWorld", 404, PROBLEM), "passed"),
        (
            check_location_on_create,
            respond("createWorld", 201, WORLD, {"location": f"/v2/worlds/{WORLD['id']}"}),
            "passed",
        ),
        (
            check_location_on_create,
            respond("createWorld", 201, WORLD),
            "failed: 201 response without Location",
        ),
        (
            check_location_on_create,
            respond("createWorld", 201, WORLD, {"location": "/v2/worlds/other"}),
            "failed: Location does not name",
        ),
        (check_etag_matches_version, respond("getWorld", 200, WORLD, {"etag": '"2"'}), "passed"),
        (
            check_etag_matches_version,
            respond("getWorld", 200, WORLD, {"etag": '"1"'}),
            "failed: ETag does not match",
        ),
        (check_etag_matches_version, respond("getWorld", 200, WORLD), "failed: Representation without ETag"),
        (
            check_www_authenticate,
            respond(
                "getWorld",
                401,
                {**PROBLEM, "status": 401},
                {"www-authenticate": 'Bearer realm="p", error="invalid_token"'},
            ),
            "passed",
        ),
        (
            check_www_authenticate,
            respond("getWorld", 401, {**PROBLEM, "status": 401}, {"www-authenticate": 'Basic realm="p"'}),
            "failed: 401 without a Bearer",
        ),
        (
            check_www_authenticate,
            respond("login", 401, {**PROBLEM, "status": 401}, {"www-authenticate": 'Basic realm="p"'}),
            "passed",
        ),
        (check_allow_on_405, respond(None, 405, {**PROBLEM, "status": 405}), "failed: 405 without Allow"),
        (check_allow_on_405, respond(None, 405, {**PROBLEM, "status": 405}, {"allow": "GET"}), "passed"),
        (
            check_retry_after,
            respond("listWorlds", 503, {**PROBLEM, "status": 503}, {"retry-after": "1"}),
            "passed",
        ),
        (
            check_retry_after,
            respond("listWorlds", 429, {**PROBLEM, "status": 429}),
            "failed: 429 without Retry-After",
        ),
        *(
            (
                check_retry_after,
                respond("listWorlds", 429, {**PROBLEM, "status": 429}, {"retry-after": malformed}),
                "failed: Retry-After is neither seconds nor an HTTP date",
            )
            # Delay-seconds are ASCII digits (RFC 9110 §10.2.3): not signed, not fractional, no other script.
            for malformed in ("-1", "+1", "1.5", "١٢", "soon")
        ),
        (check_rfc3339_timestamps, respond("getWorld", 200, WORLD), "passed"),
        (
            check_rfc3339_timestamps,
            respond("getWorld", 200, {**WORLD, "created_at": "2026-11-26 10:00:00"}),
            "failed: Timestamp is not RFC 3339",
        ),
        (
            check_rfc3339_timestamps,
            respond("getWorld", 200, {**WORLD, "created_at": "2026-11-26T10:00:00"}),
            "failed: Timestamp is not RFC 3339",
        ),
        (
            check_enum_values,
            respond(
                "getRuntime",
                200,
                {
                    "id": WORLD["id"],
                    "world_id": WORLD["id"],
                    "plugin": "physics-sim",
                    "parameters": {},
                    "status": "booting",
                    "failure_reason": None,
                    "version": 1,
                    "created_at": WORLD["created_at"],
                    "updated_at": WORLD["created_at"],
                },
            ),
            "failed: Value outside",
        ),
        (check_enum_values, respond("getWorld", 200, WORLD), "passed"),
        (
            check_request_id,
            respond("getWorld", 200, WORLD, sent={"X-Request-ID": "mine"}, headers={"x-request-id": "other"}),
            "failed: X-Request-ID not echoed",
        ),
        (
            check_request_id,
            respond("getWorld", 200, WORLD, headers={"x-request-id": ""}),
            "failed: Response without X-Request-ID",
        ),
        (check_request_id, respond("getWorld", 200, WORLD, sent={"X-Request-ID": "r-1"}), "passed"),
    ],
)
def test_response_checks(check: ResponseCheck, ctx: ResponseContext, expected: str) -> None:
    assert verdict(check, ctx).startswith(expected)


def test_generated_request_ids_must_be_unique_across_the_run() -> None:
    first = respond("getWorld", 200, WORLD)
    second = respond("listWorlds", 200, {"items": [], "next_cursor": None})
    second.state = first.state
    assert verdict(check_request_id_unique, first) == "passed"
    assert verdict(check_request_id_unique, second).startswith("failed: Generated X-Request-ID repeated")
