"""Running a plan: each work item in a thread of its own, N at once, exclusive items alone.

Threads, as Schemathesis' own `--workers`: a run waits on the network, not on the CPU. Each item
is seeded on its own (an operation by its label, the stateful item and the scenarios by the run's
seed), so the same seed replays the same cases per item whatever ran beside it. An exclusive item
(`ScenarioCheck.exclusive`) takes the gate alone, until it is done with what needs the target to itself
(`checks.lanes.share_the_target`); every other item shares it. With one worker the items
run in the caller's thread, one after the other, when asked for: exactly the sequential run.

The executor never decides a verdict: failures go to the recorder while an item runs, and an
`ItemOutcome` says only whether the item ran, was skipped (and why), or crashed.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from contextlib import contextmanager
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any

from conformance.checks.lanes import SHARE_THE_TARGET, lanes_for
from conformance.client.api_client import RunStopped
from conformance.errors import AuthError, TargetUnreachable
from conformance.results import Failure, TestOutcome, Waiver
from conformance.runner import threadsafe_ast
from conformance.runner.budget import MIN_CASES
from conformance.runner.case_lanes import CaseLanes
from conformance.runner.judge import SOFT_DEADLINE, OutOfTime
from conformance.runner.plan import ItemKind, Plan, WorkItem
from conformance.runner.scenarios import run_scenario, selected_requirements
from conformance.runner.session import RunSession
from conformance.runner.st_tests import operation_test, operations_by_label, run_stateful
from conformance.waivers import covering, describe


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
    # When it entered the gate, in seconds after the executor was made, and how long it waited there
    # (for exclusive items, or for them): where a run's wall time goes (`benchmarks.remote_latency`).
    started: float | None = None
    waited: float | None = None


class ExclusiveGate:
    """A readers-writer lock preferring writers: exclusive items wait for the others to end, and
    no shared item starts while an exclusive one waits (so exclusive items are never starved).

    An exclusive holder may `share` before it ends: from then on the others may start beside the
    rest of it. An item that shares after writing (`CheckSpec.shares_after_writing`: a pagination
    walk needs the target to itself only while it creates what it walks) waits only for shared
    items and for an exclusive item's part alone, not for what others do after sharing; every
    other exclusive item waits for those too."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._sharing = 0  # shared items running
        self._shared_by_exclusive = 0  # exclusive items running after `share`
        self._alone = False  # an exclusive item runs its part alone
        # Exclusive items waiting, in the order they came: they enter in that order, so those the
        # executor submits first (the ones that never share) are not overtaken by one that shares,
        # whose reading part they would then wait for with every worker thread held.
        self._waiting_exclusive: deque[object] = deque()

    @property
    def exclusive_waiting(self) -> int:
        """Exclusive items waiting to enter."""
        with self._condition:
            return len(self._waiting_exclusive)

    @contextmanager
    def hold(self, exclusive: bool, shares_after_writing: bool = False) -> Iterator[Callable[[], None]]:
        """Hold the gate; what it yields ends an exclusive hold's part alone (a no-op when shared)."""
        with self._condition:
            if exclusive:
                ticket = object()
                self._waiting_exclusive.append(ticket)
                try:
                    self._condition.wait_for(
                        lambda: (
                            self._waiting_exclusive[0] is ticket
                            and not self._alone
                            and self._sharing == 0
                            and (shares_after_writing or self._shared_by_exclusive == 0)
                        )
                    )
                finally:
                    # Entered or interrupted (a signal), it no longer waits: the next may go.
                    self._waiting_exclusive.remove(ticket)
                    self._condition.notify_all()
                self._alone = True
            else:
                self._condition.wait_for(lambda: not self._alone and not self._waiting_exclusive)
                self._sharing += 1
        alone = exclusive

        def share() -> None:
            nonlocal alone
            with self._condition:
                if alone:
                    alone = False
                    self._alone = False
                    self._shared_by_exclusive += 1
                    self._condition.notify_all()

        try:
            yield share
        finally:
            with self._condition:
                if alone:
                    self._alone = False
                elif exclusive:
                    self._shared_by_exclusive -= 1
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
        self._made = time.monotonic()

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
        """Exclusive items first (alone, while nothing else runs yet), those that share after writing
        last among them (the others would wait for what they do after sharing); then, and among
        those, the longest first by the plan's costs, so that no long item starts last and ends
        the run alone (longest-processing-time order); the plan's order otherwise."""
        exclusive = [item for item in self.plan if item.exclusive]
        exclusive.sort(key=lambda item: (item.shares_after_writing, -item.cost))
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

    def run_all(self, on_finished: Callable[[WorkItem, ItemOutcome], None] | None = None) -> list[ItemOutcome]:
        """Every item of the plan (the CLI face, no pytest): `on_finished` hears of each item as it
        ends (in the plan's order with one worker, as they finish with several). Returns the
        outcomes in the plan's order. A signal raises here, in the caller's thread: the caller
        then calls `stop` and `join`."""
        self.start()
        if self._pool is None:
            for item in self.plan:
                outcome = self.outcome(item)
                if on_finished is not None:
                    on_finished(item, outcome)
        else:
            items = {future: self.plan.get(key) for key, future in self._futures.items()}
            for future in as_completed(items):
                outcome = future.result()
                if on_finished is not None:
                    on_finished(items[future], outcome)
        return [self.outcome(item) for item in self.plan]

    def stop(self) -> None:
        """No item starts from now on; running items end at their next request or case (a
        scenario still runs its cleanups)."""
        self._stopping.set()
        self.session.stopping.set()
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)

    def join(self) -> None:
        """Wait until every item's thread has ended: after it, nothing of the run is still running."""
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def close(self) -> None:
        """The run is over: stop what still runs and wait for it (both faces, signal or not)."""
        self.stop()
        self.join()

    def run_item(self, item: WorkItem) -> ItemOutcome:
        """Run one item in the calling thread, under the gate, and keep its outcome."""
        asked = time.monotonic()
        with self._gate.hold(item.exclusive, item.shares_after_writing) as share:
            started = time.monotonic()
            with self._lock:
                self._started.add(item.key)
            token = self.session.recorder.bind_test(item.key)
            sharing = SHARE_THE_TARGET.set(share)
            try:
                outcome = replace(
                    self._run(item, started),
                    started=round(started - self._made, 3),
                    waited=round(started - asked, 3),
                )
            finally:
                SHARE_THE_TARGET.reset(sharing)
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
                if self._stopping.is_set():
                    return ended(ItemStatus.SKIPPED, "the run was stopped")
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
        except RunStopped:
            return ended(ItemStatus.SKIPPED, "the run was stopped")
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

        with CaseLanes(exerciser.send, lanes_for(self.workers)) as lanes:

            def exercise(case: Any) -> None:
                if self._stopping.is_set():
                    raise OutOfTime("the run was stopped")
                if lanes.submitted == MIN_CASES:
                    # The budget's floor is what the first cases cost answered, not queued.
                    lanes.drain()
                exerciser.admit(case)
                lanes.submit(case)

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
        reason = f"the time budget of {session.settings.time_budget:g}s ran out before {item.key} could run " + (
            "(the target rate-limited the run beyond its budget)"
            if session.budget.overrun_ended
            else f"(even {session.budget.overrun_limit:g}s past it for the guaranteed share)"
        )
        reason += "; give a larger --time-budget"
        for requirement_id in item.requirements:
            if _unselected_reason(session.catalog.get(requirement_id), session.settings) is None:
                session.recorder.mark_blocked(requirement_id, reason)
        session.recorder.error(reason)
        return reason


