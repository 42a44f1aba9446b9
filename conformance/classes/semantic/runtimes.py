"""Scenario checks of the semantic class on runtimes: the lifecycle from start to deletion, failure
with a reason, refused deletion while live, and the list filters (P2-SEM-010..014).

Every scenario works only on data it creates itself (unique names, ids it holds), removes it
afterwards, and ignores everything else a shared deployment holds. A broken precondition blocks
the scenario instead of blaming the rule it verifies.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.lanes import each, lanes_for
from conformance.checks.registry import check
from conformance.classes.shared import eventlog
from conformance.classes.shared.eventlog import runtime_subject
from conformance.classes.shared.lifecycle import off_lifecycle, watch_runtime
from conformance.classes.shared.paging import MAX_LIMIT, MAX_PAGES, list_fetcher, walk
from conformance.classes.shared.resources import (
    capable_plugins,
    create_world,
    failing_setup,
    plugin_list,
    remember_unreached,
    retire_later,
    runtime_timeout,
    settle_runtime,
    start_runtime,
)
from conformance.classes.shared.verdicts import filter_problems


@check("P2-SEM-010", "P2-SEM-011", "P2-SEM-013", kind="scenario")
def check_runtime_lifecycle(ctx: ScenarioContext) -> None:
    """A runtime starts (202, pending → starting → running), refuses deletion live, stops, is deleted."""
    plugins = capable_plugins(plugin_list(ctx), 10)
    world = create_world(ctx, settings={"max_entities": 10})
    since = eventlog.anchor(ctx)
    body = {"world_id": world["id"], "plugin": plugins[0]["name"], "parameters": {"seed": "42"}}
    started = ctx.api.call("startRuntime", json=body)
    runtime = started.json_or_none()
    if not isinstance(runtime, dict) or not isinstance(runtime.get("id"), str):
        ctx.fail(
            "P2-SEM-010",
            "Starting a runtime did not answer the runtime",
            f"startRuntime answered {started.status} without a runtime id",
            response=started,
        )
        return
    runtime_id = runtime["id"]
    retire_later(ctx, [runtime_id])
    ctx.check(
        "P2-SEM-010",
        started.status == 202 and runtime.get("status") == "pending",
        "Starting a runtime did not answer 202 with status pending",
        f"startRuntime answered {started.status} with status {runtime.get('status')!r}",
        response=started,
    )
    _refuse_runtime_delete(ctx, start_runtime(ctx, world["id"], plugins[-1]["name"]), "just started")

    timeout = runtime_timeout(ctx)
    watch = watch_runtime(ctx.api, runtime_id, {"running"}, timeout)
    remember_unreached(ctx, "running", watch, timeout)
    statuses = [str(runtime.get("status")), *watch.statuses]
    ctx.check(
        "P2-SEM-010",
        watch.reached == "running",
        "A started runtime did not reach running in time",
        f"saw {watch.changes} within {runtime_timeout(ctx):g}s" + (f"; {watch.error}" if watch.error else ""),
        response=watch.response,
    )
    detour = off_lifecycle(statuses)
    ctx.check(
        "P2-SEM-010",
        detour is None,
        "A starting runtime left the lifecycle",
        detour or "",
        response=watch.response,
    )
    if watch.reached == "running":
        _check_went_through_starting(ctx, since, runtime_id, statuses)
        _refuse_runtime_delete(ctx, watch.last or {"id": runtime_id}, "running")
    _stop_and_delete(ctx, runtime_id)


def _check_went_through_starting(
    ctx: ScenarioContext, since: eventlog.Anchor, runtime_id: str, statuses: Sequence[str]
) -> None:
    """Polling may miss the short starting phase; the runtime's events then say whether it had one."""
    if "starting" in statuses:
        ctx.passed("P2-SEM-010", "POST /runtimes")
        return
    events, problem = eventlog.events_since(ctx, since)
    if problem is not None:
        return  # neither polling nor the event list can tell; the other judgements stand
    types = [event.get("type") for event in eventlog.about(events, {runtime_subject(runtime_id)})]
    went_through = (
        "runtime.starting" in types and types.index("runtime.starting") < types.index("runtime.running")
        if "runtime.running" in types
        else "runtime.starting" in types
    )
    ctx.check(
        "P2-SEM-010",
        went_through,
        "A runtime reached running without going through starting",
        f"polling saw {statuses}; its events are {types}",
        operation="POST /runtimes",
    )


