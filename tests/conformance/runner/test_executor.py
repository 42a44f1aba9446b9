"""The engine's executor: items run concurrently, exclusive ones alone, each seeded on its own,
with the verdict of a sequential run."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from schemathesis.config import SchemathesisConfig

from conformance.client.secrets import Redactor
from conformance.contract import load_catalog, load_contract
from conformance.recorder import Recorder
from conformance.runner.executor import ExclusiveGate
from conformance.runner.plan import ItemKind, build_plan
from conformance.runner.st_config import schemathesis_config
from conformance.runner.st_tests import operation_test, operations_by_label
from conformance.settings import Settings, load_settings
from tests.conftest import SuiteRun

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
    assert all(item.kind is ItemKind.SCENARIO for item in plan if item.exclusive)
    assert plan.of_kind(ItemKind.STATEFUL)[0].cost > 1


def _statuses(run: SuiteRun) -> dict[str, str]:
    return {rid: entry["status"] for rid, entry in run.summary["requirements"].items()}


@pytest.mark.parametrize("fault", [None, "problem-status-mismatch"], ids=["reference", "faulty-reference"])
def test_workers_give_the_sequential_verdict(run_suite: Callable[..., SuiteRun], fault: str | None) -> None:
    """Four workers against the reference and a faulty one: the same statuses per requirement as
    one worker, and the items did overlap (their summed durations exceed the run's)."""
    arguments = ["--reference", "--profile", "quick", "--seed", "7"]
    if fault is not None:
        arguments += ["--reference-fault", fault]
    sequential = run_suite(*arguments, "--workers", "1")
    concurrent = run_suite(*arguments, "--workers", "4")
    assert sequential.exit_code == concurrent.exit_code == (0 if fault is None else 1), concurrent.stdout[-3000:]
    assert _statuses(concurrent) == _statuses(sequential)
    if fault is not None:
        assert "P2-PRO-001" in concurrent.failed_requirements()
    assert not concurrent.summary["errors"]
    busy = sum(test["duration"] for test in concurrent.summary["tests"])
    assert busy > concurrent.summary["duration_seconds"], "the items ran one after the other"
