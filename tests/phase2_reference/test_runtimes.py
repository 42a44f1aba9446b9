"""The runtime service: starting, stopping and deleting by status, without HTTP."""

from __future__ import annotations

import time

import pytest

from phase2_reference.app import build_state
from phase2_reference.problems import ProblemError
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
