"""The engine's executor: items run concurrently, exclusive ones alone, each seeded on its own,
with the verdict of a sequential run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from conformance.client.secrets import Redactor
from conformance.contract import load_catalog, load_contract
from conformance.recorder import Recorder
from conformance.runner.case_lanes import CaseLanes
from conformance.runner.executor import ExclusiveGate
from conformance.runner.plan import ItemKind, build_plan
from conformance.runner.st_config import schemathesis_config
from conformance.runner.st_tests import operation_test, operations_by_label
from conformance.settings import Settings, load_settings
from tests.conftest import UNCUT, SuiteRun

PATIENCE = 30.0  # seconds an event-driven wait may take on a saturated machine before it is a failure


def _settings(tmp_path: Path, **values: Any) -> Settings:
    return load_settings({"reference": True, "report_dir": str(tmp_path), **values}, env={})


def test_an_exclusive_item_waits_for_the_others_and_keeps_new_ones_out() -> None:
    gate = ExclusiveGate()
    shared_release, exclusive_entered, late_entered = threading.Event(), threading.Event(), threading.Event()
    shared_in = threading.Event()

    def shared() -> None:
        with gate.hold(exclusive=False):
            shared_in.set()
            shared_release.wait(PATIENCE)

    def exclusive() -> None:
        with gate.hold(exclusive=True):
            exclusive_entered.set()
            # While the exclusive item runs, the late shared item must still be outside.
            assert not late_entered.is_set()

    def late_shared() -> None:
        with gate.hold(exclusive=False):
            late_entered.set()

    first = threading.Thread(target=shared)
    first.start()
    assert shared_in.wait(PATIENCE)
    waiting = threading.Thread(target=exclusive)
    waiting.start()
    late = threading.Thread(target=late_shared)
    late.start()
    # Neither may enter while the first shared item holds the gate (a wait that can only be cut short).
    assert not exclusive_entered.wait(0.3)
    assert not late_entered.is_set(), "a shared item started while an exclusive one was waiting"
    shared_release.set()
    assert exclusive_entered.wait(PATIENCE)
    assert late_entered.wait(PATIENCE)
    for thread in (first, waiting, late):
        thread.join(PATIENCE)


def test_walks_that_share_after_writing_overlap_and_an_item_alone_waits_for_them() -> None:
    """Two pagination walks (of different lists) and a shared item run at once once each walk has
    created its items; an item that must be alone (exact counters) waits for all of them."""
    gate = ExclusiveGate()
    first_in, second_in, shared_in, alone_in = (threading.Event() for _ in range(4))
    release_first, release_second = threading.Event(), threading.Event()

    def walk(entered: threading.Event, release: threading.Event) -> None:
        with gate.hold(exclusive=True, shares_after_writing=True) as share:
            entered.set()
            share()  # its items are created: what remains only reads
            release.wait(PATIENCE)

    def shared() -> None:
        with gate.hold(exclusive=False):
            shared_in.set()

    def alone() -> None:
        with gate.hold(exclusive=True):
            alone_in.set()

    first = threading.Thread(target=walk, args=(first_in, release_first))
    first.start()
    assert first_in.wait(PATIENCE)
    second = threading.Thread(target=walk, args=(second_in, release_second))
    second.start()
    assert second_in.wait(PATIENCE), "a walk waited for another walk's reading part"
    beside = threading.Thread(target=shared)
    beside.start()
    assert shared_in.wait(PATIENCE), "a shared item waited for the walks' reading parts"
    last = threading.Thread(target=alone)
    last.start()
    assert not alone_in.wait(0.3)  # a wait that can only be cut short
    release_first.set()
    first.join(PATIENCE)
    assert not alone_in.wait(0.3), "an item that must be alone ran beside a walk"
    release_second.set()
    assert alone_in.wait(PATIENCE)
    for thread in (second, beside, last):
        thread.join(PATIENCE)


def test_exclusive_items_enter_in_the_order_they_came() -> None:
    gate = ExclusiveGate()
    entered: list[int] = []
    holding, release = threading.Event(), threading.Event()

    def first() -> None:
        with gate.hold(exclusive=True):
            holding.set()
            release.wait(PATIENCE)

    def later(number: int) -> None:
        with gate.hold(exclusive=True, shares_after_writing=number % 2 == 0):
            entered.append(number)

    threads = [threading.Thread(target=first)]
    threads[0].start()
    assert holding.wait(PATIENCE)
    for number in range(1, 6):
        thread = threading.Thread(target=later, args=(number,))
        thread.start()
        threads.append(thread)
        # Queued behind the holder before the next one comes.
        assert _eventually(lambda queued=number: gate.exclusive_waiting == queued)
    assert entered == []
    release.set()
    for thread in threads:
        thread.join(PATIENCE)
    assert entered == [1, 2, 3, 4, 5]


def _eventually(condition: Callable[[], bool]) -> bool:
    """Whether `condition` holds within PATIENCE, polled (for state no event announces)."""
    done = threading.Event()
    for _ in range(int(PATIENCE / 0.01)):
        if condition():
            return True
        done.wait(0.01)
    return condition()


def test_failures_belong_to_the_item_of_the_thread_that_recorded_them() -> None:
    recorder = Recorder(load_catalog(), Redactor())
    barrier = threading.Barrier(2)

    def item(key: str, requirement_id: str) -> None:
        token = recorder.bind_test(key)
        try:
            barrier.wait(PATIENCE)  # both bound at once: a single attribute would mix them up
            recorder.failed(requirement_id, f"broken in {key}", "", check="test")
        finally:
            recorder.unbind_test(token)

    threads = [
        threading.Thread(target=item, args=("item-a", "P2-PRO-001")),
        threading.Thread(target=item, args=("item-b", "P2-PRO-002")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(PATIENCE)
    assert [f.requirement_id for f in recorder.failures_for_test("item-a")] == ["P2-PRO-001"]
    assert [f.requirement_id for f in recorder.failures_for_test("item-b")] == ["P2-PRO-002"]
    assert recorder.current_test is None


def test_a_recorder_never_sees_an_item_another_recorder_bound() -> None:
    # Two runs in one process (the plugin's own tests make many): a binding left by one must not
    # send the other's failures to an item that is not its own.
    first, second = Recorder(load_catalog(), Redactor()), Recorder(load_catalog(), Redactor())
    token = first.bind_test("item-of-the-first-run")
    try:
        assert first.current_test == "item-of-the-first-run"
        assert second.current_test is None
        second.failed("P2-PRO-001", "broken", "", check="test")
        assert second.failures_for_test("item-of-the-first-run") == []
    finally:
        first.unbind_test(token)
    assert first.current_test is None


def _generated(schema: Any, label: str) -> Callable[[], dict[str, Any]]:
    """The cases one operation's test draws, per phase: examples and fuzzing in order; coverage as
    a set (Schemathesis skips coverage cases an earlier run of the process already sent, so only
    the set is stable between two runs, threads or not)."""
    operation = operations_by_label(schema)[label]

    def cases() -> dict[str, Any]:
        seen: list[tuple[str, str]] = []

        def exercise(case: Any) -> None:
            phase = case.meta.phase.name.value if case.meta is not None else "?"
            seen.append((phase, repr((case.path_parameters, case.query, case.body))))

        operation_test(schema, operation, exercise)()
        by_phase: dict[str, Any] = {}
        for phase, drawn in seen:
            by_phase.setdefault(phase, []).append(drawn)
        if "coverage" in by_phase:
            by_phase["coverage"] = set(by_phase["coverage"])
        return by_phase

    return cases


def test_an_operation_draws_the_same_cases_alone_or_beside_another(tmp_path: Path) -> None:
    """Each item is seeded by its operation: what runs beside it changes nothing it generates."""
    settings = _settings(tmp_path, profile="standard")
    config = SchemathesisConfig.from_dict(schemathesis_config(settings, "http://127.0.0.1:1/v2"))
    schema = schemathesis.openapi.from_path(load_contract().path, config=config)
    worlds, runtimes = _generated(schema, "POST /worlds"), _generated(schema, "POST /runtimes")

    alone = worlds()
    beside: dict[str, dict[str, Any]] = {}
    threads = [
        threading.Thread(target=lambda: beside.__setitem__("worlds", worlds())),
        threading.Thread(target=lambda: beside.__setitem__("runtimes", runtimes())),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert {"examples", "coverage", "fuzzing"} <= set(alone)
    assert len(alone["fuzzing"]) > 5
    assert beside["worlds"] == alone
    assert beside["runtimes"] == runtimes()


def test_an_operation_sends_the_same_cases_through_lanes(tmp_path: Path) -> None:
    """An item's cases on four lanes are the cases of its sequential run: drawing does not depend
    on the answers, so the same seed replays the same cases, whatever order they went out in."""
    settings = _settings(tmp_path, profile="standard")
    config = SchemathesisConfig.from_dict(schemathesis_config(settings, "http://127.0.0.1:1/v2"))
    schema = schemathesis.openapi.from_path(load_contract().path, config=config)
    label = "PATCH /worlds/{world_id}"
    sequential = _generated(schema, label)()
    sent: list[tuple[str, str]] = []
    lock = threading.Lock()

    def send(case: Any) -> None:
        phase = case.meta.phase.name.value if case.meta is not None else "?"
        with lock:
            sent.append((phase, repr((case.path_parameters, case.headers, case.query, case.body))))

    with CaseLanes(send, 4) as lanes:
        operation_test(schema, operations_by_label(schema)[label], lanes.submit)()
    through_lanes: dict[str, list[str]] = {}
    for phase, drawn in sent:
        through_lanes.setdefault(phase, []).append(drawn)
    assert set(through_lanes) == set(sequential)
    assert sorted(through_lanes["fuzzing"]) == sorted(_with_headers(schema, label, "fuzzing"))
    assert len(through_lanes["examples"]) == len(sequential["examples"])
    assert len(through_lanes["fuzzing"]) == len(sequential["fuzzing"])


def _with_headers(schema: Any, label: str, phase: str) -> list[str]:
    """The cases of one phase of an operation's sequential run, as `send` above describes them."""
    drawn: list[str] = []

    def exercise(case: Any) -> None:
        if case.meta is not None and case.meta.phase.name.value == phase:
            drawn.append(repr((case.path_parameters, case.headers, case.query, case.body)))

    operation_test(schema, operations_by_label(schema)[label], exercise)()
    return drawn


