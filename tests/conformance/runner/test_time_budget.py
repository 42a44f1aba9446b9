"""--time-budget bounds a deep run's depth, never its coverage: every selected class is evaluated."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator

import pytest

from conformance.contract import load_catalog
from conformance.runner.budget import FLOOR_ESTIMATE, MIN_CASES, SCENARIO_FLOOR, TimeBudget
from tests.conftest import SuiteRun

BUDGET = 25
# The engine's own accounting, not the machine's speed: items may run past the budget only for
# their guaranteed share, up to the overrun limit (on a saturated machine the floors grow).
OVERRUN = TimeBudget(BUDGET, 0.0).overrun_limit


def test_a_nightly_run_ends_within_its_budget(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite(
        "--reference", "--profile", "nightly", "--seed", "3", "--time-budget", str(BUDGET),
        "--classes", "contract,protocol,health",
    )  # fmt: skip
    summary = run.summary
    assert summary["duration_seconds"] < BUDGET + OVERRUN
    assert run.exit_code == 0, run.stdout[-3000:]
    contract_items = [t for t in summary["tests"] if t["name"].startswith("test_contract[")]
    assert contract_items and all(t["outcome"] == "passed" for t in contract_items)
    assert summary["counts"]["requests"] > 500, "the budget was used, not skipped"
    assert "time budget 25s" in run.stdout


@pytest.fixture
def saturated_cores() -> Iterator[None]:
    """Busy loops on every core for as long as the test runs (each also ends itself after 10 min)."""
    loop = "import time\nend = time.monotonic() + 600\nwhile time.monotonic() < end:\n    pass\n"
    spinners = [subprocess.Popen([sys.executable, "-c", loop]) for _ in range(os.cpu_count() or 2)]
    try:
        yield
    finally:
        for spinner in spinners:
            spinner.kill()
            spinner.wait()


def test_a_budgeted_run_on_saturated_cores_still_evaluates_every_class(
    run_suite: Callable[..., SuiteRun], saturated_cores: None
) -> None:
    # The case: nightly depth, all six classes, a small budget, a machine with no core free.
    run = run_suite("--reference", "--profile", "nightly", "--seed", "3", "--time-budget", str(BUDGET))
    summary = run.summary
    unevaluated = {
        rid: result["reason"] for rid, result in summary["requirements"].items() if result["status"] == "skipped"
    }
    assert unevaluated == {}, run.stdout[-3000:]
    assert not any("time budget" in error for error in summary["errors"]), summary["errors"]
    assert run.exit_code == 0, run.stdout[-3000:]
    classes = {requirement.cls for requirement in load_catalog()}
    assert {r["class"] for r in summary["requirements"].values() if r["status"] == "passed"} == classes


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_contract_item_gets_its_floor_and_a_part_of_the_spare_time() -> None:
    clock = Clock()
    budget = TimeBudget(60, clock.now, clock=clock)
    assert budget.contract_share(10) == FLOOR_ESTIMATE + (60 - 10 * FLOOR_ESTIMATE) / 10
    # The run measures what an item's first MIN_CASES cases cost, and shares by that.
    budget.item_started()
    for _ in range(MIN_CASES + 1):
        clock.now += 0.5
        budget.case_started()
    budget.item_finished()
    floor = (MIN_CASES + 1) * 0.5
    assert budget.floor() == floor
    # The last item gets everything left: nothing is reserved for what already ran.
    assert budget.contract_share(1) == pytest.approx(budget.time_left)
    # The stateful item, one for every operation, weighs more than one operation's item.
    left = budget.time_left
    assert budget.contract_share(2, 1.0, 4.0) == pytest.approx(floor + (left - 2 * floor) / 4)
    # Out of time: still the floor (coverage), and items may start until the overrun limit.
    clock.now = budget.deadline + 1
    assert budget.contract_share(5) == floor
    assert budget.may_start()
    clock.now = budget.deadline + budget.overrun_limit + 1
    assert not budget.may_start()


def test_scenario_waits_leave_the_contract_floors_but_never_drop_below_their_own() -> None:
    clock = Clock()
    budget = TimeBudget(100, clock.now, clock=clock)
    assert budget.scenario_deadline(20) - clock.now == 100 - 20 * FLOOR_ESTIMATE
    assert budget.scenario_deadline(200) - clock.now == SCENARIO_FLOOR