def failure_lines(failures: Sequence[Failure], waivers: Sequence[Waiver]) -> list[str]:
    """One line per failure an item recorded (its requirement, operation and title), marked when waived."""
    return [
        f"{f.requirement_id} {f.operation or ''}: {f.title}{' [waived]' if covering(f, waivers) else ''}"
        for f in failures
    ]


CUT_BY_SHARE = "its depth was cut where its share of the time budget ran out"
SHOWN_FAILURES = 20  # failures one item's message lists; the reports hold them all


def test_outcome(
    item: WorkItem, outcome: ItemOutcome, failures: Sequence[Failure], waivers: Sequence[Waiver]
) -> TestOutcome:
    """What one item came to, the same in both faces: passed, failed (it recorded a failure no
    waiver covers, or it crashed), skipped (not run, with the reason; or every failure waived)."""
    name = item.key.split("::")[-1]

    def made(result: str, message: str | None = None) -> TestOutcome:
        return TestOutcome(
            item.key, name, result, outcome.duration, item.requirements, message, outcome.started, outcome.waited
        )

    if outcome.status is ItemStatus.SKIPPED:
        return made("skipped", outcome.reason or "not run")
    if outcome.status is ItemStatus.CRASHED:
        return made("failed", outcome.reason or "the item crashed")
    if not failures:
        return made("passed", CUT_BY_SHARE if outcome.share_used else None)
    covers = [covering(f, waivers) for f in failures]
    if all(covers):
        return made("skipped", "; ".join(dict.fromkeys(describe(w) for w in covers if w is not None)))
    lines = failure_lines(failures[:SHOWN_FAILURES], waivers)
    if len(failures) > SHOWN_FAILURES:  # the count is always complete: the rest are in the reports
        lines.append(f"and {len(failures) - SHOWN_FAILURES} more (every one is in summary.json and report.html)")
    return made("failed", "nonconformance:\n  " + "\n  ".join(lines))