def test_the_plan_orders_scenarios_first_and_marks_interfering_ones_exclusive(tmp_path: Path) -> None:
    from conformance.checks import load_checks
    from conformance.checks.registry import REGISTRY

    load_checks(())
    settings = _settings(tmp_path, profile="standard")
    plan = build_plan(settings, load_contract(), load_catalog(), REGISTRY.scenarios())
    kinds = [item.kind for item in plan]
    assert kinds == sorted(kinds, key=[ItemKind.SCENARIO, ItemKind.CONTRACT, ItemKind.STATEFUL].index)
    assert len({item.key for item in plan}) == len(plan)
    exclusive = {item.name for item in plan if item.exclusive}
    assert {"check_counter_exact", "check_readiness_outage", "check_event_pagination"} <= exclusive
    # The walks need the target alone only while they create their items.
    sharing = {item.name for item in plan if item.shares_after_writing}
    assert sharing == {"check_world_pagination", "check_runtime_pagination", "check_event_pagination"}
    assert "check_counter_exact" not in sharing
    assert all(item.kind is ItemKind.SCENARIO for item in plan if item.exclusive)
    assert plan.of_kind(ItemKind.STATEFUL)[0].cost > 1


def test_the_longest_items_start_first_after_the_exclusive_ones(tmp_path: Path) -> None:
    """Longest-processing-time order from the plan's costs: a long item started last would end the
    run alone. The stateful item, then the scenarios declared long, then the operations, then the
    usual scenarios; the walks, which share after writing, after the other exclusive items."""
    from conformance.checks import load_checks
    from conformance.checks.registry import REGISTRY
    from conformance.runner.executor import Executor

    load_checks(())
    plan = build_plan(_settings(tmp_path, profile="standard"), load_contract(), load_catalog(), REGISTRY.scenarios())
    order = Executor(cast(Any, None), plan, None, workers=8)._submission_order()
    assert sorted(item.key for item in order) == sorted(item.key for item in plan)
    exclusive = [item for item in order if item.exclusive]
    assert order[: len(exclusive)] == exclusive
    walks = [item for item in exclusive if item.shares_after_writing]
    assert exclusive[-len(walks) :] == walks and walks[0].name == "check_runtime_pagination"
    shared = order[len(exclusive) :]
    assert [item.cost for item in shared] == sorted((item.cost for item in shared), reverse=True)
    assert shared[0].kind is ItemKind.STATEFUL
    position = {item.name: index for index, item in enumerate(shared)}
    first_operation = min(index for index, item in enumerate(shared) if item.kind is ItemKind.CONTRACT)
    last_operation = max(index for index, item in enumerate(shared) if item.kind is ItemKind.CONTRACT)
    assert position["check_undeclared_methods"] < first_operation < last_operation < position["check_liveness"]


