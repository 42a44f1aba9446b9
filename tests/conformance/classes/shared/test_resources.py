"""A scenario's own worlds and runtimes against the embedded reference: created, settled, and
removed by the scenario's cleanups; a runtime shown not to reach a status blocks later scenarios."""

from __future__ import annotations

import time

import pytest

from conformance.checks.context import Blocked, ScenarioContext
from conformance.checks.registry import Registry, check
from conformance.classes.shared.lifecycle import Watch
from conformance.classes.shared.resources import (
    capable_plugins,
    create_world,
    failing_setup,
    plugin_list,
    read_world,
    remember_unreached,
    settle_runtime,
    start_runtime,
    unreached,
)
from conformance.runner.session import RunSession
from tests.conftest import reference_session

session = reference_session("semantic")


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
