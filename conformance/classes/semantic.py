"""Scenario checks of the semantic class: state, pagination, runtimes, events, flags and the engine.

Every scenario works only on data it creates itself (unique names, ids it holds), removes it
afterwards, and ignores everything else a shared deployment holds. A broken precondition (a
create that fails, a runtime that never settles where a scenario needs it) blocks the scenario
instead of blaming the rule it verifies.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.protocol import response_schema_errors
from conformance.checks.registry import check
from conformance.classes import eventlog
from conformance.classes.eventlog import runtime_subject, world_subject
from conformance.classes.lifecycle import off_lifecycle, watch_runtime
from conformance.classes.paging import (
    MAX_LIMIT,
    list_fetcher,
    locate,
    oversized_pages,
    relative_order_differs,
    walk,
    walk_problems,
)
from conformance.classes.resources import (
    create_world,
    delete_later,
    plugin_list,
    retire_later,
    start_runtime,
)
from conformance.classes.sse import (
    EVENT_STREAM,
    SseParser,
    message_problems,
    parse_event_stream,
    resume_problems,
)
from conformance.classes.sse import about as messages_about
from conformance.classes.verdicts import (
    ascending,
    data_mismatches,
    differences,
    filter_problems,
    plugin_problems,
    preview_problems,
    scheduler_problems,
    sequence_difference,
)
from conformance.target.exchange import ObservedResponse

WALK_LIMITS = (1, 2, 7, MAX_LIMIT)
MAX_PAGES = 10_000
# Items a walk from an anchor may meet besides the created ones: up to 9 before them (the anchor
# is found with limit 10) and whatever other clients add meanwhile.
WALK_SLACK = 60
BAD_LIST_QUERIES: tuple[tuple[Mapping[str, Any], str], ...] = (
    ({"limit": 0}, "limit=0"),
    ({"limit": MAX_LIMIT + 1}, f"limit={MAX_LIMIT + 1}"),
    ({"cursor": "not a cursor!"}, "a cursor outside the Cursor pattern"),
    ({"cursor": "p2c-never-issued-cursor"}, "a cursor the deployment never issued"),
)
API_VERSION = re.compile(r"^2\.[0-9]+\.[0-9]+$")
STREAM_HEADERS = {"Accept": EVENT_STREAM}


# --- small helpers -------------------------------------------------------------------------------


def _runtime_timeout(ctx: ScenarioContext) -> float:
    return max(1.0, min(ctx.settings.profile.runtime_timeout, ctx.time_left - 5.0))


def _read_world(ctx: ScenarioContext, world_id: str, what: str) -> tuple[dict[str, Any], str]:
    """The world and its ETag, or the scenario is blocked."""
    response = ctx.require(ctx.api.call("getWorld", path={"world_id": world_id}), {200}, what)
    document, etag = response.json_or_none(), response.headers.get("etag")
    if not isinstance(document, dict) or not etag:
        ctx.blocked(f"{what}: getWorld answered without a world and its ETag")
    return document, etag


def _update_world(ctx: ScenarioContext, world_id: str, etag: str, patch: Mapping[str, Any]) -> ObservedResponse:
    return ctx.api.call("updateWorld", path={"world_id": world_id}, json=dict(patch), headers={"If-Match": etag})


def _all_worlds(ctx: ScenarioContext) -> dict[str, Mapping[str, Any]]:
    """Every world of the tenant by id (walked with the largest page), or the scenario is blocked."""
    result = walk(list_fetcher(ctx.api, "listWorlds"), MAX_LIMIT, max_pages=MAX_PAGES, deadline=ctx.deadline)
    if result.problem is not None:
        ctx.blocked(f"cannot walk the world list: {result.problem}")
    return {str(item["id"]): item for page in result.pages for item in page.items}


def _events_about(ctx: ScenarioContext, since: eventlog.Anchor, subjects: set[str]) -> list[Mapping[str, Any]]:
    events, problem = eventlog.events_since(ctx, since)
    if problem is not None:
        ctx.blocked(f"cannot read the events: {problem}")
    return eventlog.about(events, subjects)


def _capable(plugins: Sequence[Mapping[str, Any]], entities: int) -> list[Mapping[str, Any]]:
    return [plugin for plugin in plugins if plugin["max_entities"] >= entities]


# --- worlds: create, update, delete ----------------------------------------------------------------


@check("P2-SEM-001", kind="scenario")
def check_world_create_read(ctx: ScenarioContext) -> None:
    """Creating a world answers 201 with the world, and the next read returns the same representation."""
    body = {
        "name": ctx.unique_name(),
        "description": "Created by the conformance suite to read it back.",
        "labels": {"suite": "phase2-conformance", "purpose": "create-read"},
        "settings": {"tick_rate_hz": 48, "max_entities": 4321},
    }
    _judge_create_and_read(ctx, body, body, "The created world does not hold what was sent")
    # A world created with a name only holds the contract's defaults.
    create_schema = ctx.contract.component_schema("WorldCreate")["properties"]
    settings_schema = ctx.contract.component_schema("WorldSettings")["properties"]
    defaults = {
        "description": create_schema["description"].get("default", ""),
        "labels": {},
        "settings": {name: spec["default"] for name, spec in settings_schema.items() if "default" in spec},
    }
    _judge_create_and_read(
        ctx, {"name": ctx.unique_name()}, defaults, "A world created with a name only lacks the contract's defaults"
    )


def _judge_create_and_read(ctx: ScenarioContext, body: dict[str, Any], expected: dict[str, Any], title: str) -> None:
    """Create a world from `body`; it must answer 201 holding `expected`, and the next read the same world."""
    created = ctx.api.call("createWorld", json=body)
    world = created.json_or_none()
    if isinstance(world, dict) and isinstance(world.get("id"), str):
        delete_later(ctx, world["id"])  # whatever the status, a world that exists is removed
    if created.status != 201 or not isinstance(world, dict) or not isinstance(world.get("id"), str):
        ctx.fail(
            "P2-SEM-001",
            "Creating a world did not answer 201 with the world",
            f"createWorld answered {created.status}",
            response=created,
        )
        return
    mismatches = differences(expected, world, keys=list(expected))
    ctx.check("P2-SEM-001", not mismatches, title, "; ".join(mismatches), response=created)
    read = ctx.api.call("getWorld", path={"world_id": world["id"]})
    ctx.check(
        "P2-SEM-001",
        read.status == 200 and read.json_or_none() == world,
        "The next read differs from the created world",
        f"getWorld answered {read.status}: " + "; ".join(differences(world, read.json_or_none())),
        response=read,
    )
    ctx.check(
        "P2-SEM-001",
        read.headers.get("etag") == created.headers.get("etag"),
        "The next read has another ETag than the create",
        f"create {created.headers.get('etag')!r}, read {read.headers.get('etag')!r}",
        response=read,
    )


@check("P2-SEM-002", kind="scenario")
def check_duplicate_world_name(ctx: ScenarioContext) -> None:
    """Creating a world with a name already used in the tenant answers 409 and creates nothing."""
    since = eventlog.anchor(ctx)
    first = create_world(ctx, description="The original.")
    duplicate = ctx.api.call("createWorld", json={"name": first["name"], "description": "The duplicate."})
    document = duplicate.json_or_none()
    if isinstance(document, dict) and isinstance(document.get("id"), str) and document["id"] != first["id"]:
        delete_later(ctx, document["id"])
    ctx.check(
        "P2-SEM-002",
        duplicate.status == 409,
        "A duplicate world name was not refused with 409",
        f"createWorld with the name of an existing world answered {duplicate.status}",
        response=duplicate,
    )
    named = sorted(world_id for world_id, world in _all_worlds(ctx).items() if world.get("name") == first["name"])
    ctx.check(
        "P2-SEM-002",
        named == [first["id"]],
        "A world with a duplicate name exists",
        f"the world list holds {len(named)} world(s) named {first['name']!r}: {named}",
        operation="GET /worlds",
    )
    events, problem = eventlog.events_since(ctx, since)
    if problem is not None:
        ctx.blocked(f"cannot read the events: {problem}")
    created = [
        event
        for event in events
        if event.get("type") == "world.created"
        and isinstance(event.get("data"), dict)
        and event["data"].get("name") == first["name"]
    ]
    ctx.check(
        "P2-SEM-002",
        len(created) == 1,
        "The refused duplicate left a world.created event",
        f"{len(created)} world.created events name {first['name']!r}",
        operation="GET /events",
    )


@check("P2-SEM-003", kind="scenario")
def check_merge_patch(ctx: ScenarioContext) -> None:
    """A merge-patch update with the current ETag applies RFC 7396, bumps the ETag and is read back."""
    world = create_world(
        ctx,
        description="Before the patch.",
        labels={"keep": "kept", "drop": "dropped", "change": "old"},
        settings={"tick_rate_hz": 20, "max_entities": 2000},
    )
    before, etag = _read_world(ctx, world["id"], "read the world before patching it")
    patch = {
        "description": "After the patch.",
        "labels": {"drop": None, "change": "new", "add": "added"},
        "settings": {"tick_rate_hz": 25},
    }
    updated = _update_world(ctx, world["id"], etag, patch)
    if not ctx.check(
        "P2-SEM-003",
        updated.status == 200,
        "A merge patch with the current ETag was not applied",
        f"updateWorld answered {updated.status}",
        response=updated,
    ):
        return
    expected = {
        **before,
        "description": "After the patch.",
        "labels": {"keep": "kept", "change": "new", "add": "added"},
        "settings": {"tick_rate_hz": 25, "max_entities": 2000},
    }
    result = updated.json_or_none()
    mismatches = differences(expected, result, keys=["id", "name", "description", "labels", "settings", "created_at"])
    ctx.check(
        "P2-SEM-003",
        not mismatches,
        "The update did not follow RFC 7396 merge-patch semantics",
        "; ".join(mismatches),
        response=updated,
    )
    new_etag = updated.headers.get("etag")
    ctx.check(
        "P2-SEM-003",
        bool(new_etag) and new_etag != etag,
        "The update did not change the ETag",
        f"ETag before {etag!r}, after {new_etag!r}",
        response=updated,
    )
    version = result.get("version") if isinstance(result, dict) else None
    ctx.check(
        "P2-SEM-003",
        version == before.get("version", 0) + 1,
        "The update did not grow the version by one",
        f"version before {before.get('version')!r}, after {version!r}",
        response=updated,
    )
    read = ctx.api.call("getWorld", path={"world_id": world["id"]})
    ctx.check(
        "P2-SEM-003",
        read.status == 200 and read.json_or_none() == result,
        "The next read does not show the update",
        f"getWorld answered {read.status}: " + "; ".join(differences(result or {}, read.json_or_none())),
        response=read,
    )
    ctx.check(
        "P2-SEM-003",
        read.headers.get("etag") == new_etag,
        "The next read has another ETag than the update",
        f"update {new_etag!r}, read {read.headers.get('etag')!r}",
        response=read,
    )


def _refused_update(ctx: ScenarioContext, requirement_id: str, status: int, if_match: str | None) -> None:
    """Send an update that must be refused with `status`, then prove nothing changed."""
    world = create_world(ctx, description="Version one.", labels={"state": "original"})
    _, first_etag = _read_world(ctx, world["id"], "read the new world")
    # A real earlier ETag is the stalest one there is: it once was current.
    bump = _update_world(ctx, world["id"], first_etag, {"description": "Version two."})
    ctx.require(bump, {200}, "update the world once")
    before, current_etag = _read_world(ctx, world["id"], "read the world before the refused update")
    since = eventlog.anchor(ctx)
    headers = {} if if_match is None else {"If-Match": first_etag}
    refused = ctx.api.call(
        "updateWorld",
        path={"world_id": world["id"]},
        json={"description": "This write must not happen.", "labels": {"state": None}},
        headers=headers,
        negative=if_match is None,
    )
    condition = "without If-Match" if if_match is None else "with a stale If-Match"
    ctx.check(
        requirement_id,
        refused.status == status,
        f"An update {condition} was not refused with {status}",
        f"updateWorld {condition} answered {refused.status}",
        response=refused,
    )
    after = ctx.api.call("getWorld", path={"world_id": world["id"]})
    ctx.check(
        requirement_id,
        after.status == 200 and after.json_or_none() == before,
        f"An update {condition} changed the world",
        "; ".join(differences(before, after.json_or_none())) or f"getWorld answered {after.status}",
        response=after,
    )
    ctx.check(
        requirement_id,
        after.headers.get("etag") == current_etag,
        f"An update {condition} changed the ETag",
        f"before {current_etag!r}, after {after.headers.get('etag')!r}",
        response=after,
    )
    updates = [e for e in _events_about(ctx, since, {world_subject(world["id"])}) if e.get("type") == "world.updated"]
    ctx.check(
        requirement_id,
        not updates,
        f"An update {condition} was recorded as an event",
        f"{len(updates)} world.updated event(s) after the refused update",
        operation="GET /events",
    )


@check("P2-SEM-004", kind="scenario")
def check_stale_if_match(ctx: ScenarioContext) -> None:
    """An update with a stale If-Match answers 412 and changes nothing."""
    _refused_update(ctx, "P2-SEM-004", 412, if_match="stale")


@check("P2-SEM-005", kind="scenario")
def check_missing_if_match(ctx: ScenarioContext) -> None:
    """An update without If-Match answers 428 and changes nothing."""
    _refused_update(ctx, "P2-SEM-005", 428, if_match=None)


@check("P2-SEM-006", kind="scenario")
def check_world_delete(ctx: ScenarioContext) -> None:
    """Deleting a world answers 204; afterwards it answers 404 and is absent from the list."""
    world = create_world(ctx)
    kept = create_world(ctx)  # a neighbour, so the list walk has something it must still show
    deleted = ctx.api.call("deleteWorld", path={"world_id": world["id"]})
    if not ctx.check(
        "P2-SEM-006",
        deleted.status == 204,
        "Deleting a world did not answer 204",
        f"deleteWorld answered {deleted.status}",
        response=deleted,
    ):
        return
    read = ctx.api.call("getWorld", path={"world_id": world["id"]})
    ctx.check(
        "P2-SEM-006",
        read.status == 404,
        "A deleted world can still be read",
        f"getWorld after the delete answered {read.status}",
        response=read,
    )
    listed = _all_worlds(ctx)
    if kept["id"] not in listed:
        ctx.blocked("the world list does not show a world the scenario created")
    ctx.check(
        "P2-SEM-006",
        world["id"] not in listed,
        "A deleted world is still listed",
        f"world {world['id']} appears in the world list after its delete",
        operation="GET /worlds",
    )


@check("P2-SEM-007", kind="scenario")
def check_world_delete_with_live_runtime(ctx: ScenarioContext) -> None:
    """Deleting a world that has live runtimes answers 409 and deletes nothing."""
    plugins = plugin_list(ctx)
    world = create_world(ctx, settings={"max_entities": 10})
    runtime = start_runtime(ctx, world["id"], _capable(plugins, 10)[0]["name"])
    if not _refuse_world_delete(ctx, world, runtime, "just started"):
        return
    watch = watch_runtime(ctx.api, runtime["id"], {"running"}, _runtime_timeout(ctx))
    if watch.reached != "running":
        ctx.blocked(f"the runtime did not reach running (saw {watch.changes})")
    _refuse_world_delete(ctx, world, runtime, "running")


def _refuse_world_delete(
    ctx: ScenarioContext, world: Mapping[str, Any], runtime: Mapping[str, Any], state: str
) -> bool:
    before = ctx.api.call("getWorld", path={"world_id": world["id"]})
    refused = ctx.api.call("deleteWorld", path={"world_id": world["id"]})
    ctx.check(
        "P2-SEM-007",
        refused.status == 409,
        f"Deleting a world with a {state} runtime was not refused",
        f"deleteWorld answered {refused.status}",
        response=refused,
    )
    after = ctx.api.call("getWorld", path={"world_id": world["id"]})
    kept = ctx.check(
        "P2-SEM-007",
        after.status == 200 and after.json_or_none() == before.json_or_none(),
        f"Deleting a world with a {state} runtime changed it",
        f"getWorld afterwards answered {after.status}",
        response=after,
    )
    still = ctx.api.call("getRuntime", path={"runtime_id": runtime["id"]})
    return (
        ctx.check(
            "P2-SEM-007",
            still.status == 200,
            f"Deleting a world with a {state} runtime removed the runtime",
            f"getRuntime afterwards answered {still.status}",
            response=still,
        )
        and kept
    )


# --- pagination ----------------------------------------------------------------------------------


def _judge_pagination(
    ctx: ScenarioContext, operation_id: str, created: Sequence[str], filters: Mapping[str, str] | None = None
) -> None:
    """Walk a list with several limits from just before `created` (oldest first) and judge each walk."""
    label = ctx.contract.operation(operation_id).label
    for query, what in BAD_LIST_QUERIES:
        refused = ctx.api.call(operation_id, query={**(filters or {}), **query}, negative=True)
        ctx.check(
            "P2-SEM-008",
            refused.status == 400,
            f"A list accepted {what}",
            f"{operation_id} with {what} answered {refused.status}",
            response=refused,
        )
    fetch = list_fetcher(ctx.api, operation_id, filters)
    located = locate(fetch, created[0], max_pages=MAX_PAGES, deadline=ctx.deadline)
    if not located.found:
        ctx.fail(
            "P2-SEM-009",
            "A list walk never showed an item the scenario created",
            located.problem or "",
            operation=label,
        )
        return
    walks = []
    for limit in (*WALK_LIMITS, WALK_LIMITS[1]):  # the second walk with limit 2 repeats the first
        max_pages = (len(created) + WALK_SLACK) // limit + 3
        result = walk(fetch, limit, located.cursor, max_pages=max_pages, deadline=ctx.deadline)
        oversized = oversized_pages(result)
        ctx.check(
            "P2-SEM-008",
            not oversized,
            "A list page held more items than the limit",
            "; ".join(oversized),
            response=result.last_response,
            operation=label,
        )
        problems = walk_problems(result, created)
        ctx.check(
            "P2-SEM-009",
            not problems,
            "Walking a list with next_cursor did not visit every item once, in order",
            "; ".join(problems),
            response=result.last_response,
            operation=label,
        )
        walks.append(result)
    for other in walks[1:]:
        ctx.check(
            "P2-SEM-009",
            not relative_order_differs(walks[0].ids, other.ids),
            "Two walks of the same list showed its items in different orders",
            f"the walks with limit {walks[0].limit} and {other.limit} disagree on the order",
            operation=label,
        )


@check("P2-SEM-008", "P2-SEM-009", kind="scenario")
def check_world_pagination(ctx: ScenarioContext) -> None:
    """listWorlds: pages honour limit, bad limits and cursors answer 400, walks visit every world once."""
    created = [create_world(ctx)["id"] for _ in range(max(ctx.settings.profile.walk_size, 3))]
    _judge_pagination(ctx, "listWorlds", created)


@check("P2-SEM-008", "P2-SEM-009", kind="scenario")
def check_runtime_pagination(ctx: ScenarioContext) -> None:
    """listRuntimes: pages honour limit, bad limits and cursors answer 400, walks visit every runtime once."""
    plugins = _capable(plugin_list(ctx), 10)
    world = create_world(ctx, settings={"max_entities": 10})
    created: list[str] = []
    retire_later(ctx, created)  # one cleanup stops them all together
    for index in range(max(ctx.settings.profile.walk_size, 3)):
        body = {"world_id": world["id"], "plugin": plugins[index % len(plugins)]["name"]}
        response = ctx.require(ctx.api.call("startRuntime", json=body), {202}, "start a runtime")
        document = response.json_or_none()
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            ctx.blocked("startRuntime answered 202 without a runtime id")
        created.append(document["id"])
    _judge_pagination(ctx, "listRuntimes", created)


@check("P2-SEM-008", "P2-SEM-009", kind="scenario")
def check_event_pagination(ctx: ScenarioContext) -> None:
    """listEvents: pages honour limit, bad limits and cursors answer 400, walks visit every event once."""
    since = eventlog.anchor(ctx)
    worlds = [create_world(ctx)["id"] for _ in range(max(ctx.settings.profile.walk_size, 3))]
    subjects = {world_subject(world_id): world_id for world_id in worlds}
    created_events = {
        subjects[event["subject"]]: str(event["id"])
        for event in _events_about(ctx, since, set(subjects))
        if event.get("type") == "world.created"
    }
    if len(created_events) != len(worlds):
        ctx.blocked(f"only {len(created_events)} of {len(worlds)} world.created events could be found")
    _judge_pagination(ctx, "listEvents", [created_events[world_id] for world_id in worlds])


# --- runtimes ------------------------------------------------------------------------------------


@check("P2-SEM-010", "P2-SEM-011", "P2-SEM-013", kind="scenario")
def check_runtime_lifecycle(ctx: ScenarioContext) -> None:
    """A runtime starts (202, pending → starting → running), refuses deletion live, stops, is deleted."""
    plugins = _capable(plugin_list(ctx), 10)
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

    watch = watch_runtime(ctx.api, runtime_id, {"running"}, _runtime_timeout(ctx))
    statuses = [str(runtime.get("status")), *watch.statuses]
    ctx.check(
        "P2-SEM-010",
        watch.reached == "running",
        "A started runtime did not reach running in time",
        f"saw {watch.changes} within {_runtime_timeout(ctx):g}s" + (f"; {watch.error}" if watch.error else ""),
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
    )
    still = ctx.api.call("getRuntime", path={"runtime_id": runtime["id"]})
    ctx.check(
        "P2-SEM-013",
        still.status == 200,
        f"Deleting a {state} runtime removed it",
        f"getRuntime afterwards answered {still.status}",
        response=still,
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
    ):
        return
    watch = watch_runtime(ctx.api, runtime_id, {"stopped"}, _runtime_timeout(ctx))
    statuses = [str(first), *watch.statuses]
    ctx.check(
        "P2-SEM-011",
        watch.reached == "stopped",
        "A stopping runtime did not reach stopped in time",
        f"saw {[first, *watch.changes]} within {_runtime_timeout(ctx):g}s",
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
    )
    gone = ctx.api.call("getRuntime", path={"runtime_id": runtime_id})
    ctx.check(
        "P2-SEM-011",
        gone.status == 404,
        "A deleted runtime can still be read",
        f"getRuntime after the delete answered {gone.status}",
        response=gone,
    )


def _failing_setup(ctx: ScenarioContext) -> tuple[Mapping[str, Any], int] | None:
    """The plugin with the smallest capacity and a world size beyond it, if the contract allows one."""
    maximum = ctx.contract.component_schema("WorldSettings")["properties"]["max_entities"]["maximum"]
    plugins = [plugin for plugin in plugin_list(ctx) if plugin["max_entities"] < maximum]
    if not plugins:
        return None
    smallest = min(plugins, key=lambda plugin: int(plugin["max_entities"]))
    return smallest, int(smallest["max_entities"]) + 1


@check("P2-SEM-012", kind="scenario")
def check_runtime_failure(ctx: ScenarioContext) -> None:
    """A runtime whose start cannot succeed ends in failed with a non-empty failure_reason."""
    setup = _failing_setup(ctx)
    if setup is None:
        ctx.not_applicable("P2-SEM-012", "every plugin supports the largest world the contract allows")
        return
    plugin, entities = setup
    world = create_world(ctx, settings={"max_entities": entities})
    runtime = start_runtime(ctx, world["id"], plugin["name"])
    watch = watch_runtime(ctx.api, runtime["id"], {"failed"}, _runtime_timeout(ctx))
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


@check("P2-SEM-014", kind="scenario")
def check_runtime_filters(ctx: ScenarioContext) -> None:
    """The runtime list filters world_id, status and plugin return exactly the matching runtimes."""
    plugins = _capable(plugin_list(ctx), 10)
    if len(plugins) < 2:
        ctx.blocked("needs two plugins able to run a small world")
    setup = _failing_setup(ctx)  # None: no plugin can be exceeded, so no runtime is made to fail
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
    for runtime_id, (_, status, _) in runtimes.items():
        watch = watch_runtime(ctx.api, runtime_id, {status}, _runtime_timeout(ctx))
        if watch.reached != status:
            ctx.blocked(f"a runtime did not reach {status} (saw {watch.changes})")
    queries: list[dict[str, str]] = [
        {"world_id": world_a["id"]},
        {"world_id": world_b["id"]},
        {"status": "failed" if setup is not None else "running"},
        {"plugin": small["name"]},
        {"world_id": world_a["id"], "plugin": other["name"]},
        {"world_id": world_a["id"], "status": "running"},
    ]
    for query in queries:
        _judge_runtime_filter(ctx, query, runtimes)


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


# --- events --------------------------------------------------------------------------------------


@check("P2-SEM-015", kind="scenario")
def check_event_record(ctx: ScenarioContext) -> None:
    """Every change of a world or runtime appears once in the events, in order, with its type and subject."""
    setup = _failing_setup(ctx)  # None: no plugin can be exceeded, so no failed runtime is recorded
    plugins = _capable(plugin_list(ctx), 10)
    since = eventlog.anchor(ctx)
    expected: list[tuple[str, str]] = []
    world = create_world(ctx, settings={"max_entities": 10})
    expected.append(("world.created", world_subject(world["id"])))
    _, etag = _read_world(ctx, world["id"], "read the new world")
    ctx.require(_update_world(ctx, world["id"], etag, {"description": "Recorded."}), {200}, "update the world")
    expected.append(("world.updated", world_subject(world["id"])))
    runtime = start_runtime(ctx, world["id"], plugins[0]["name"])
    _settle(ctx, runtime["id"], "running")
    ctx.require(ctx.api.call("stopRuntime", path={"runtime_id": runtime["id"]}), {202}, "stop the runtime")
    _settle(ctx, runtime["id"], "stopped")
    ctx.require(ctx.api.call("deleteRuntime", path={"runtime_id": runtime["id"]}), {204}, "delete the runtime")
    subject = runtime_subject(runtime["id"])
    expected += [(f"runtime.{step}", subject) for step in ("created", "starting", "running", "stopping", "stopped")]
    expected.append(("runtime.deleted", subject))
    doomed = [world]
    if setup is not None:
        small, entities = setup
        big = create_world(ctx, settings={"max_entities": entities})
        expected.append(("world.created", world_subject(big["id"])))
        failing = start_runtime(ctx, big["id"], small["name"])
        _settle(ctx, failing["id"], "failed")
        ctx.require(
            ctx.api.call("deleteRuntime", path={"runtime_id": failing["id"]}),
            {204},
            "delete the failed runtime",
        )
        subject = runtime_subject(failing["id"])
        expected += [(f"runtime.{step}", subject) for step in ("created", "starting", "failed", "deleted")]
        doomed.insert(0, big)
    for gone in doomed:
        ctx.require(ctx.api.call("deleteWorld", path={"world_id": gone["id"]}), {204}, "delete a world")
        expected.append(("world.deleted", world_subject(gone["id"])))

    events, problem = eventlog.events_since(ctx, since)
    if problem is not None:
        ctx.fail(
            "P2-SEM-015",
            "The events of the scenario's changes cannot be read",
            problem,
            operation="GET /events",
        )
        return
    recorded = eventlog.about(events, {subject for _, subject in expected})
    seen = [(str(event.get("type")), str(event.get("subject"))) for event in recorded]
    ctx.check(
        "P2-SEM-015",
        seen == expected,
        "The events do not record each change exactly once, in order, with its type and subject",
        sequence_difference(expected, seen),
        operation="GET /events",
    )
    ctx.check(
        "P2-SEM-015",
        ascending([str(event.get("id")) for event in recorded]),
        "Event ids do not grow with the order of the events",
        f"ids {[event.get('id') for event in recorded]}",
        operation="GET /events",
    )
    mismatched = data_mismatches(recorded)
    ctx.check(
        "P2-SEM-015",
        not mismatched,
        "Event data does not describe the change it records",
        "; ".join(mismatched[:5]),
        operation="GET /events",
    )


def _settle(ctx: ScenarioContext, runtime_id: str, status: str) -> None:
    watch = watch_runtime(ctx.api, runtime_id, {status}, _runtime_timeout(ctx))
    if watch.reached != status:
        ctx.blocked(f"a runtime did not reach {status} (saw {watch.changes})")


@check("P2-SEM-016", kind="scenario")
def check_event_filters(ctx: ScenarioContext) -> None:
    """The events list filters type and subject return exactly the matching events."""
    since = eventlog.anchor(ctx)
    world = create_world(ctx)
    _, etag = _read_world(ctx, world["id"], "read the new world")
    ctx.require(_update_world(ctx, world["id"], etag, {"description": "Filtered."}), {200}, "update the world")
    other = create_world(ctx)
    subject, other_subject = world_subject(world["id"]), world_subject(other["id"])
    recorded = _events_about(ctx, since, {subject, other_subject})
    kinds = {(str(event.get("type")), str(event.get("subject"))) for event in recorded}
    needed = {("world.created", subject), ("world.updated", subject), ("world.created", other_subject)}
    if not needed <= kinds:
        ctx.blocked(f"the events of the scenario's changes are incomplete: {eventlog.describe(recorded)}")
    mine = {str(event.get("id")) for event in recorded}
    queries = [
        {"subject": subject},
        {"subject": other_subject},
        {"subject": subject, "type": "world.updated"},
        {"type": "world.updated"},
    ]
    for query in queries:
        # The unfiltered list is the truth: the filtered one must hold exactly its matching events.
        expected = [
            str(event.get("id")) for event in recorded if all(event.get(key) == value for key, value in query.items())
        ]
        result = walk(list_fetcher(ctx.api, "listEvents", query), MAX_LIMIT, max_pages=MAX_PAGES, deadline=ctx.deadline)
        if result.problem is not None:
            ctx.fail(
                "P2-SEM-016",
                f"The events list filtered by {query} cannot be walked",
                result.problem,
                response=result.last_response,
            )
            continue
        items = [item for page in result.pages for item in page.items]
        problems = filter_problems(items, query, expected, mine, ordered=True)
        ctx.check(
            "P2-SEM-016",
            not problems,
            f"The events list filtered by {query} is not exactly the matching",
            "; ".join(problems),
            response=result.last_response,
        )


@check("P2-SEM-017", "P2-SEM-018", kind="scenario")
def check_event_stream(ctx: ScenarioContext) -> None:
    """The stream is SSE of each event's id, type and JSON data, in order; Last-Event-ID resumes."""
    since = eventlog.anchor(ctx)
    world = create_world(ctx)
    subject = world_subject(world["id"])
    _, world_etag = _read_world(ctx, world["id"], "read the new world")
    for step in ("one", "two"):
        updated = ctx.require(
            _update_world(ctx, world["id"], world_etag, {"description": f"Streamed {step}."}),
            {200},
            "update the world",
        )
        world_etag = updated.headers.get("etag", "")
    recorded = _events_about(ctx, since, {subject})
    if len(recorded) != 3:
        ctx.blocked(f"expected 3 events about the world, the list shows {eventlog.describe(recorded)}")
    # Resuming after the last event older than the world keeps the stream short on a busy deployment.
    older = [event_id for event_id in since.before if event_id.isdigit()]
    before = {"Last-Event-ID": max(older, key=int)} if older else {}

    stream = ctx.api.call("streamEvents", query={"subject": subject, "wait": 0}, headers={**STREAM_HEADERS, **before})
    ctx.check(
        "P2-SEM-017",
        stream.status == 200 and stream.media_type == EVENT_STREAM,
        "The event stream is not text/event-stream",
        f"streamEvents answered {stream.status} {stream.headers.get('content-type')!r}",
        response=stream,
    )
    messages, incomplete = parse_event_stream(stream.body)
    problems = message_problems(messages, incomplete)
    streamed = messages_about(messages, {subject})
    if streamed != recorded:
        problems.append(
            f"the stream sent {len(streamed)} event(s) about the world, the list {len(recorded)}, "
            "or their documents differ"
        )
    ctx.check(
        "P2-SEM-017",
        not problems,
        "The event stream does not carry each event's id, type and data in order",
        "; ".join(problems[:5]),
        response=stream,
    )

    for after, expected in ((recorded[0], recorded[1:]), (recorded[2], [])):
        _judge_resume(ctx, subject, str(after["id"]), expected)
    _judge_live_resume(ctx, world["id"], world_etag, since, str(recorded[2]["id"]))