def _statuses(run: SuiteRun) -> dict[str, str]:
    return {rid: entry["status"] for rid, entry in run.summary["requirements"].items()}


# A skipping list also hides events from the scenarios that look for them, which then block or
# not depending on how long the event list is when they run: its runs select the walks' rules and
# the contract items that run beside them.
WALKS_BESIDE_CONTRACT = ("--requirement", "P2-SEM-008", "--requirement", "P2-SEM-009", "--requirement", "P2-CON-001")


# Scenarios whose requests go out side by side (lanes): the operations their probes target, the
# runtimes they wait for and the filters they walk, the odd values they send.
LANE_FAULTS = ("ignore-content-type", "accept-unknown-fields", "runtime-filter-ignored")
LANE_RULES = ("P2-PRO-010", "P2-PRO-011", "P2-SEM-014", "P2-CON-008")


@pytest.mark.parametrize(
    ("faults", "selection", "broken"),
    [
        ((), (), ()),
        (("problem-status-mismatch",), (), ("P2-PRO-001",)),
        (("pagination-skips",), WALKS_BESIDE_CONTRACT, ("P2-SEM-009",)),
        (LANE_FAULTS, tuple(a for rule in LANE_RULES for a in ("--requirement", rule)), LANE_RULES[:3]),
    ],
    ids=["reference", "faulty-reference", "skipping-pagination", "faults-under-lanes"],
)
def test_workers_give_the_sequential_verdict(
    run_suite: Callable[..., SuiteRun], faults: tuple[str, ...], selection: tuple[str, ...], broken: tuple[str, ...]
) -> None:
    """Four workers against the reference and faulty ones: the same statuses per requirement as
    one worker (whose items send one request at a time), and the items did overlap (their summed
    durations exceed the run's)."""
    arguments = ["--reference", "--profile", "quick", "--seed", "7", *UNCUT, *selection]
    for fault in faults:
        arguments += ["--reference-fault", fault]
    sequential = run_suite(*arguments, "--workers", "1")
    concurrent = run_suite(*arguments, "--workers", "4")
    assert sequential.exit_code == concurrent.exit_code == (1 if faults else 0), concurrent.stdout[-3000:]
    assert _statuses(concurrent) == _statuses(sequential)
    # The walks ran beside the contract items and each other, the probes side by side: what each
    # fault breaks is still found.
    assert set(broken) <= set(concurrent.failed_requirements())
    assert not concurrent.summary["errors"]
    busy = sum(test["duration"] for test in concurrent.summary["tests"])
    assert busy > concurrent.summary["duration_seconds"], "the items ran one after the other"
    _assert_items_alone_overlapped_nothing(concurrent)


