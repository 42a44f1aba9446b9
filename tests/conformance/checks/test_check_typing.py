"""mypy (strict) refuses a check whose signature does not fit its kind."""

from __future__ import annotations

import re
from pathlib import Path

from mypy import api

ROOT = Path(__file__).resolve().parents[3]

CASES = """
from typing import assert_type

from conformance.checks.context import ResponseContext, ScenarioContext
from conformance.checks.registry import Registry, ResponseCheck, ScenarioCheck, check

registry = Registry()


@check("P2-PRO-003", kind="response", registry=registry)
def check_fits_response(ctx: ResponseContext) -> bool | None:
    return None


@check("P2-SEM-001", kind="scenario", needs=("otlp",), registry=registry)
def check_fits_scenario(ctx: ScenarioContext) -> None:
    return None


@check("P2-PRO-004", kind="traffic", registry=registry)
def feed_fits(ctx: ScenarioContext) -> None:
    return None


assert_type(check_fits_response, ResponseCheck)
assert_type(check_fits_scenario, ScenarioCheck)
assert_type(feed_fits, ScenarioCheck)


@check("P2-PRO-003", kind="response", registry=registry)  # BAD: a response check handed a scenario
def check_response_with_scenario(ctx: ScenarioContext) -> bool | None:
    return None


@check("P2-SEM-001", kind="scenario", registry=registry)  # BAD: a scenario check handed a response
def check_scenario_with_response(ctx: ResponseContext) -> None:
    return None


@check("P2-SEM-001", kind="scenario", registry=registry)  # BAD: a scenario returns no verdict
def check_scenario_returning(ctx: ScenarioContext) -> bool:
    return True


@check("P2-PRO-003", kind="response", needs=("otlp",), registry=registry)  # BAD: needs are for scenarios
def check_response_with_needs(ctx: ResponseContext) -> bool | None:
    return None


@check("P2-PRO-003", kind="scenarios", registry=registry)  # BAD: no such kind
def check_unknown_kind(ctx: ScenarioContext) -> None:
    return None
"""


def test_mypy_strict_refuses_a_check_of_the_wrong_signature(tmp_path: Path) -> None:
    cases = tmp_path / "typed_checks_cases.py"
    cases.write_text(CASES, encoding="utf-8")
    bad_lines = {number for number, line in enumerate(CASES.splitlines(), start=1) if "# BAD" in line}
    stdout, stderr, status = api.run(
        ["--strict", "--no-error-summary", "--cache-dir", str(ROOT / ".mypy_cache"), str(cases)]
    )
    assert status == 1, stdout + stderr
    errors = [line for line in stdout.splitlines() if ": error: " in line]
    flagged = {int(match.group(1)) for line in errors if (match := re.search(r":(\d+): error: ", line))}
    assert flagged == bad_lines, stdout