def _judge_resume(ctx: ScenarioContext, subject: str, last_id: str, expected: Sequence[Mapping[str, Any]]) -> None:
    stream = ctx.api.call(
        "streamEvents",
        query={"subject": subject, "wait": 0},
        headers={**STREAM_HEADERS, "Last-Event-ID": last_id},
    )
    if stream.status != 200:
        ctx.fail(
            "P2-SEM-018",
            "The event stream refused a Last-Event-ID it had sent",
            f"streamEvents answered {stream.status}",
            response=stream,
        )
        return
    messages, _ = parse_event_stream(stream.body)
    problems = resume_problems(messages, subject, last_id, expected)
    ctx.check(
        "P2-SEM-018",
        not problems,
        "A stream opened with Last-Event-ID did not send exactly the later events",
        "; ".join(problems),
        response=stream,
    )


def _judge_live_resume(ctx: ScenarioContext, world_id: str, etag: str, since: eventlog.Anchor, last_id: str) -> None:
    """An event written while a resumed stream waits is sent on it, and nothing before it."""
    wait = max(1, min(3, int(ctx.settings.request_timeout) - 1))
    subject = world_subject(world_id)
    query = {"subject": subject, "wait": wait, "max_events": 1}
    requested_at = time.monotonic()
    with ctx.api.stream("streamEvents", query=query, headers={**STREAM_HEADERS, "Last-Event-ID": last_id}) as opened:
        opened_at = time.monotonic()
        if opened.status != 200:
            ctx.fail(
                "P2-SEM-018",
                "The event stream refused a Last-Event-ID it had sent",
                f"streamEvents answered {opened.status}",
                operation="GET /events/stream",
            )
            return
        if opened_at - requested_at >= wait:
            # The answer was held back until the stream's wait was over (a buffering proxy, say):
            # nothing written now could still arrive on it, so there is nothing live to judge.
            return
        ctx.require(_update_world(ctx, world_id, etag, {"description": "Streamed live."}), {200}, "update the world")
        parser = SseParser()
        messages = []
        for chunk in opened.chunks(deadline=opened_at + wait + 2):
            messages += parser.feed(chunk)
            if messages_about(messages, {subject}):
                break
    recorded = [e for e in _events_about(ctx, since, {subject}) if _later(e.get("id"), last_id)]
    problems = resume_problems(messages, subject, last_id, recorded)
    if not recorded:
        problems.append("the update made while the stream was open is not in the event list")
    ctx.check(
        "P2-SEM-018",
        not problems,
        "A resumed stream did not send the event written while it was open, and only that",
        "; ".join(problems),
        operation="GET /events/stream",
    )


