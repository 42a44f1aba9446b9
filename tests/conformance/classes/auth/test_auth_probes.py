"""What the auth scenarios share: reading refusals and probing any protected operation."""

from __future__ import annotations

import json
import re
import uuid
from types import SimpleNamespace
from typing import Any

from conformance.classes.auth.auth_probes import (
    challenge_params,
    challenge_scheme,
    enabled_protected,
    oauth_error,
    probe_for,
    refusal_problem,
)
from conformance.client.observed import ObservedResponse
from conformance.contract import load_contract


def refusal(status: int, challenge: str | None = None, body: dict[str, Any] | None = None) -> ObservedResponse:
    headers = {"content-type": "application/problem+json"}
    if challenge is not None:
        headers["www-authenticate"] = challenge
    return ObservedResponse(
        operation=None,
        method="GET",
        url="http://t/v2/worlds",
        request_headers={},
        request_body=None,
        status=status,
        headers=headers,
        body=json.dumps(body or {}).encode(),
    )


def scenario(flags: frozenset[str] = frozenset()) -> Any:
    """The little of a ScenarioContext that probing reads: the contract, the flags, fresh names."""
    return SimpleNamespace(
        contract=load_contract(),
        settings=SimpleNamespace(feature_flags=flags),
        unique_name=lambda prefix: f"{prefix}-{uuid.uuid4().hex[:8]}",
    )


def test_challenge_params_reads_quoted_and_bare_values() -> None:
    response = refusal(401, 'Bearer realm="phase2", error="invalid_token", error_description="a, b", scope=x')
    assert challenge_scheme(response) == "bearer"
    assert challenge_params(response) == {
        "realm": "phase2",
        "error": "invalid_token",
        "error_description": "a, b",
        "scope": "x",
    }
    assert challenge_scheme(refusal(401)) is None
    assert challenge_params(refusal(401, "Bearer")) == {}


def test_oauth_error_prefers_the_challenge_then_the_problem() -> None:
    assert oauth_error(refusal(401, 'Bearer error="invalid_token"', {"error": "invalid_request"})) == "invalid_token"
    assert oauth_error(refusal(401, 'Bearer realm="phase2"', {"error": "invalid_token"})) == "invalid_token"
    assert oauth_error(refusal(401, None, {"error": "invalid_token"})) == "invalid_token"
    assert oauth_error(refusal(401)) is None


def test_refusal_problem_says_what_is_wrong() -> None:
    assert refusal_problem(refusal(401, 'Bearer error="invalid_token"'), 401, "invalid_token") is None
    assert "answered 200, not 401" in str(refusal_problem(refusal(200), 401, "invalid_token"))
    wrong = refusal_problem(refusal(403, 'Bearer error="insufficient_scope"'), 403, "invalid_token")
    assert "error='insufficient_scope'" in str(wrong)


def test_enabled_protected_follows_the_contract_and_the_flags() -> None:
    contract = load_contract()
    protected = {op.operation_id for op in contract.operations if op.protected}
    without_flags = {op.operation_id for op in enabled_protected(scenario())}
    assert without_flags == protected - {"previewWorld", "getScheduler"}
    assert {"login", "getLiveness", "getMetrics"}.isdisjoint(without_flags)
    with_flags = {op.operation_id for op in enabled_protected(scenario(frozenset({"world-preview", "engine-v2"})))}
    assert with_flags == protected


def test_probes_are_valid_requests_except_for_credentials() -> None:
    ctx = scenario()
    contract = ctx.contract
    create = probe_for(ctx, contract.operation("createWorld"))
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}", create.body["name"])
    assert create.body["name"] != probe_for(ctx, contract.operation("createWorld")).body["name"]
    update = probe_for(ctx, contract.operation("updateWorld"))
    assert uuid.UUID(update.path["world_id"])
    assert update.headers == {"If-Match": '"1"'}
    start = probe_for(ctx, contract.operation("startRuntime"))
    assert uuid.UUID(start.body["world_id"])
    assert start.body["plugin"] == "physics-sim"
    plugin = probe_for(ctx, contract.operation("getPlugin"))
    assert re.fullmatch(r"[a-z][a-z0-9-]{1,31}", plugin.path["plugin_name"])
    assert probe_for(ctx, contract.operation("streamEvents")).query == {"wait": 0, "max_events": 1}
    assert probe_for(ctx, contract.operation("listWorlds")).query == {"limit": 1}
    assert probe_for(ctx, contract.operation("logout")).body is None  # its body is optional
