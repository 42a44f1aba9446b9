"""A wait that can no longer succeed ends at once, and a precondition shown broken blocks the
scenarios needing it at once: a failing run takes about as long as a passing one."""

from __future__ import annotations

from collections.abc import Callable

from conformance.profiles import PROFILES
from tests.conftest import SuiteRun


def test_runtimes_reporting_a_status_outside_the_enum_end_every_wait_at_once(
    run_suite: Callable[..., SuiteRun],
) -> None:
    run = run_suite(
        "--reference", "--reference-fault", "uppercase-running-status", "--profile", "standard",
        "--classes", "semantic",
    )  # fmt: skip
    assert run.exit_code == 1, run.stdout[-3000:]
    summary = run.summary
    lifecycle = summary["requirements"]["P2-SEM-010"]
    assert lifecycle["status"] == "failed"
    assert any("'RUNNING' is not a runtime status" in f["message"] for f in lifecycle["failures"])
    # Scenarios needing a running runtime are blocked with the reason, not after a wait of their own.
    filters = summary["requirements"]["P2-SEM-014"]
    assert filters["status"] == "skipped" and "runtimes do not reach running" in filters["reason"]
    # Each wait used to last the profile's runtime timeout; no item may now take that long (the
    # engine's own per-item clock: on a saturated machine the passing run's items take seconds).
    timeout = PROFILES["standard"].runtime_timeout
    slowest = max(summary["tests"], key=lambda test: test["duration"])
    assert slowest["duration"] < timeout, slowest