def _later(event_id: Any, last_id: str) -> bool:
    text = str(event_id)
    return text.isascii() and text.isdigit() and last_id.isdigit() and int(text) > int(last_id)


# --- feature flags and the engine ----------------------------------------------------------------


@check("P2-SEM-019", "P2-SEM-020", kind="scenario")
def check_feature_flags(ctx: ScenarioContext) -> None:
    """x-feature-flag operations answer 404 while their flag is off and conform while it is on."""
    flagged = [operation for operation in ctx.contract.operations if operation.feature_flag]
    enabled = ctx.settings.feature_flags
    flags = {str(op.feature_flag) for op in flagged}
    off, on = sorted(flags - enabled), sorted(flags & enabled)
    if not off:
        ctx.not_applicable("P2-SEM-019", f"every feature flag of the contract is enabled ({', '.join(on)})")
    if not on:
        ctx.not_applicable("P2-SEM-020", "no feature flag is enabled (enable one with --flags to verify it)")
    if not flagged:
        return
    plugins = plugin_list(ctx)
    smallest = min(int(plugin["max_entities"]) for plugin in plugins)
    world = create_world(ctx, settings={"max_entities": min(smallest + 1, 1_000_000)})
    runtime: Mapping[str, Any] | None = None
    if any(op.operation_id == "getScheduler" and op.feature_flag in enabled for op in flagged):
        runtime = start_runtime(ctx, world["id"], max(plugins, key=lambda p: int(p["max_entities"]))["name"])
        _settle(ctx, runtime["id"], "running")
    fillers = {"world_id": world["id"], "plugin_name": plugins[0]["name"]}
    if runtime is not None:
        fillers["runtime_id"] = runtime["id"]
    for operation in flagged:
        if any(name not in fillers for name in operation.path_parameters):
            continue  # an operation this suite cannot address; its flag is judged through the others
        path = {name: fillers[name] for name in operation.path_parameters}
        response = ctx.api.call(operation.operation_id, path=path)
        if operation.feature_flag not in enabled:
            ctx.check(
                "P2-SEM-019",
                response.status == 404,
                f"{operation.operation_id} answers while its flag {operation.feature_flag} is off",
                f"answered {response.status}, not 404",
                response=response,
            )
            continue
        problems = _flagged_problems(ctx, response, world, plugins, runtime)
        ctx.check(
            "P2-SEM-020",
            not problems,
            f"{operation.operation_id} does not conform while its flag {operation.feature_flag} is on",
            "; ".join(problems[:5]),
            response=response,
        )


