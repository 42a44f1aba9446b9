"""The runtime service: starting, stopping and deleting by status, without HTTP."""

from __future__ import annotations

import time

import pytest

from phase2_reference.app import build_state
from phase2_reference.shared.problems import ProblemError
from tests.phase2_reference.conftest import trusting_config


def test_stop_and_delete_follow_the_status() -> None:
    state = build_state(trusting_config(runtime_step_ms=1))
    world_id = state.worlds.create("t", {"name": "w"}).as_json()["id"]
    runtime_id = state.runtimes.start("t", {"world_id": world_id, "plugin": "agent-sim"}).as_json()["id"]
    with pytest.raises(ProblemError) as live:
        state.runtimes.delete("t", runtime_id)
    assert live.value.status == 409
    stopping = state.runtimes.stop("t", runtime_id)
    assert stopping.status == "stopping"
    assert state.runtimes.stop("t", runtime_id).version == stopping.version, "stopping again changes nothing"
    state.runtimes.advance_due(time.time() + 1)
    assert state.runtimes.get("t", runtime_id).status == "stopped"
    with pytest.raises(ProblemError) as stopped:
        state.runtimes.stop("t", runtime_id)
    assert stopped.value.status == 409
    state.runtimes.delete("t", runtime_id)
    with pytest.raises(ProblemError) as gone:
        state.runtimes.get("t", runtime_id)
    assert gone.value.status == 404


def test_start_checks_plugin_then_world() -> None:
    state = build_state(trusting_config())
    with pytest.raises(ProblemError) as plugin:
        state.runtimes.start("t", {"world_id": "00000000-0000-4000-8000-000000000000", "plugin": "quantum-sim"})
    assert plugin.value.status == 422
    with pytest.raises(ProblemError) as world:
        state.runtimes.start("t", {"world_id": "00000000-0000-4000-8000-000000000000", "plugin": "agent-sim"})
    assert world.value.status == 404


def test_counts_by_status_and_plugin() -> None:
    state = build_state(trusting_config())
    world_id = state.worlds.create("t", {"name": "w"}).as_json()["id"]
    state.runtimes.start("t", {"world_id": world_id, "plugin": "agent-sim"})
    by_status, live = state.runtimes.counts("t")
    assert by_status == {"pending": 1, "starting": 0, "running": 0, "stopping": 0, "stopped": 0, "failed": 0}
    assert live == {"physics-sim": 0, "agent-sim": 1}
    assert state.runtimes.counts("u")[0]["pending"] == 0


def _failing_runtime(fail_from_pending: bool) -> list[str]:
    """The statuses a runtime that cannot start goes through, step by step."""
    state = build_state(trusting_config(runtime_step_ms=1, fail_from_pending=fail_from_pending))
    world_id = state.worlds.create("t", {"name": "w", "settings": {"max_entities": 50_000}}).as_json()["id"]
    runtime_id = state.runtimes.start("t", {"world_id": world_id, "plugin": "agent-sim"}).as_json()["id"]
    statuses = ["pending"]
    while statuses[-1] not in ("running", "failed"):
        state.runtimes.advance_due(time.time() + 1)
        statuses.append(state.runtimes.get("t", runtime_id).status)
    return statuses


def test_a_runtime_that_cannot_start_fails_after_starting_or_straight_from_pending() -> None:
    assert _failing_runtime(False) == ["pending", "starting", "failed"]
    assert _failing_runtime(True) == ["pending", "failed"]


def test_the_state_machine_refuses_a_change_the_contract_does_not_allow() -> None:
    state = build_state(trusting_config(runtime_step_ms=1))
    assert state.runtimes.transitions == state.contract.runtime_transitions
    world_id = state.worlds.create("t", {"name": "w"}).as_json()["id"]
    runtime = state.runtimes.start("t", {"world_id": world_id, "plugin": "agent-sim"})
    with state.store.transaction() as tx, pytest.raises(RuntimeError, match="from pending to running"):
        state.runtimes._move(tx, runtime, "running", None)
