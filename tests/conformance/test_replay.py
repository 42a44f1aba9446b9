"""`phase2-conformance replay ID`: a failure of a run against a faulty reference reproduces against a
reference started with the same fault, and does not against a good one — for a single request, a
scenario's steps (create → update → stale update, on the world the replay creates) and a forged
token minted again by the test issuer. The console leads with the cause and never cuts a command."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conformance.client.observed import ObservedResponse
from conformance.errors import ConfigError
from conformance.replay import Substitutions, body_of, expected_statuses, load_failure, statuses_words
from conformance.results import Step
from tests.conftest import UNCUT, SuiteRun, _clean_env


@dataclass(frozen=True)
class Case:
    fault: str
    selection: tuple[str, ...]
    requirement_id: str
    title: str  # picks the failure to replay
    cause: str  # its one-line cause
    operation: str | None = None  # and this operation's, when several operations fail alike


CASES = {
    "single request": Case(
        "create-answers-200",
        ("--classes", "contract", "--requirement", "P2-CON-001", "--operation", "createWorld"),
        "P2-CON-001",
        "Undocumented status code",
        "answered 200, expected one of 201",
    ),
    "scenario": Case(
        "ignore-if-match",
        ("--classes", "semantic", "--requirement", "P2-SEM-004"),
        "P2-SEM-004",
        "An update with a stale If-Match was not refused with 412",
        "answered 200, expected 412",
    ),
    "forged token": Case(
        "accept-expired",
        ("--classes", "auth", "--requirement", "P2-AUTH-003"),
        "P2-AUTH-003",
        "An expired token is not refused as invalid_token",
        "answered 200, expected 401 invalid_token",
        "GET /worlds",
    ),
}


def replay(failure_id: str, report_dir: Path, *target: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "conformance", "replay", failure_id, "--report-dir", str(report_dir), *target],
        capture_output=True,
        text=True,
        timeout=300,
        env=_clean_env(None),
        cwd=report_dir.parent,
    )


def failures_of(run: SuiteRun, requirement_id: str) -> list[dict[str, Any]]:
    return list(run.summary["requirements"][requirement_id]["failures"])


@pytest.mark.parametrize("name", sorted(CASES))
def test_a_failure_replays_against_the_same_fault_and_not_against_a_good_reference(
    name: str, run_suite: Callable[..., SuiteRun]
) -> None:
    case = CASES[name]
    run = run_suite("--reference", "--reference-fault", case.fault, "--profile", "quick", *case.selection)
    assert run.exit_code == 1, run.stdout[-3000:] + run.stderr[-2000:]
    failure = next(
        f
        for f in failures_of(run, case.requirement_id)
        if f["title"] == case.title and case.operation in (None, f["operation"])
    )
    assert failure["cause"].startswith(case.cause)
    # The console's failure line leads with the cause and names the replay.
    assert f"{case.title}: {failure['cause']}" in run.stdout
    assert f"phase2-conformance replay {failure['id']}" in run.stdout
    if name == "scenario":
        assert [s["method"] for s in failure["steps"]][:3] == ["POST", "GET", "PATCH"]
        assert failure["steps"][-1]["expected"] == "412"
    if name == "forged token":
        assert failure["steps"][-1]["credential"] == "issuer:expired"

    broken = replay(failure["id"], run.report_dir, "--reference", "--reference-fault", case.fault)
    assert broken.returncode == 1, broken.stdout + broken.stderr
    assert f"{failure['id']}: REPRODUCES" in broken.stdout
    assert f"step {len(failure['steps'])}/{len(failure['steps'])} (the failing step)" in broken.stdout

    good = replay(failure["id"], run.report_dir, "--reference")
    assert good.returncode == 0, good.stdout + good.stderr
    assert f"{failure['id']}: no longer reproduces" in good.stdout
    if name == "scenario":
        # The steps ran on the world the replay created, not on the run's (long gone) world.
        run_world = failure["steps"][1]["url"].rsplit("/", 1)[1]
        assert run_world not in good.stdout and "/v2/worlds/" in good.stdout


def test_ids_are_stable_across_runs_with_the_same_seed(run_suite: Callable[..., SuiteRun]) -> None:
    case = CASES["single request"]
    arguments = ("--reference", "--reference-fault", case.fault, "--profile", "quick", "--seed", "7", *UNCUT)
    arguments += case.selection
    first, second = run_suite(*arguments), run_suite(*arguments)
    ids = [{f["id"] for f in failures_of(run, case.requirement_id)} for run in (first, second)]
    assert ids[0] and ids[0] == ids[1]


def test_the_console_prints_every_reproduction_whole(run_suite: Callable[..., SuiteRun]) -> None:
    """A run whose failures hold bodies over the old 400-character cut: each command as summary.json has it."""
    run = run_suite(
        "--reference",
        "--reference-fault",
        "malformed-json-500",
        "--profile",
        "quick",
        "--classes",
        "protocol",
        "--requirement",
        "P2-PRO-013",
    )
    assert run.exit_code == 1, run.stdout[-3000:] + run.stderr[-2000:]
    shown = [line.split("reproduce: ", 1)[1] for line in run.stdout.splitlines() if "reproduce: " in line]
    curls = [f["curl"] for f in failures_of(run, "P2-PRO-013") if f["curl"]]
    assert shown and len(shown) == min(3, len(curls))
    assert all(command in curls for command in shown)
    assert all(len(command) > 0 and "…" not in command for command in shown)
    assert any("--data-binary @" in command for command in curls), "a body that is not UTF-8 is folded into a file"


def test_an_unknown_id_is_a_usage_error(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite("--reference", "--profile", "quick", "--classes", "health", "--requirement", "P2-HLT-001")
    result = replay("P2-HLT-001-0000000000", run.report_dir, "--reference")
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "no failure P2-HLT-001-0000000000" in result.stderr


# --- the parts, without a server ----------------------------------------------------------------


def recorded_step(**changes: Any) -> Step:
    values: dict[str, Any] = {
        "method": "POST",
        "url": "http://127.0.0.1:1/v2/worlds",
        "request_headers": {},
        "request_body": '{"name": "p2c-abc123-check_x-1"}',
        "status": 201,
        "response_headers": {"etag": '"1"', "location": "/v2/worlds/w-old"},
        "response_body": '{"id":"w-old","world_id":"w-parent","name":"p2c-abc123-check_x-1"}',
    }
    return Step(**{**values, **changes})


def test_later_steps_use_what_the_target_answers_now() -> None:
    substitutions = Substitutions()
    body = substitutions.freshen_names(recorded_step().request_body or "")
    assert "p2c-abc123-check_x-1" not in body and body.startswith('{"name": "p2c-replay-')
    now = ObservedResponse(None, "POST", "http://t/v2/worlds", {}, None, 201, {"etag": '"7"'}, b'{"id": "w-new"}')
    substitutions.learn(recorded_step(), now)
    assert substitutions.apply('http://t/v2/worlds/w-old?x="1"') == 'http://t/v2/worlds/w-new?x="7"'
    # The same made-up name maps to the same fresh one in every later step.
    assert substitutions.freshen_names('{"name": "p2c-abc123-check_x-1"}') == body


def test_a_body_file_outside_the_report_dir_is_refused(tmp_path: Path) -> None:
    for outside in ("../secret.json", "/etc/passwd"):
        with pytest.raises(ConfigError, match="is not a path inside its directory"):
            body_of(recorded_step(request_body_file=outside), tmp_path)
    with pytest.raises(ConfigError, match="excerpt"):
        body_of(recorded_step(request_body='{"a": "xxxx… (90000 bytes)'), tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"not json", b"[]", b'{"requirements": {"P2-X": {"failures": "no"}}, "target": {}}', b"[" * 100_000],
)
def test_a_file_that_is_not_a_summary_is_one_line_of_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "summary.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as raised:
        load_failure(path, "P2-SEM-004-0123456789")
    assert "\n" not in str(raised.value)


def test_statuses_read_from_expectations() -> None:
    assert expected_statuses("201 (create a world)") == {201}
    assert expected_statuses("200 or 204 (delete)") == {200, 204}
    assert expected_statuses("2xx (the control token)") == set(range(200, 300))
    assert expected_statuses("a Location header") is None
    assert statuses_words((*range(400, 500), 201)) == "4xx or 201"
