"""Worlds and runtimes a scenario creates for itself, the plugins it runs them on, and how they are
removed afterwards.

Creation, read and settling helpers `ctx.require` success, so a target that cannot create a world,
read it back or bring a runtime where a scenario needs it blocks the scenario instead of being
blamed for the rule the scenario verifies. Cleanup is best effort within a budget: it stops
runtimes, waits for them to end, deletes them, then deletes the world.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.lanes import each, lanes_for
from conformance.classes.shared.lifecycle import TERMINAL, Watch, watch_runtime
from conformance.client.api_client import ApiClient
from conformance.client.observed import ObservedResponse

CLEANUP_BUDGET = 10.0  # seconds one cleanup may wait for runtimes to stop
_POLL = 0.05


def create_world(ctx: ScenarioContext, **fields: Any) -> dict[str, Any]:
    """A new world of the scenario (name unique unless given), deleted when the scenario ends."""
    world = new_world(ctx, **fields)
    delete_later(ctx, world["id"])
    return world


def new_world(ctx: ScenarioContext, **fields: Any) -> dict[str, Any]:
    """A new world (name unique unless given) whose deletion is the caller's (`delete_all_later`)."""
    body = {"name": ctx.unique_name(), **fields}
    response = ctx.require(ctx.api.call("createWorld", json=body), {201}, "create a world")
    world = response.json_or_none()
    if not isinstance(world, dict) or not isinstance(world.get("id"), str):
        ctx.blocked("createWorld answered 201 without a world id")
    return world


def delete_all_later(ctx: ScenarioContext, world_ids: Sequence[str]) -> None:
    """One cleanup deleting every world `world_ids` holds when the scenario ends, a few at a time."""
    lanes = lanes_for(ctx.settings.workers)
    ctx.on_cleanup(lambda: each(partial(delete_world, ctx.api), list(world_ids), lanes))


def read_world(ctx: ScenarioContext, world_id: str, what: str) -> tuple[dict[str, Any], str]:
    """The world and its ETag, or the scenario is blocked."""
    response = ctx.require(ctx.api.call("getWorld", path={"world_id": world_id}), {200}, what)
    document, etag = response.json_or_none(), response.headers.get("etag")
    if not isinstance(document, dict) or not etag:
        ctx.blocked(f"{what}: getWorld answered without a world and its ETag")
    return document, etag


def update_world(ctx: ScenarioContext, world_id: str, etag: str, patch: Mapping[str, Any]) -> ObservedResponse:
    return ctx.api.call("updateWorld", path={"world_id": world_id}, json=dict(patch), headers={"If-Match": etag})


def delete_later(ctx: ScenarioContext, world_id: str) -> None:
    ctx.on_cleanup(lambda: delete_world(ctx.api, world_id))


def delete_world(api: ApiClient, world_id: str, budget: float = CLEANUP_BUDGET) -> None:
    """Delete a world, waiting while stopping runtimes keep it busy (409)."""
    deadline = time.monotonic() + budget
    while True:
        status = api.call("deleteWorld", path={"world_id": world_id}).status
        if status != 409 or time.monotonic() > deadline:
            return
        time.sleep(_POLL * 4)


def plugin_list(ctx: ScenarioContext) -> list[dict[str, Any]]:
    """The engine's plugins (name and max_entities at least), or the scenario is blocked."""
    response = ctx.require(ctx.api.call("listPlugins"), {200}, "list the engine plugins")
    document = response.json_or_none()
    items = document.get("items") if isinstance(document, dict) else None
    plugins = [
        item
        for item in items or []
        if isinstance(item, dict) and isinstance(item.get("name"), str) and isinstance(item.get("max_entities"), int)
    ]
    if not plugins:
        ctx.blocked("listPlugins named no plugin with a name and max_entities")
    return plugins


def capable_plugins(plugins: Sequence[Mapping[str, Any]], entities: int) -> list[Mapping[str, Any]]:
    return [plugin for plugin in plugins if plugin["max_entities"] >= entities]


def failing_setup(ctx: ScenarioContext) -> tuple[Mapping[str, Any], int] | None:
    """The plugin with the smallest capacity and a world size beyond it, if the contract allows one."""
    maximum = ctx.contract.component_schema("WorldSettings")["properties"]["max_entities"]["maximum"]
    plugins = [plugin for plugin in plugin_list(ctx) if plugin["max_entities"] < maximum]
    if not plugins:
        return None
    smallest = min(plugins, key=lambda plugin: int(plugin["max_entities"]))
    return smallest, int(smallest["max_entities"]) + 1


