"""--time-budget bounds a deep run's depth: it ends on time and passes what it tested."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import SuiteRun

BUDGET = 25
GRACE = 10  # start-up, the reference's own start and the last item's final requests


def test_a_nightly_run_ends_within_its_budget(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite(
        "--reference", "--profile", "nightly", "--seed", "3", "--time-budget", str(BUDGET),
        "--classes", "contract,protocol,health",
    )  # fmt: skip
    summary = run.summary
    assert summary["duration_seconds"] < BUDGET + GRACE
    assert run.exit_code == 0, run.stdout[-3000:]
    contract_items = [t for t in summary["tests"] if t["name"].startswith("test_contract[")]
    assert contract_items and all(t["outcome"] == "passed" for t in contract_items)
    assert summary["counts"]["requests"] > 500, "the budget was used, not skipped"
