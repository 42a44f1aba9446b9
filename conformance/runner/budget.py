"""Sharing a run's time budget: it bounds depth, never coverage.

Coverage is what every selected class needs to be evaluated at all: each scenario check run
once, and each contract item (one per operation, and the stateful one) sent at least its first
`MIN_CASES` generated cases. Depth is everything beyond: more fuzzing, longer stateful runs.

- Scenario checks run first. They cannot be cut short; the deadline their waits see leaves the
  contract items' guaranteed shares, but never less than `SCENARIO_FLOOR`. A scenario whose
  share is under `DEEP_SCENARIO_SHARE` runs at the least depth (`shallow`): the quick profile's
  walk sizes and samples, which evaluate the same requirements with fewer resources.
- Each contract item then gets its guaranteed share (its floor: what reaching `MIN_CASES` cases
  costs, measured as the run goes) plus an equal part of what is left beyond every remaining
  item's floor. The last item gets all that is left, with no reserve for what already ran.
- Past the budget, items still get their floor (coverage), up to `overrun_limit` past it (the
  start-up alone can take much of a small budget on a busy machine); an item that cannot start
  even then is reported as having run out, with a reason on its requirements. Not when the
  target rate-limits the run beyond its budget (`end_overrun`): every 429 past the budget is given
  up at once, so items started there would verify nothing and only make the run longer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

MIN_CASES = 5  # generated cases every contract item is guaranteed: its examples, the least coverage
FLOOR_ESTIMATE = 0.5  # seconds to reach MIN_CASES, until the run has measured it
SCENARIO_FLOOR = 15.0  # seconds a scenario's waits may always use (a span export, a runtime start)
SCENARIO_BUDGET = 120.0  # seconds one scenario may take at most, whatever the run's budget
MIN_OVERRUN = 60.0  # seconds coverage may always run past the budget (a safety net, not a target)
DEEP_SCENARIO_SHARE = 3.0  # seconds of share under which a scenario runs at the least depth


class TimeBudget:
    def __init__(self, budget: float, started: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.budget = budget
        self.deadline = started + budget
        self._clock = clock
        self._lock = threading.Lock()
        self._floor_samples: list[float] = []
        # The contract item each thread runs: items run concurrently, each measured on its own.
        self._items = threading.local()
        self.overrun_ended = False  # the target rate-limited the run beyond its budget

    @property
    def time_left(self) -> float:
        return self.deadline - self._clock()

    @property
    def overrun_limit(self) -> float:
        """How far past the budget items may still start, for their guaranteed share only."""
        return max(MIN_OVERRUN, self.budget)

    def may_start(self) -> bool:
        left = self.time_left
        return left > 0 or (left > -self.overrun_limit and not self.overrun_ended)

    def end_overrun(self) -> None:
        """A request was given up because its 429's wait would not fit in the budget: past the
        budget, no item starts."""
        self.overrun_ended = True

    # --- measuring a contract item's floor ----------------------------------------------------
    def floor(self) -> float:
        """Seconds a contract item needs to reach its first MIN_CASES cases (the run's median so far)."""
        with self._lock:
            samples = sorted(self._floor_samples)
        return samples[len(samples) // 2] if samples else FLOOR_ESTIMATE

    def item_started(self) -> None:
        self._items.started, self._items.cases = self._clock(), 0

    def case_started(self) -> None:
        started: float | None = getattr(self._items, "started", None)
        if started is None:
            return
        self._items.cases += 1
        if self._items.cases == MIN_CASES + 1:
            with self._lock:
                self._floor_samples.append(self._clock() - started)

    def item_finished(self) -> None:
        started: float | None = getattr(self._items, "started", None)
        # An item with no more than MIN_CASES cases: its whole run was its floor.
        if started is not None and 0 < self._items.cases <= MIN_CASES:
            with self._lock:
                self._floor_samples.append(self._clock() - started)
        self._items.started = None

    # --- shares -------------------------------------------------------------------------------
    def contract_share(
        self, remaining_items: int, weight: float = 1.0, remaining_weight: float | None = None, lanes: int = 1
    ) -> float:
        """Seconds for this contract item, `remaining_items` counting it and those after it.

        Its floor, plus its `weight`'s part of the spare time (`remaining_weight`: the weights of
        it and those after it; by default one each). With `lanes` items running at once, the time
        left is there on each lane; no share reaches past the budget's end (beyond the floor)."""
        remaining = max(remaining_items, 1)
        floor = self.floor()
        spare = self.time_left * max(lanes, 1) - remaining * floor
        total = remaining_weight if remaining_weight is not None else float(remaining)
        share = floor + max(spare, 0.0) * weight / max(total, weight)
        return min(share, max(self.time_left, floor))

    def scenario_share(self, remaining_scenarios: int, remaining_contract_items: int) -> float:
        """Seconds for this scenario: an equal part of what the contract items' floors leave."""
        spare = self.time_left - remaining_contract_items * self.floor()
        return spare / max(remaining_scenarios, 1)

    def shallow(self, remaining_scenarios: int, remaining_contract_items: int) -> bool:
        """Whether this scenario must run at the least depth to leave every other item its share."""
        return self.scenario_share(remaining_scenarios, remaining_contract_items) < DEEP_SCENARIO_SHARE

    def scenario_deadline(self, remaining_contract_items: int) -> float:
        """When a scenario's waits must end: before the contract items' floors, within its bounds."""
        reserve = remaining_contract_items * self.floor()
        allowed = min(max(self.time_left - reserve, SCENARIO_FLOOR), SCENARIO_BUDGET)
        return self._clock() + allowed