def start_runtime(
    ctx: ScenarioContext, world_id: str, plugin: str, parameters: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """A new runtime (202 required), stopped and deleted when the scenario ends."""
    body: dict[str, Any] = {"world_id": world_id, "plugin": plugin}
    if parameters is not None:
        body["parameters"] = dict(parameters)
    response = ctx.require(ctx.api.call("startRuntime", json=body), {202}, "start a runtime")
    runtime = response.json_or_none()
    if not isinstance(runtime, dict) or not isinstance(runtime.get("id"), str):
        ctx.blocked("startRuntime answered 202 without a runtime id")
    retire_later(ctx, [runtime["id"]])
    return runtime


def runtime_timeout(ctx: ScenarioContext) -> float:
    """How long a scenario waits for a runtime to change status: the profile's timeout, within the budget."""
    return max(1.0, min(ctx.settings.profile.runtime_timeout, ctx.time_left - 5.0))


# The run's shared state: status → why runtimes were shown not to reach it (a broken precondition).
UNREACHED_KEY = "conformance.classes.shared.resources.unreached"


def unreached(ctx: ScenarioContext, status: str) -> str | None:
    """Why an earlier scenario showed runtimes never reach `status`, if one did."""
    found: dict[str, str] = ctx.resources.state.get(UNREACHED_KEY, {})
    return found.get(status)


def remember_unreached(ctx: ScenarioContext, status: str, watch: Watch, timeout: float) -> None:
    """A runtime did not reach `status`: later scenarios needing it are blocked at once, not after
    waiting again. Only a status the runtime could still have reached counts (not a terminal one)."""
    timed_out = watch.reached is None and watch.error is None
    if not (timed_out or watch.hopeless):
        return
    reason = watch.error or f"saw {watch.changes} within {timeout:g}s"
    ctx.resources.state.setdefault(UNREACHED_KEY, {}).setdefault(status, f"runtimes do not reach {status}: {reason}")


def settle_runtime(ctx: ScenarioContext, runtime_id: str, status: str) -> Watch:
    """Wait until the runtime reaches `status`, or the scenario is blocked (at once when runtimes
    were already shown not to reach it); the watch holds the runtime as last read."""
    known = unreached(ctx, status)
    if known is not None:
        ctx.blocked(known)
    timeout = runtime_timeout(ctx)
    watch = watch_runtime(ctx.api, runtime_id, {status}, timeout)
    if watch.reached != status:
        remember_unreached(ctx, status, watch, timeout)
        ctx.blocked(
            f"a runtime did not reach {status} (saw {watch.changes})" + (f": {watch.error}" if watch.error else "")
        )
    return watch


def observe_until(ctx: ScenarioContext, runtime_id: str, status: str) -> Watch | None:
    """Poll the runtime until `status` only to let the response checks see it on the way; no wait
    at all (None) when runtimes were already shown not to reach `status`."""
    if unreached(ctx, status) is not None:
        return None
    timeout = runtime_timeout(ctx)
    watch = watch_runtime(ctx.api, runtime_id, {status}, timeout)
    if watch.reached != status:
        remember_unreached(ctx, status, watch, timeout)
    return watch


def retire_later(ctx: ScenarioContext, runtime_ids: Sequence[str]) -> None:
    ctx.on_cleanup(lambda: retire_runtimes(ctx.api, runtime_ids, lanes=lanes_for(ctx.settings.workers)))


def retire_runtimes(api: ApiClient, runtime_ids: Iterable[str], budget: float = CLEANUP_BUDGET, lanes: int = 1) -> None:
    """Stop every live runtime of `runtime_ids`, wait until each has ended, delete them all: each
    step for `lanes` runtimes at a time (a walk's 23 runtimes are some 90 round trips)."""
    deadline = time.monotonic() + budget

    def stop(runtime_id: str) -> str | None:
        status = _status(api, runtime_id)
        # A status outside the contract's enum (`RUNNING`) may be a live one: stop it too, rather
        # than wait the whole cleanup budget for an end nobody asked for.
        if status is not None and status not in TERMINAL and status != "stopping":
            api.call("stopRuntime", path={"runtime_id": runtime_id})
        return status

    runtimes = list(dict.fromkeys(runtime_ids))
    waiting = {
        runtime_id
        for runtime_id, status in zip(runtimes, each(stop, runtimes, lanes), strict=True)
        if status is not None
    }
    ended: list[str] = []
    while waiting and time.monotonic() < deadline:
        polled = sorted(waiting)
        for runtime_id, status in zip(polled, each(partial(_status, api), polled, lanes), strict=True):
            if status is None or status in TERMINAL:
                waiting.discard(runtime_id)
                if status is not None:
                    ended.append(runtime_id)
        if waiting:
            time.sleep(_POLL)
    each(lambda runtime_id: api.call("deleteRuntime", path={"runtime_id": runtime_id}), ended, lanes)


def _status(api: ApiClient, runtime_id: str) -> str | None:
    response = api.call("getRuntime", path={"runtime_id": runtime_id})
    document = response.json_or_none()
    if response.status != 200 or not isinstance(document, dict):
        return None
    status = document.get("status")
    return status if isinstance(status, str) else None
