"""Running a plan: each work item in a thread of its own, N at once, exclusive items alone.

Threads, as Schemathesis' own `--workers`: a run waits on the network, not on the CPU. Each item
is seeded on its own (an operation by its label, the stateful item and the scenarios by the run's
seed), so the same seed replays the same cases per item whatever ran beside it. An exclusive item
(`ScenarioCheck.exclusive`) takes the gate alone; every other item shares it. With one worker the items
run in the caller's thread, one after the other, when asked for: exactly the sequential run.

The executor never decides a verdict: failures go to the recorder while an item runs, and an
`ItemOutcome` says only whether the item ran, was skipped (and why), or crashed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from conformance.errors import AuthError, TargetUnreachable
from conformance.runner import threadsafe_ast
from conformance.runner.judge import SOFT_DEADLINE, OutOfTime
from conformance.runner.plan import ItemKind, Plan, WorkItem
from conformance.runner.scenarios import run_scenario, selected_requirements
from conformance.runner.session import RunSession
from conformance.runner.st_tests import operation_test, operations_by_label, run_stateful


class ItemStatus(StrEnum):
    RAN = "ran"  # it ran to its end (or to the end of its time share); the recorder holds its verdicts
    SKIPPED = "skipped"  # it did not run, for `reason` (nothing selected, no phase, no budget left)
    CRASHED = "crashed"  # it ended on an error of the suite or of the target; recorded as a run error


@dataclass(frozen=True)
class ItemOutcome:
    key: str
    status: ItemStatus
    reason: str | None = None
    share_used: bool = False  # its depth was cut where its share of the time budget ran out
    duration: float = 0.0
    error: BaseException | None = None


class ExclusiveGate:
    """A readers-writer lock preferring writers: exclusive items wait for the others to end, and
    no shared item starts while an exclusive one waits (so exclusive items are never starved)."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._sharing = 0
        self._exclusive = False
        self._waiting_exclusive = 0

    @contextmanager
    def hold(self, exclusive: bool) -> Iterator[None]:
        with self._condition:
            if exclusive:
                self._waiting_exclusive += 1
                self._condition.wait_for(lambda: not self._exclusive and self._sharing == 0)
                self._waiting_exclusive -= 1
                self._exclusive = True
            else:
                self._condition.wait_for(lambda: not self._exclusive and self._waiting_exclusive == 0)
                self._sharing += 1
        try:
            yield
        finally:
            with self._condition:
                if exclusive:
                    self._exclusive = False
                else:
                    self._sharing -= 1
                self._condition.notify_all()