def _assert_items_alone_overlapped_nothing(run: SuiteRun) -> None:
    """Each item says when it started and how long it waited to: an item that runs alone (exclusive,
    never sharing) overlapped no other item, by the executor's own clock."""
    tests = run.summary["tests"]
    assert all(test["started"] is not None and test["waited"] >= 0 for test in tests)
    alone = ("[check_liveness_latency]", "[check_counter_exact]", "[check_event_stream]", "[check_logout_revokes]")
    spans = {test["test_id"]: (test["started"], test["started"] + test["duration"]) for test in tests}
    tolerance = 0.002  # both ends are rounded to the millisecond
    for key, (start, end) in spans.items():
        if key.endswith(alone):
            others = [span for other, span in spans.items() if other != key]
            assert all(o_end <= start + tolerance or o_start >= end - tolerance for o_start, o_end in others), key


def test_an_items_account_is_the_same_in_both_faces() -> None:
    """`test_outcome` is what the CLI and the pytest face report per item: passed, failed, skipped."""
    from conformance.results import Waiver
    from conformance.runner.executor import ItemOutcome, ItemStatus, test_outcome
    from conformance.runner.plan import WorkItem

    item = WorkItem("test_contract.py::test_contract[GET /engine]", ItemKind.CONTRACT, "contract", ("P2-PRO-004",), 1.0)
    recorder = Recorder(load_catalog(), Redactor())
    token = recorder.bind_test(item.key)
    try:
        missing = recorder.failed("P2-PRO-004", "X-Request-ID missing", "", check="test", operation="GET /engine")
        other = recorder.failed("P2-PRO-001", "not problem+json", "", check="test", operation="GET /engine")
    finally:
        recorder.unbind_test(token)
    waiver = Waiver("P2-PRO-004", "GET /engine", "proxy strips it", "ops", "2999-01-01")
    ran = ItemOutcome(item.key, ItemStatus.RAN, duration=1.5)

    assert test_outcome(item, ran, [], ()).outcome == "passed"
    waived = test_outcome(item, ran, [missing], (waiver,))
    assert (waived.outcome, waived.message) == (
        "skipped",
        "waived on GET /engine until 2999-01-01 by ops: proxy strips it",
    )
    failed = test_outcome(item, ran, [missing, other], (waiver,))
    assert failed.outcome == "failed" and failed.duration == 1.5 and failed.requirements == ("P2-PRO-004",)
    assert failed.message == (
        "nonconformance:\n  P2-PRO-004 GET /engine: X-Request-ID missing [waived]\n"
        "  P2-PRO-001 GET /engine: not problem+json"
    )
    skipped = test_outcome(item, ItemOutcome(item.key, ItemStatus.SKIPPED, "the run was stopped"), [], ())
    assert (skipped.outcome, skipped.message) == ("skipped", "the run was stopped")
    cut = test_outcome(item, ItemOutcome(item.key, ItemStatus.RAN, share_used=True), [], ())
    assert (cut.outcome, cut.message) == ("passed", "its depth was cut where its share of the time budget ran out")
    many = [
        recorder.failed("P2-PRO-001", f"not problem+json #{n}", "", check="test", operation="GET /engine")
        for n in range(23)
    ]
    listed = test_outcome(item, ran, many, ()).message or ""
    assert listed.count("not problem+json #") == 20
    assert listed.endswith("and 3 more (every one is in summary.json and report.html)")
    crashed = test_outcome(item, ItemOutcome(item.key, ItemStatus.CRASHED, "ValueError: boom"), [], ())
    assert (crashed.outcome, crashed.message, crashed.name) == (
        "failed",
        "ValueError: boom",
        "test_contract[GET /engine]",
    )
