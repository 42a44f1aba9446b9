"""The judge: every response check on every response, verdicts recorded, a crash never a pass."""

from __future__ import annotations

from conformance.checks import load_checks
from conformance.checks.context import ResponseContext
from conformance.checks.registry import REGISTRY, CheckFailed, Registry, check
from conformance.client.observed import ObservedResponse
from conformance.client.secrets import Redactor
from conformance.contract import load_catalog, load_contract
from conformance.recorder import Recorder
from conformance.runner.judge import Judge
from tests.conformance.client.answers import answer

WORLD = '{"id": "w-1", "name": "n", "version": 1}'


def _response(label: str, status: int, headers: dict[str, str], body: str = WORLD) -> ObservedResponse:
    return answer(label, status, headers=headers, body=body.encode())


def _judge() -> Judge:
    load_checks()
    return Judge(load_contract(), Recorder(load_catalog(), Redactor()), {})


def test_the_judge_runs_exactly_the_registered_response_checks() -> None:
    judge = _judge()
    assert judge.checks == REGISTRY.responses()
    assert {spec.kind for spec in judge.checks} == {"response"}


def test_a_created_world_without_location_fails_its_rule() -> None:
    judge = _judge()
    judge.observe(_response("POST /worlds", 201, {"content-type": "application/json", "etag": '"1"'}))
    [failure] = judge.recorder.failures_of("P2-PRO-003")
    assert failure.check == "check_location_on_create" and failure.operation == "POST /worlds"
    assert judge.recorder.requests == {"POST /worlds": 1}


def test_a_created_world_with_its_location_passes_its_rule() -> None:
    judge = _judge()
    headers = {"content-type": "application/json", "etag": '"1"', "location": "/v2/worlds/w-1"}
    judge.observe(_response("POST /worlds", 201, headers))
    assert judge.recorder.failures_of("P2-PRO-003") == []
    assert judge.recorder.evaluations("P2-PRO-003") == {"POST /worlds": 1}


def test_verdicts_passes_not_applicable_failures_and_crashes() -> None:
    registry = Registry()

    @check("P2-PRO-001", "P2-PRO-002", kind="response", registry=registry)
    def check_holds(ctx: ResponseContext) -> bool | None:
        return True

    @check("P2-PRO-007", kind="response", registry=registry)
    def check_not_applicable(ctx: ResponseContext) -> bool | None:
        return None

    @check("P2-PRO-004", "P2-PRO-008", kind="response", registry=registry)
    def check_broken(ctx: ResponseContext) -> bool | None:
        raise CheckFailed("broken", "the detail", requirement_id="P2-PRO-008")

    @check("P2-PRO-012", kind="response", registry=registry)
    def check_with_a_bug(ctx: ResponseContext) -> bool | None:
        return {}["missing"]  # type: ignore[no-any-return]

    judge = _judge()
    judge.checks = registry.responses()
    judge.observe(_response("GET /worlds/{world_id}", 200, {"content-type": "application/json"}))
    recorder = judge.recorder
    label = "GET /worlds/{world_id}"
    assert recorder.evaluations("P2-PRO-001") == {label: 1} and recorder.evaluations("P2-PRO-002") == {label: 1}
    assert recorder.evaluations("P2-PRO-007") == {}
    [failure] = recorder.failures_of("P2-PRO-008")  # the requirement the failure names, not the first one
    assert (failure.title, failure.message, failure.check) == ("broken", "the detail", "check_broken")
    assert recorder.failures_of("P2-PRO-004") == []
    assert recorder.evaluations("P2-PRO-012") == {}  # a crash is never a pass
    [error] = recorder.errors
    assert "check_with_a_bug crashed on GET" in error and "KeyError" in error


def test_a_response_outside_the_contract_is_judged_and_counted_apart() -> None:
    judge = _judge()
    outside = ObservedResponse(
        operation=None,
        method="GET",
        url="http://127.0.0.1:9/v2/nowhere",
        request_headers={},
        request_body=None,
        status=500,
        headers={"content-type": "text/plain"},
        body=b'Traceback (most recent call last):\n  File "/app/server.py", line 1',
    )
    judge.observe(outside)
    assert judge.recorder.requests == {"<outside the contract>": 1}
    assert judge.recorder.failures_of("P2-PRO-002"), "a traceback in a body is an internal leaking"