def _flagged_problems(
    ctx: ScenarioContext,
    response: ObservedResponse,
    world: Mapping[str, Any],
    plugins: Sequence[Mapping[str, Any]],
    runtime: Mapping[str, Any] | None,
) -> list[str]:
    if response.status != 200:
        return [f"answered {response.status}, not 200"]
    if response.media_type != "application/json":
        return [f"answered {response.headers.get('content-type')!r}, not application/json"]
    problems = list(response_schema_errors(ctx.contract, response) or [])
    document = response.json_or_none()
    if problems or not isinstance(document, dict):
        return problems or ["the body is not a JSON object"]
    operation_id = response.operation.operation_id if response.operation else ""
    if operation_id == "previewWorld":
        problems += preview_problems(document, world, plugins)
    elif operation_id == "getScheduler" and runtime is not None:
        problems += scheduler_problems(document, runtime, plugins)
    return problems


@check("P2-SEM-021", kind="scenario")
def check_engine_info(ctx: ScenarioContext) -> None:
    """The engine reports its version, an API version 2.x and exactly the feature flags that are enabled."""
    response = ctx.api.call("getEngineInfo")
    document = response.json_or_none()
    if not ctx.check(
        "P2-SEM-021",
        response.status == 200 and isinstance(document, dict),
        "The engine does not describe itself",
        f"getEngineInfo answered {response.status}",
        response=response,
    ):
        return
    assert isinstance(document, dict)
    version, api_version = document.get("version"), document.get("api_version")
    ctx.check(
        "P2-SEM-021",
        isinstance(version, str) and bool(version.strip()),
        "The engine reports no version",
        f"version is {version!r}",
        response=response,
    )
    ctx.check(
        "P2-SEM-021",
        isinstance(api_version, str) and bool(API_VERSION.match(api_version)),
        "The engine does not serve API version 2.x",
        f"api_version is {api_version!r}",
        response=response,
    )
    flags = document.get("feature_flags")
    expected = sorted(ctx.settings.feature_flags)
    reported = sorted(flags) if isinstance(flags, list) and all(isinstance(f, str) for f in flags) else None
    ctx.check(
        "P2-SEM-021",
        reported == expected,
        "The engine does not report exactly the enabled feature flags",
        f"it reports {flags!r}; the run was told {expected} are enabled (--flags)",
        response=response,
    )


