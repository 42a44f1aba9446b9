"""The run's parts: prepared against the embedded reference, finished once into a result, closed
with every helper stopped; a target lost mid-run is never a pass."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from conformance import results
from conformance.errors import AuthError, ConfigError, TargetUnreachable
from conformance.results import Verdict
from conformance.runner.session import RunSession
from conformance.settings import Settings, load_settings

CLIENT = {"PHASE2_CLIENT_ID": "tenant-a-admin", "PHASE2_CLIENT_SECRET": "test-only-secret-tenant-a-admin-7f3c"}


def _settings(tmp_path: Path, **values: object) -> Settings:
    return load_settings({"reference": True, "report_dir": str(tmp_path), "classes": "health", **values}, env={})


def test_prepare_starts_the_reference_and_every_part_the_run_uses(tmp_path: Path) -> None:
    with RunSession(_settings(tmp_path)) as session:
        assert session.prepare() is session and session.prepare() is session  # once
        assert session.api is not None and session.judge is not None and session.exerciser is not None
        assert session.settings.base_url is not None and session.settings.base_url.startswith("http://127.0.0.1:")
        assert session.api.call("getLiveness").status == 200
        assert (tmp_path / "reference.log").exists()
        base_url = session.settings.base_url
    with pytest.raises(httpx.ConnectError):  # closed: the reference is stopped
        httpx.get(f"{base_url}/healthz", timeout=10)


def test_an_unreachable_target_is_exit_3_before_anything_runs(tmp_path: Path) -> None:
    settings = load_settings({"base_url": "http://127.0.0.1:9/v2", "report_dir": str(tmp_path)}, env=CLIENT)
    with RunSession(settings) as session, pytest.raises(TargetUnreachable) as unreachable:
        session.prepare()
    assert unreachable.value.exit_code == 3 and session.api is None


def test_a_result_is_built_once_from_the_recorder(tmp_path: Path) -> None:
    with RunSession(_settings(tmp_path)) as session:
        session.recorder.passed("P2-HLT-001", "GET /healthz")
        session.add_test(results.TestOutcome("t", "t", "passed", 0.1, ("P2-HLT-001",)))
        result = session.finish()
        assert session.finish() is result
        assert [test.test_id for test in result.tests] == ["t"]
        assert next(r for r in result.requirements if r.id == "P2-HLT-001").evaluations == 1


@pytest.mark.parametrize("error", [TargetUnreachable("gone"), AuthError("token endpoint 503")])
def test_a_target_lost_mid_run_is_never_a_pass(tmp_path: Path, error: TargetUnreachable | AuthError) -> None:
    with RunSession(_settings(tmp_path)) as session:
        for requirement in session.catalog:
            session.recorder.passed(requirement.id)
        session.lose_target(error)
        assert session.target_lost and str(error) in session.recorder.errors
        assert session.finish().verdict is Verdict.ERROR


def test_a_config_error_does_not_mark_the_target_lost(tmp_path: Path) -> None:
    with RunSession(_settings(tmp_path)) as session:
        session.lose_target(ConfigError("bad value"))
        assert not session.target_lost


def test_a_429_on_the_way_is_judged_as_the_answer_it_is(tmp_path: Path) -> None:
    """A 429 the governor waits out goes to the response checks as an answer of its own operation:
    the rules on error answers and Retry-After judge it; the rule of the request it delayed never."""
    with RunSession(_settings(tmp_path, classes="protocol")) as session:
        session.prepare()
        base_url = session.settings.base_url
        problem = b'{"type": "about:blank", "title": "Too Many Requests", "status": 429}'
        good = httpx.Response(
            429,
            headers={"retry-after": "3", "content-type": "application/problem+json", "x-request-id": "a1"},
            content=problem,
            request=httpx.Request("GET", f"{base_url}/worlds"),
        )
        bad = httpx.Response(
            429,
            headers={"retry-after": "soon", "x-request-id": "a2"},
            content=b"",
            request=httpx.Request("GET", f"{base_url}/worlds/01a00000-0000-7000-8000-000000000000"),
        )
        session._limited(good)
        session._limited(bad)
        assert session.recorder.evaluations("P2-PRO-012")["GET /worlds"] == 1
        [retry_after] = session.recorder.failures_of("P2-PRO-012")
        assert retry_after.title == "Retry-After is neither seconds nor an HTTP date"
        assert retry_after.operation == "GET /worlds/{world_id}"
        [not_a_problem] = session.recorder.failures_of("P2-PRO-001")
        assert not_a_problem.operation == "GET /worlds/{world_id}"
        assert not session.recorder.failures_of("P2-CON-001"), "a 429 the contract allows fails no other rule"


def test_the_time_left_starts_at_the_budget(tmp_path: Path) -> None:
    with RunSession(_settings(tmp_path, time_budget=120)) as session:
        assert 0 < session.time_left <= 120