def _refuse_runtime_delete(ctx: ScenarioContext, runtime: Mapping[str, Any], state: str) -> None:
    refused = ctx.api.call("deleteRuntime", path={"runtime_id": runtime["id"]})
    ctx.check(
        "P2-SEM-013",
        refused.status == 409,
        f"Deleting a {state} runtime was not refused with 409",
        f"deleteRuntime answered {refused.status}",
        response=refused,
        expected="409",
        actual=f"answered {refused.status}",
        expected_status=(409,),
    )
    still = ctx.api.call("getRuntime", path={"runtime_id": runtime["id"]})
    ctx.check(
        "P2-SEM-013",
        still.status == 200,
        f"Deleting a {state} runtime removed it",
        f"getRuntime afterwards answered {still.status}",
        response=still,
        expected="200",
        actual=f"answered {still.status}",
        expected_status=(200,),
    )


def _stop_and_delete(ctx: ScenarioContext, runtime_id: str) -> None:
    stopped = ctx.api.call("stopRuntime", path={"runtime_id": runtime_id})
    document = stopped.json_or_none()
    first = document.get("status") if isinstance(document, dict) else None
    if not ctx.check(
        "P2-SEM-011",
        stopped.status == 202,
        "Stopping a live runtime did not answer 202",
        f"stopRuntime answered {stopped.status}",
        response=stopped,
        expected="202",
        actual=f"answered {stopped.status}",
        expected_status=(202,),
    ):
        return
    watch = watch_runtime(ctx.api, runtime_id, {"stopped"}, runtime_timeout(ctx))
    statuses = [str(first), *watch.statuses]
    ctx.check(
        "P2-SEM-011",
        watch.reached == "stopped",
        "A stopping runtime did not reach stopped in time",
        f"saw {[first, *watch.changes]} within {runtime_timeout(ctx):g}s",
        response=watch.response,
    )
    detour = off_lifecycle(statuses)
    ctx.check(
        "P2-SEM-011",
        detour is None and "stopping" in statuses,
        "A runtime did not go through stopping to stopped",
        detour or f"saw {statuses}",
        response=watch.response,
    )
    if watch.reached != "stopped":
        return
    deleted = ctx.api.call("deleteRuntime", path={"runtime_id": runtime_id})
    ctx.check(
        "P2-SEM-011",
        deleted.status == 204,
        "A stopped runtime could not be deleted",
        f"deleteRuntime answered {deleted.status}",
        response=deleted,
        expected="204",
        actual=f"answered {deleted.status}",
        expected_status=(204,),
    )
    gone = ctx.api.call("getRuntime", path={"runtime_id": runtime_id})
    ctx.check(
        "P2-SEM-011",
        gone.status == 404,
        "A deleted runtime can still be read",
        f"getRuntime after the delete answered {gone.status}",
        response=gone,
        expected="404",
        actual=f"answered {gone.status}",
        expected_status=(404,),
    )


