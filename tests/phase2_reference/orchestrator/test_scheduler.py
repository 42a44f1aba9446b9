"""The orchestrator: due transitions in order, survival of store outages, restart resumption."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

from phase2_reference.app import build_state
from phase2_reference.gateway.state import AppState
from tests.phase2_reference.conftest import trusting_config


def start(state: AppState, max_entities: int = 100, plugin: str = "physics-sim") -> str:
    world = state.worlds.create(
        "tenant-a", {"name": f"w{time.monotonic_ns()}", "settings": {"max_entities": max_entities}}
    )
    runtime = state.runtimes.start("tenant-a", {"world_id": world.as_json()["id"], "plugin": plugin})
    runtime_id: str = runtime.as_json()["id"]
    return runtime_id


def status(state: AppState, runtime_id: str) -> str:
    return state.runtimes.get("tenant-a", runtime_id).status


def test_due_transitions_move_one_step_each() -> None:
    state = build_state(trusting_config(runtime_step_ms=10_000))
    ok = start(state)
    failing = start(state, max_entities=50_000, plugin="agent-sim")
    assert state.runtimes.advance_due(time.time()) == 0
    far = time.time() + 60
    assert state.runtimes.advance_due(far) == 2
    assert (status(state, ok), status(state, failing)) == ("starting", "starting")
    next_due = state.runtimes.next_due()
    assert next_due is not None
    assert next_due > time.time() + 5
    state.runtimes.advance_due(far + 60)
    assert (status(state, ok), status(state, failing)) == ("running", "failed")
    assert state.runtimes.next_due() is None
    failed = json.loads(state.runtimes.get("tenant-a", failing).doc)
    assert "agent-sim" in failed["failure_reason"]


def test_the_task_runs_transitions_and_survives_an_outage() -> None:
    state = build_state(trusting_config(runtime_step_ms=20))

    async def main() -> str:
        state.orchestrator.ensure_started()
        runtime_id = start(state)
        state.store.available = False
        await asyncio.sleep(0.3)
        assert state.orchestrator.alive
        state.store.available = True
        state.orchestrator.poke()
        for _ in range(100):
            if status(state, runtime_id) == "running":
                break
            await asyncio.sleep(0.01)
        found = status(state, runtime_id)
        await state.orchestrator.stop()
        assert not state.orchestrator.alive
        return found

    assert asyncio.run(main()) == "running"


def test_scheduled_transitions_are_stored_and_resume(tmp_path: Path) -> None:
    slow = build_state(trusting_config(data_dir=tmp_path, runtime_step_ms=60_000))
    runtime_id = start(slow)
    slow.store.close()
    resumed = build_state(trusting_config(data_dir=tmp_path, runtime_step_ms=10))
    due = resumed.runtimes.next_due()
    assert due is not None
    # The stored due time (a minute ahead) is what the new process works from.
    resumed.runtimes.advance_due(due)
    assert status(resumed, runtime_id) == "starting"
    resumed.runtimes.advance_due(time.time() + 1)
    assert status(resumed, runtime_id) == "running"
