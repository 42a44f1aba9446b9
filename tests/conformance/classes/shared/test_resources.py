"""A scenario's own worlds and runtimes against the embedded reference: created, settled, and
removed by the scenario's cleanups; a runtime shown not to reach a status blocks later scenarios."""

from __future__ import annotations

import threading
import time
from dataclasses import replace
from typing import Any, cast

import pytest

from conformance.checks.context import Blocked, ScenarioContext
from conformance.checks.registry import Registry, check
from conformance.classes.shared.lifecycle import Watch
from conformance.classes.shared.resources import (
    capable_plugins,
    create_world,
    delete_all_later,
    failing_setup,
    new_world,
    plugin_list,
    read_world,
    remember_unreached,
    retire_runtimes,
    settle_runtime,
    start_runtime,
    unreached,
)
from conformance.runner.session import RunSession
from tests.conftest import reference_session

session = reference_session("semantic")
PATIENCE = 30.0  # seconds an event-driven wait may take on a saturated machine before it is a failure


@pytest.fixture
def ctx(session: RunSession) -> ScenarioContext:
    def body(ctx: ScenarioContext) -> None:
        return None

    spec = check("P2-SEM-001", kind="scenario", registry=Registry(), name="check_resources")(body)
    assert session.api is not None
    return ScenarioContext(
        spec, session.api, session.settings, session.contract, session.recorder, session.resources,
        time.monotonic() + 60,
    )  # fmt: skip


def test_a_created_world_is_read_back_and_deleted_by_the_cleanups(ctx: ScenarioContext) -> None:
    world = create_world(ctx, description="from the resources test")
    document, etag = read_world(ctx, world["id"], "read the world")
    assert document["description"] == "from the resources test" and etag
    ctx.run_cleanups()
    assert ctx.api.call("getWorld", path={"world_id": world["id"]}).status == 404


def test_a_started_runtime_settles_and_is_retired_before_its_world_goes(ctx: ScenarioContext) -> None:
    world = create_world(ctx)
    plugin = capable_plugins(plugin_list(ctx), 10)[0]
    runtime = start_runtime(ctx, world["id"], plugin["name"])
    settle_runtime(ctx, runtime["id"], "running")
    assert ctx.api.call("getRuntime", path={"runtime_id": runtime["id"]}).json()["status"] == "running"
    ctx.run_cleanups()  # last registered first: the runtime is retired, then the world deleted
    assert ctx.api.call("getRuntime", path={"runtime_id": runtime["id"]}).status == 404
    assert ctx.api.call("getWorld", path={"world_id": world["id"]}).status == 404
    assert ctx.recorder.errors == []


def test_plugins_are_chosen_by_capacity(ctx: ScenarioContext) -> None:
    plugins = plugin_list(ctx)
    assert plugins and all(isinstance(plugin["max_entities"], int) for plugin in plugins)
    assert capable_plugins(plugins, 10**9) == []
    setup = failing_setup(ctx)
    assert setup is not None
    smallest, size = setup
    assert size == smallest["max_entities"] + 1
    assert smallest["max_entities"] == min(plugin["max_entities"] for plugin in plugins)


def test_a_status_shown_unreachable_blocks_later_scenarios_at_once(ctx: ScenarioContext) -> None:
    assert unreached(ctx, "paused") is None
    remember_unreached(ctx, "paused", Watch(statuses=["booting", "running"]), 5.0)
    assert unreached(ctx, "paused") == "runtimes do not reach paused: saw ['booting', 'running'] within 5s"
    started = time.monotonic()
    with pytest.raises(Blocked, match="runtimes do not reach paused"):
        settle_runtime(ctx, "any-runtime", "paused")
    assert time.monotonic() - started < 5.0  # no second wait
    remember_unreached(ctx, "running", Watch(statuses=["failed"], reached="failed"), 5.0)
    assert unreached(ctx, "running") is None  # it ended otherwise: nothing shown about "running"


class _MeetingCalls:
    """The real client, its calls of one operation held until `count` of them are in flight at once:
    they pass only if they are sent side by side (a wait that fails loudly if they are not)."""

    def __init__(self, api: Any, operation_id: str, count: int) -> None:
        self._api, self._operation_id = api, operation_id
        self._barrier = threading.Barrier(count)
        self.met = 0

    def call(self, operation_id: str, *args: Any, **kwargs: Any) -> Any:
        if operation_id == self._operation_id:
            self._barrier.wait(PATIENCE)
            self.met += 1
        return self._api.call(operation_id, *args, **kwargs)


def test_runtimes_are_retired_a_few_at_a_time(ctx: ScenarioContext) -> None:
    world = create_world(ctx)
    plugin = capable_plugins(plugin_list(ctx), 10)[0]
    runtime_ids = [start_runtime(ctx, world["id"], plugin["name"])["id"] for _ in range(4)]
    meeting = _MeetingCalls(ctx.api, "deleteRuntime", 4)
    retire_runtimes(cast(Any, meeting), runtime_ids, lanes=4)
    assert meeting.met == 4
    assert [ctx.api.call("getRuntime", path={"runtime_id": rid}).status for rid in runtime_ids] == [404] * 4
    ctx.run_cleanups()


def test_worlds_deleted_all_later_go_a_few_at_a_time(ctx: ScenarioContext) -> None:
    world_ids: list[str] = []
    meeting = _MeetingCalls(ctx.api, "deleteWorld", 3)
    settings = replace(ctx.settings, workers=3)
    lanes = ScenarioContext(
        ctx.spec, cast(Any, meeting), settings, ctx.contract, ctx.recorder, ctx.resources, ctx.deadline
    )
    delete_all_later(lanes, world_ids)  # the list as it is when the scenario ends
    world_ids.extend(new_world(ctx)["id"] for _ in range(3))
    lanes.run_cleanups()
    assert meeting.met == 3
    assert [ctx.api.call("getWorld", path={"world_id": wid}).status for wid in world_ids] == [404] * 3