class Executor:
    def __init__(self, session: RunSession, plan: Plan, schema: Any, workers: int | None = None) -> None:
        self.session = session
        self.plan = plan
        self.schema = schema
        self.workers = max(1, workers if workers is not None else session.settings.workers)
        self._operations: dict[str, Any] | None = None
        self._gate = ExclusiveGate()
        self._lock = threading.Lock()
        self._started: set[str] = set()
        self._outcomes: dict[str, ItemOutcome] = {}
        self._futures: dict[str, Future[ItemOutcome]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._stopping = threading.Event()

    # --- running ------------------------------------------------------------------------------
    def start(self) -> Executor:
        """With more than one worker, start every item now; `outcome` then waits for each."""
        if self.workers > 1 and self._pool is None and len(self.plan) > 0:
            threadsafe_ast.install()
            self._pool = ThreadPoolExecutor(max_workers=self.workers, thread_name_prefix="phase2-item")
            for item in self._submission_order():
                self._futures[item.key] = self._pool.submit(self.run_item, item)
        return self

    def _submission_order(self) -> list[WorkItem]:
        """Exclusive items first (alone, while nothing else runs yet), then the longest first so the
        stateful item does not start last; the plan's order otherwise."""
        exclusive = [item for item in self.plan if item.exclusive]
        shared = [item for item in self.plan if not item.exclusive]
        shared.sort(key=lambda item: -item.cost)
        return exclusive + shared

    def outcome(self, item: WorkItem) -> ItemOutcome:
        """The item's outcome: run here with one worker, else waited for."""
        with self._lock:
            done = self._outcomes.get(item.key)
        if done is not None:
            return done
        future = self._futures.get(item.key)
        if future is None:
            return self.run_item(item)
        return future.result()

    def run_all(self) -> list[ItemOutcome]:
        """Every item of the plan, in the plan's order (the CLI face without pytest)."""
        self.start()
        return [self.outcome(item) for item in self.plan]

    def stop(self) -> None:
        """No item starts from now on; running contract items end at their next case."""
        self._stopping.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def run_item(self, item: WorkItem) -> ItemOutcome:
        """Run one item in the calling thread, under the gate, and keep its outcome."""
        with self._gate.hold(item.exclusive):
            started = time.monotonic()
            with self._lock:
                self._started.add(item.key)
            token = self.session.recorder.bind_test(item.key)
            try:
                outcome = self._run(item, started)
            finally:
                self.session.recorder.unbind_test(token)
        with self._lock:
            self._outcomes[item.key] = outcome
        return outcome

    def _run(self, item: WorkItem, started: float) -> ItemOutcome:
        session = self.session

        def ended(status: ItemStatus, reason: str | None = None, **extra: Any) -> ItemOutcome:
            return ItemOutcome(item.key, status, reason, duration=round(time.monotonic() - started, 3), **extra)

        if self._stopping.is_set():
            return ended(ItemStatus.SKIPPED, "the run was stopped")
        if not session.budget.may_start():
            return ended(ItemStatus.SKIPPED, f"time budget ran out: {self._out_of_budget(item)}")
        try:
            if item.kind is ItemKind.SCENARIO:
                assert item.scenario is not None
                if not selected_requirements(session, item.scenario):
                    return ended(ItemStatus.SKIPPED, "none of its requirements is selected")
                scenarios, contract = self._pending(item)
                run_scenario(session, item.scenario, scenarios, contract)
                return ended(ItemStatus.RAN)
            deadline_token = SOFT_DEADLINE.set(time.monotonic() + self._share(item))
            session.budget.item_started()
            try:
                if item.kind is ItemKind.CONTRACT:
                    self._run_operation(item)
                else:
                    self._run_stateful()
            except OutOfTime:
                return ended(ItemStatus.RAN, share_used=True)
            finally:
                session.budget.item_finished()
                SOFT_DEADLINE.reset(deadline_token)
            return ended(ItemStatus.RAN)
        except Exception as error:
            self._record_crash(item, error)
            return ended(ItemStatus.CRASHED, f"{type(error).__name__}: {error}", error=error)

    def _run_operation(self, item: WorkItem) -> None:
        exerciser = self.session.exerciser
        assert exerciser is not None and item.operation is not None
        with self._lock:
            if self._operations is None:
                self._operations = operations_by_label(self.schema)
            operation = self._operations.get(item.operation)
        if operation is None:
            raise RuntimeError(f"Schemathesis could not load the operation {item.operation}")

        def exercise(case: Any) -> None:
            if self._stopping.is_set():
                raise OutOfTime("the run was stopped")
            exerciser.exercise(case)

        operation_test(self.schema, operation, exercise)()

    def _run_stateful(self) -> None:
        exerciser = self.session.exerciser
        assert exerciser is not None
        settings = self.session.settings
        run_stateful(
            self.schema, exerciser, settings.seed, settings.profile.stateful_examples, settings.profile.stateful_steps
        )

    def _record_crash(self, item: WorkItem, error: BaseException) -> None:
        """An item that ended on anything but the target's nonconformance leaves the run unverified."""
        if isinstance(error, AuthError | TargetUnreachable):
            self.session.lose_target(error)
            return
        text = " ".join(str(error).split())[:300] or type(error).__name__
        self.session.recorder.error(f"{item.key} could not finish: {type(error).__name__}: {text}")

    # --- the time budget (`runner.budget`: it bounds depth, never coverage) -------------------
    def _lanes(self, waiting: int) -> int:
        return max(1, min(self.workers, waiting))

    def _waiting(self, item: WorkItem) -> list[WorkItem]:
        """Items not started yet, this one included."""
        with self._lock:
            return [other for other in self.plan if other.key not in self._started or other.key == item.key]

    def _pending(self, item: WorkItem) -> tuple[int, int]:
        """Scenarios and contract items still to start per lane, this one included: what a
        scenario's deadline and depth must leave to the others."""
        waiting = self._waiting(item)
        contract = sum(1 for other in waiting if other.kind is not ItemKind.SCENARIO)
        scenarios = len(waiting) - contract
        lanes = self._lanes(len(waiting))
        return -(-scenarios // lanes), -(-contract // lanes)

    def _share(self, item: WorkItem) -> float:
        """Seconds for a contract item: its guaranteed floor and its weight's part of the spare time
        of the items still to start, on as many lanes as workers run them."""
        contract_left = [other for other in self._waiting(item) if other.kind is not ItemKind.SCENARIO]
        return self.session.budget.contract_share(
            len(contract_left),
            item.cost,
            sum(other.cost for other in contract_left),
            lanes=self._lanes(len(contract_left)),
        )

    def _out_of_budget(self, item: WorkItem) -> str:
        """An item that could not start even past the budget: its requirements say why, and the run errs."""
        from conformance.runner.outcome import _unselected_reason

        session = self.session
        reason = (
            f"the time budget of {session.settings.time_budget:g}s ran out before {item.key} could run "
            f"(even {session.budget.overrun_limit:g}s past it for the guaranteed share); give a larger --time-budget"
        )
        for requirement_id in item.requirements:
            if _unselected_reason(session.catalog.get(requirement_id), session.settings) is None:
                session.recorder.mark_blocked(requirement_id, reason)
        session.recorder.error(reason)
        return reason
