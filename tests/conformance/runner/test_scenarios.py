"""Running one scenario against the embedded reference: what each way of ending means for its
requirements (blocked, judged, not applicable), and its cleanups always run."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import Registry, ScenarioCheck, ScenarioFunc, check
from conformance.client.transport import ResponseTooLarge
from conformance.errors import AuthError, TargetUnreachable
from conformance.profiles import PROFILES
from conformance.runner.scenarios import missing_need, run_scenario, selected_requirements, shallow_settings
from conformance.runner.session import RunSession
from tests.conftest import reference_session

session = reference_session("semantic")


def _scenario(*requirements: str, needs: tuple[str, ...] = ()) -> Callable[[ScenarioFunc], ScenarioCheck]:
    """The decorator, registering into a registry of the test's own (the suite's stays as it is)."""
    return check(*requirements, kind="scenario", needs=needs, registry=Registry())


def test_a_scenario_s_calls_are_judged_and_its_verdicts_recorded(session: RunSession) -> None:
    @_scenario("P2-SEM-001")
    def check_lists(ctx: ScenarioContext) -> None:
        answer = ctx.api.call("listWorlds")
        ctx.check("P2-SEM-001", answer.status == 200, "listWorlds failed", response=answer)

    sent = session.recorder.requests_sent
    run_scenario(session, check_lists)
    assert session.recorder.evaluations("P2-SEM-001") == {"GET /worlds": 1}
    assert session.recorder.requests_sent == sent + 1  # every response also passes the response checks


def test_a_broken_precondition_blocks_every_requirement_and_cleanups_run(session: RunSession) -> None:
    cleaned: list[str] = []

    @_scenario("P2-SEM-004", "P2-SEM-005")
    def check_blocked(ctx: ScenarioContext) -> None:
        ctx.on_cleanup(lambda: cleaned.append("done"))
        ctx.blocked("no world could be created")

    run_scenario(session, check_blocked)
    assert cleaned == ["done"]
    for requirement_id in ("P2-SEM-004", "P2-SEM-005"):
        assert session.recorder.blocked[requirement_id] == "check_blocked could not run: no world could be created"


def test_a_target_that_stops_answering_blocks_the_scenario(session: RunSession) -> None:
    @_scenario("P2-SEM-007")
    def check_cut_off(ctx: ScenarioContext) -> None:
        raise httpx.ReadError("connection reset\nby peer")

    run_scenario(session, check_cut_off)
    assert (
        session.recorder.blocked["P2-SEM-007"]
        == "check_cut_off: the target did not answer properly: connection reset by peer"
    )


def test_an_answer_over_the_reading_limits_fails_the_selected_requirements(session: RunSession) -> None:
    @_scenario("P2-SEM-014", "P2-AUTH-002")
    def check_bomb(ctx: ScenarioContext) -> None:
        raise ResponseTooLarge("the decoded body is over 16 MiB")

    run_scenario(session, check_bomb)
    [failure] = session.recorder.failures_of("P2-SEM-014")
    assert failure.title == "The answer is over the suite's reading limits" and failure.check == "check_bomb"
    assert session.recorder.failures_of("P2-AUTH-002") == []  # the auth class is not selected


def test_a_missing_need_is_not_applicable_with_how_to_provide_it(session: RunSession) -> None:
    ran: list[bool] = []

    @_scenario("P2-TEL-007", needs=("otlp",))
    def check_spans(ctx: ScenarioContext) -> None:
        ran.append(True)

    run_scenario(session, check_spans)
    assert ran == []
    assert session.recorder.not_applicable["P2-TEL-007"] == "the suite's OTLP receiver is not running"
    assert missing_need(session, check_spans) == "the suite's OTLP receiver is not running"


def test_the_selection_decides_which_requirements_a_scenario_may_fail(session: RunSession) -> None:
    @_scenario("P2-SEM-001", "P2-AUTH-002")
    def check_mixed(ctx: ScenarioContext) -> None:
        return None

    assert selected_requirements(session, check_mixed) == ["P2-SEM-001"]


def test_losing_the_auth_provider_blocks_and_a_lost_target_ends_the_run(session: RunSession) -> None:
    @_scenario("P2-SEM-019")
    def check_auth_gone(ctx: ScenarioContext) -> None:
        raise AuthError("the token endpoint answered 503")

    run_scenario(session, check_auth_gone)
    assert session.recorder.blocked["P2-SEM-019"] == "check_auth_gone: the token endpoint answered 503"
    assert session.target_lost

    @_scenario("P2-SEM-020")
    def check_target_gone(ctx: ScenarioContext) -> None:
        raise TargetUnreachable("connection refused")

    with pytest.raises(TargetUnreachable):
        run_scenario(session, check_target_gone)
    assert "connection refused" in session.recorder.errors


def test_shallow_settings_take_the_quick_profile_s_depth_and_nothing_else(session: RunSession) -> None:
    shallow = shallow_settings(session.settings)
    quick, own = PROFILES["quick"], session.settings.profile
    assert shallow.profile.walk_size == min(own.walk_size, quick.walk_size)
    assert shallow.profile.liveness_samples == min(own.liveness_samples, quick.liveness_samples)
    assert shallow.profile.max_examples == own.max_examples and shallow.base_url == session.settings.base_url