@check("P2-SEM-022", kind="scenario")
def check_plugins(ctx: ScenarioContext) -> None:
    """The engine lists at least two plugins with name, version and capabilities, each readable by name."""
    response = ctx.api.call("listPlugins")
    document = response.json_or_none()
    items = document.get("items") if isinstance(document, dict) else None
    if not ctx.check(
        "P2-SEM-022",
        response.status == 200 and isinstance(items, list),
        "The engine does not list its plugins",
        f"listPlugins answered {response.status}",
        response=response,
    ):
        return
    assert isinstance(items, list)
    names = [item.get("name") for item in items if isinstance(item, dict)]
    ctx.check(
        "P2-SEM-022",
        len(items) >= 2 and len(set(names)) == len(items),
        "The engine does not list at least two distinct plugins",
        f"listed names {names}",
        response=response,
    )
    for item in items:
        problems = plugin_problems(item)
        ctx.check(
            "P2-SEM-022",
            not problems,
            "A listed plugin is incomplete",
            "; ".join(problems),
            response=response,
        )
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            continue
        read = ctx.api.call("getPlugin", path={"plugin_name": item["name"]})
        ctx.check(
            "P2-SEM-022",
            read.status == 200 and read.json_or_none() == item,
            f"Plugin {item['name']} cannot be read by name as listed",
            f"getPlugin answered {read.status}: " + "; ".join(differences(item, read.json_or_none())),
            response=read,
        )