@check("P2-SEM-012", kind="scenario")
def check_runtime_failure(ctx: ScenarioContext) -> None:
    """A runtime whose start cannot succeed ends in failed with a non-empty failure_reason."""
    setup = failing_setup(ctx)
    if setup is None:
        ctx.not_applicable("P2-SEM-012", "every plugin supports the largest world the contract allows")
        return
    plugin, entities = setup
    world = create_world(ctx, settings={"max_entities": entities})
    runtime = start_runtime(ctx, world["id"], plugin["name"])
    watch = watch_runtime(ctx.api, runtime["id"], {"failed"}, runtime_timeout(ctx))
    ctx.check(
        "P2-SEM-012",
        watch.reached == "failed",
        f"A runtime of a world beyond {plugin['name']}'s capacity did not end in failed",
        f"the world needs {entities} entities, the plugin reports max_entities {plugin['max_entities']}; "
        f"saw {watch.changes}",
        response=watch.response,
    )
    detour = off_lifecycle([str(runtime.get("status")), *watch.statuses])
    ctx.check(
        "P2-SEM-012",
        detour is None,
        "A failing runtime left the lifecycle",
        detour or "",
        response=watch.response,
    )
    if watch.reached == "failed" and watch.last is not None:
        reason = watch.last.get("failure_reason")
        ctx.check(
            "P2-SEM-012",
            isinstance(reason, str) and bool(reason.strip()),
            "A failed runtime has no failure_reason",
            f"failure_reason is {reason!r}",
            response=watch.response,
        )


@check("P2-SEM-014", kind="scenario", cost=1.0)
def check_runtime_filters(ctx: ScenarioContext) -> None:
    """The runtime list filters world_id, status and plugin return exactly the matching runtimes."""
    plugins = capable_plugins(plugin_list(ctx), 10)
    if len(plugins) < 2:
        ctx.blocked("needs two plugins able to run a small world")
    setup = failing_setup(ctx)  # None: no plugin can be exceeded, so no runtime is made to fail
    small = setup[0] if setup is not None else plugins[-1]
    other = next(plugin for plugin in plugins if plugin["name"] != small["name"])
    world_a = create_world(ctx, settings={"max_entities": 10})
    world_b = create_world(ctx, settings={"max_entities": 10})
    planned = [(world_a, other, "running"), (world_a, small, "running"), (world_b, other, "running")]
    if setup is not None:
        planned.append((create_world(ctx, settings={"max_entities": setup[1]}), small, "failed"))
    runtimes: dict[str, tuple[str, str, str]] = {}
    for world, plugin, status in planned:
        runtime = start_runtime(ctx, world["id"], plugin["name"])
        runtimes[runtime["id"]] = (world["id"], status, plugin["name"])
    lanes = lanes_for(ctx.settings.workers)
    # Each runtime settles, and each filter is walked, on its own: side by side.
    each(lambda started: settle_runtime(ctx, started[0], started[1][1]), runtimes.items(), lanes)
    queries: list[dict[str, str]] = [
        {"world_id": world_a["id"]},
        {"world_id": world_b["id"]},
        {"status": "failed" if setup is not None else "running"},
        {"plugin": small["name"]},
        {"world_id": world_a["id"], "plugin": other["name"]},
        {"world_id": world_a["id"], "status": "running"},
    ]
    each(lambda query: _judge_runtime_filter(ctx, query, runtimes), queries, lanes)


def _judge_runtime_filter(
    ctx: ScenarioContext, query: Mapping[str, str], runtimes: Mapping[str, tuple[str, str, str]]
) -> None:
    result = walk(list_fetcher(ctx.api, "listRuntimes", query), MAX_LIMIT, max_pages=MAX_PAGES, deadline=ctx.deadline)
    if result.problem is not None:
        ctx.blocked(f"cannot walk the runtime list filtered by {query}: {result.problem}")
    items = [item for page in result.pages for item in page.items]
    expected = [
        runtime_id
        for runtime_id, (world_id, status, plugin) in runtimes.items()
        if all({"world_id": world_id, "status": status, "plugin": plugin}[key] == value for key, value in query.items())
    ]
    problems = filter_problems(items, query, expected, set(runtimes), ordered=False)
    ctx.check(
        "P2-SEM-014",
        not problems,
        f"The runtime list filtered by {dict(query)} is not exactly the matching",
        "; ".join(problems),
        response=result.last_response,
    )
