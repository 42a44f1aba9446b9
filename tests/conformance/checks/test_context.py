"""What a scenario is handed: verdicts only for what it verifies, preconditions that block, cleanups
that always run, names no other scenario uses."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator

import pytest

from conformance.checks.context import Blocked, ResponseContext, RunResources, ScenarioContext
from conformance.checks.registry import Registry, ScenarioCheck, check
from conformance.client.observed import ObservedResponse
from conformance.contract import load_contract
from conformance.runner.session import RunSession
from conformance.settings import load_settings
from tests.conformance.client.answers import answer

CLIENT = {"PHASE2_CLIENT_ID": "tenant-a-admin", "PHASE2_CLIENT_SECRET": "test-only-secret-tenant-a-admin-7f3c"}


def _scenario(ctx: ScenarioContext) -> None:
    return None


@pytest.fixture
def session() -> Iterator[RunSession]:
    settings = load_settings({"base_url": "http://127.0.0.1:9/v2"}, env=CLIENT)
    with RunSession(settings) as session:
        yield session


def _context(session: RunSession, spec: ScenarioCheck, deadline: float | None = None) -> ScenarioContext:
    return ScenarioContext(
        spec,
        session.api,  # type: ignore[arg-type]  # not prepared: these scenarios send nothing
        session.settings,
        session.contract,
        session.recorder,
        session.resources,
        time.monotonic() + 60 if deadline is None else deadline,
    )


def _spec(*requirements: str) -> ScenarioCheck:
    return check(*requirements, kind="scenario", registry=Registry(), name="check_in_test")(_scenario)


def _answer(status: int, body: bytes = b"{}") -> ObservedResponse:
    json = {"content-type": "application/json"}
    return answer("GET /worlds/{world_id}", status, headers=json, body=body, path="/worlds/w-1")


def test_check_records_a_pass_or_a_failure_and_returns_whether_it_held(session: RunSession) -> None:
    ctx = _context(session, _spec("P2-SEM-001", "P2-SEM-004"))
    assert ctx.check("P2-SEM-001", True, "unused", response=_answer(200)) is True
    assert ctx.check("P2-SEM-004", False, "Stale If-Match accepted", "got 200", response=_answer(200)) is False
    recorder = session.recorder
    assert recorder.evaluations("P2-SEM-001") == {"GET /worlds/{world_id}": 1}
    [failure] = recorder.failures_of("P2-SEM-004")
    assert (failure.title, failure.message, failure.check) == ("Stale If-Match accepted", "got 200", "check_in_test")
    assert failure.operation == "GET /worlds/{world_id}"


def test_a_scenario_reports_only_what_it_declares(session: RunSession) -> None:
    ctx = _context(session, _spec("P2-SEM-001"))
    for report in (
        lambda: ctx.passed("P2-SEM-004"),
        lambda: ctx.fail("P2-SEM-004", "t"),
        lambda: ctx.not_applicable("P2-SEM-004", "r"),
    ):
        with pytest.raises(ValueError, match="reports P2-SEM-004, which it does not verify"):
            report()
    assert session.recorder.evaluations("P2-SEM-004") == {}


def test_not_applicable_is_never_a_pass(session: RunSession) -> None:
    ctx = _context(session, _spec("P2-AUTH-003"))
    ctx.not_applicable("P2-AUTH-003", "the target trusts no test issuer")
    assert session.recorder.not_applicable == {"P2-AUTH-003": "the target trusts no test issuer"}
    assert session.recorder.evaluations("P2-AUTH-003") == {}


def test_a_broken_precondition_blocks_with_what_the_target_answered(session: RunSession) -> None:
    ctx = _context(session, _spec("P2-SEM-001"))
    assert ctx.require(_answer(200), {200}, "read the world").status == 200
    with pytest.raises(Blocked) as blocked:
        ctx.require(_answer(500, b'{"detail": "' + b"x" * 500 + b'"}'), {200, 201}, "read the world")
    assert blocked.value.reason.startswith("read the world: GET /v2/worlds/w-1 answered 500 ")
    assert len(blocked.value.reason) < 300  # the body is cut, not copied whole


def test_cleanups_run_last_first_and_a_failing_one_is_an_error_not_a_stop(session: RunSession) -> None:
    ctx = _context(session, _spec("P2-SEM-001"))
    done: list[str] = []
    ctx.on_cleanup(lambda: done.append("first"))
    ctx.on_cleanup(lambda: {}["missing"])
    ctx.on_cleanup(lambda: done.append("last"))
    ctx.run_cleanups()
    assert done == ["last", "first"]
    [error] = session.recorder.errors
    assert "cleanup after check_in_test failed" in error
    ctx.run_cleanups()
    assert done == ["last", "first"]  # each runs once


def test_unique_names_fit_the_world_name_pattern_and_never_repeat(session: RunSession) -> None:
    ctx = _context(session, _spec("P2-SEM-001"))
    names = {ctx.unique_name() for _ in range(50)} | {ctx.unique_name("link") for _ in range(50)}
    assert len(names) == 100
    pattern = load_contract().component_schema("WorldName")
    assert all(re.fullmatch(pattern["pattern"], name) for name in names), pattern


def test_time_left_counts_down_to_the_deadline(session: RunSession) -> None:
    ctx = _context(session, _spec("P2-SEM-001"), deadline=time.monotonic() - 1)
    assert ctx.time_left < 0


def test_resources_say_which_protocol_parts_a_run_has() -> None:
    resources = RunResources(controls_url="http://127.0.0.1:9/_reference")
    assert resources.has("controls") and not resources.has("otlp") and not resources.has("test-issuer")
    assert not resources.has("outage")
    assert resources.has("other-tenant")  # roles are the settings' business, not the resources'


def test_a_response_context_names_its_operation() -> None:
    context = ResponseContext(_answer(200), load_contract(), {})
    assert context.operation_id == "getWorld"
