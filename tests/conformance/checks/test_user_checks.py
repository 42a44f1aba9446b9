"""Checks of one's own: the same decorator as the built-in ones, loaded with --checks-module."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from tests.conftest import SuiteRun

STRICT_ENGINE = '''
from conformance import check


@check("P2-SEM-021", kind="scenario")
def check_engine_is_named_acme(ctx):
    """This team's deployments are named acme-engine."""
    answer = ctx.api.call("getEngineInfo")
    ctx.check("P2-SEM-021", answer.json().get("name") == "acme-engine", "The engine is not acme's",
              f"name is {answer.json().get('name')!r}", response=answer)
'''

CRASHING = '''
from conformance import check


@check("P2-SEM-022", kind="scenario")
def check_that_has_a_bug(ctx):
    """A check with a bug in it."""
    return {}["missing"]
'''


def test_a_user_check_runs_and_fails_the_run(tmp_path: Path, run_suite: Callable[..., SuiteRun]) -> None:
    (tmp_path / "team_checks.py").write_text(STRICT_ENGINE)
    run = run_suite(
        "--reference", "--profile", "quick", "--classes", "semantic", "--requirement", "P2-SEM-021",
        "--checks-module", "team_checks",
    )  # fmt: skip
    assert run.exit_code == 1, run.stdout[-2000:]
    [failure] = run.summary["requirements"]["P2-SEM-021"]["failures"]
    assert failure["check"] == "check_engine_is_named_acme"
    assert "phase2-reference" in failure["message"]


def test_a_crashing_check_leaves_the_run_unverified(tmp_path: Path, run_suite: Callable[..., SuiteRun]) -> None:
    (tmp_path / "buggy_checks.py").write_text(CRASHING)
    run = run_suite(
        "--reference", "--profile", "quick", "--classes", "semantic", "--requirement", "P2-SEM-022",
        "--checks-module", "buggy_checks",
    )  # fmt: skip
    assert run.exit_code == 1
    assert run.summary["verdict"] == "error"
    assert any("check_that_has_a_bug" in error and "KeyError" in error for error in run.summary["errors"])


def test_an_unknown_module_is_a_usage_error(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite("--reference", "--profile", "quick", "--checks-module", "no_such_module_here")
    assert run.exit_code == 2
    assert "cannot import check module 'no_such_module_here'" in run.stderr
