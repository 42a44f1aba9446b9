"""The auth class: reading refusals, probing operations, a clean reference run, faults it must
catch, and issuer rules left not applicable (never passed) when the target does not trust the issuer."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from conformance.classes.auth import (
    challenge_params,
    challenge_scheme,
    enabled_protected,
    metadata_urls,
    oauth_error,
    probe_for,
    refusal_problem,
)
from conformance.contract import load_contract
from conformance.target.exchange import ObservedResponse
from tests.conformance.classes.conftest import PlainTarget
from tests.conftest import SuiteRun

AUTH = tuple(f"P2-AUTH-{number:03d}" for number in range(1, 23))
ISSUER_RULES = tuple(f"P2-AUTH-{number:03d}" for number in range(3, 11))
OTHER_CLIENT_RULES = ("P2-AUTH-019", "P2-AUTH-020", "P2-AUTH-021", "P2-AUTH-022")


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


def test_metadata_urls_follow_rfc_8414() -> None:
    assert metadata_urls("http://127.0.0.1:8080") == ["http://127.0.0.1:8080/.well-known/oauth-authorization-server"]
    assert metadata_urls("https://idp.example/realms/p2/") == [
        "https://idp.example/.well-known/oauth-authorization-server/realms/p2",
        "https://idp.example/realms/p2/.well-known/oauth-authorization-server",
    ]


def test_the_reference_passes_the_auth_class(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite("--reference", "--classes", "auth", "--profile", "quick")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert {requirement: run.status(requirement) for requirement in AUTH} == dict.fromkeys(AUTH, "passed")


def test_a_broken_reference_fails_the_auth_class(run_suite: Callable[..., SuiteRun]) -> None:
    # Three faults in one server, each breaking one rule: each rule fails, and nothing else does.
    # Without WWW-Authenticate, a refusal still says invalid_token in its problem: P2-AUTH-002 holds.
    faults = ("no-www-authenticate", "alg-confusion", "tenant-leak-write")
    broken = {"P2-AUTH-001", "P2-AUTH-008", "P2-AUTH-020"}
    run = run_suite(
        "--reference",
        *(argument for fault in faults for argument in ("--reference-fault", fault)),
        *("--classes", "auth", "--profile", "quick"),
        *(argument for requirement in sorted(broken) for argument in ("--requirement", requirement)),
        *("--requirement", "P2-AUTH-002", "--requirement", "P2-AUTH-009", "--requirement", "P2-AUTH-019"),
    )
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.failed_requirements() == broken
    for requirement in ("P2-AUTH-002", "P2-AUTH-009", "P2-AUTH-019"):
        assert run.status(requirement) == "passed"
    # No token, secret or Authorization header reaches the report.
    report = (run.report_dir / "summary.json").read_text()
    assert "test-only-secret" not in report
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", report)


def test_rules_a_plain_deployment_cannot_support_are_not_applicable(
    run_suite: Callable[..., SuiteRun], plain_reference: PlainTarget
) -> None:
    # Started without --trust-issuer, and run with the primary client only.
    run = run_suite(
        *("--base-url", plain_reference.base_url, "--test-issuer-trusted"),
        *("--classes", "auth", "--profile", "quick"),
        *(
            argument
            for requirement in (*ISSUER_RULES, *OTHER_CLIENT_RULES)
            for argument in ("--requirement", requirement)
        ),
        env=plain_reference.env,
    )
    assert run.exit_code == 0, run.stdout + run.stderr
    requirements = run.summary["requirements"]
    for requirement in ISSUER_RULES:
        assert requirements[requirement]["status"] == "not-applicable"
        assert "refused a valid token of the suite's test issuer" in requirements[requirement]["reason"]
    for requirement in OTHER_CLIENT_RULES:
        assert requirements[requirement]["status"] == "not-applicable"
        assert "client" in requirements[requirement]["reason"]
