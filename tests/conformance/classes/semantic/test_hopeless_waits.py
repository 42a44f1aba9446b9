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


# Scenarios of four classes that need a running runtime: the lifecycle itself, runtime filters,
# deleted resources, representations, and the three tenant-isolation scenarios.
NEED_RUNNING = ("P2-SEM-010", "P2-SEM-014", "P2-CON-010", "P2-PRO-003", "P2-AUTH-019", "P2-AUTH-020", "P2-AUTH-021")
BLOCKED_BY_MEMORY = "runtimes do not reach running"  # the reason of a scenario blocked without waiting
FRESH_WAIT = "a runtime did not reach running"  # the reason of a scenario that waited itself


def test_a_broken_precondition_blocks_every_class_at_once(run_suite: Callable[..., SuiteRun]) -> None:
    """Runtimes never reach `running`: one scenario finds out, the others are blocked with that
    reason at once. Counted, not timed: the failing run polls the runtimes no more than a passing one."""
    selection = ["--reference", "--profile", "standard", "--seed", "5", "--workers", "1"]
    for requirement_id in NEED_RUNNING:
        selection += ["--requirement", requirement_id]
    passing = run_suite(*selection)
    failing = run_suite(*selection, "--reference-fault", "uppercase-running-status")
    assert passing.exit_code == 0, passing.stdout[-3000:]
    assert failing.exit_code == 1, failing.stdout[-3000:]
    requirements = failing.summary["requirements"]
    assert requirements["P2-SEM-010"]["status"] == "failed"
    blocked = {rid: requirements[rid]["reason"] for rid in ("P2-SEM-014", "P2-AUTH-019", "P2-AUTH-020", "P2-AUTH-021")}
    assert all(requirements[rid]["status"] == "skipped" for rid in blocked), blocked
    assert all("'RUNNING'" in reason for reason in blocked.values()), blocked
    # At most one scenario waited for running; every other one was blocked by what it found.
    assert sum(FRESH_WAIT in reason for reason in blocked.values()) <= 1, blocked
    assert sum(BLOCKED_BY_MEMORY in reason for reason in blocked.values()) >= len(blocked) - 1, blocked

    def polls(run: SuiteRun) -> int:
        return int(run.summary["operations"]["getRuntime"]["requests"])

    # One full wait alone would poll the runtime about `runtime_timeout / MAX_INTERVAL` times.
    from conformance.classes.shared.lifecycle import MAX_INTERVAL

    full_wait = PROFILES["standard"].runtime_timeout / MAX_INTERVAL
    assert polls(failing) < polls(passing) + full_wait / 2, (polls(failing), polls(passing))
