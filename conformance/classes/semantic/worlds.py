"""Scenario checks of the semantic class on worlds: create and read, duplicate names, merge-patch
updates, If-Match preconditions, deletion (P2-SEM-001..007).

Every scenario works only on data it creates itself (unique names, ids it holds), removes it
afterwards, and ignores everything else a shared deployment holds. A broken precondition blocks
the scenario instead of blaming the rule it verifies.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import check
from conformance.classes.shared import eventlog
from conformance.classes.shared.eventlog import events_about, world_subject
from conformance.classes.shared.paging import MAX_LIMIT, MAX_PAGES, list_fetcher, walk
from conformance.classes.shared.resources import (
    capable_plugins,
    create_world,
    delete_later,
    plugin_list,
    read_world,
    settle_runtime,
    start_runtime,
    update_world,
)
from conformance.classes.shared.verdicts import differences


def _all_worlds(ctx: ScenarioContext) -> dict[str, Mapping[str, Any]]:
    """Every world of the tenant by id (walked with the largest page), or the scenario is blocked."""
    result = walk(list_fetcher(ctx.api, "listWorlds"), MAX_LIMIT, max_pages=MAX_PAGES, deadline=ctx.deadline)
    if result.problem is not None:
        ctx.blocked(f"cannot walk the world list: {result.problem}")
    return {str(item["id"]): item for page in result.pages for item in page.items}


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
        expected="409",
        actual=f"answered {duplicate.status}",
        expected_status=(409,),
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
    before, etag = read_world(ctx, world["id"], "read the world before patching it")
    patch = {
        "description": "After the patch.",
        "labels": {"drop": None, "change": "new", "add": "added"},
        "settings": {"tick_rate_hz": 25},
    }
    updated = update_world(ctx, world["id"], etag, patch)
    if not ctx.check(
        "P2-SEM-003",
        updated.status == 200,
        "A merge patch with the current ETag was not applied",
        f"updateWorld answered {updated.status}",
        response=updated,
        expected="200",
        actual=f"answered {updated.status}",
        expected_status=(200,),
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
    _, first_etag = read_world(ctx, world["id"], "read the new world")
    # A real earlier ETag is the stalest one there is: it once was current.
    bump = update_world(ctx, world["id"], first_etag, {"description": "Version two."})
    ctx.require(bump, {200}, "update the world once")
    before, current_etag = read_world(ctx, world["id"], "read the world before the refused update")
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
        expected=str(status),
        actual=f"answered {refused.status}",
        expected_status=(status,),
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
    updates = [e for e in events_about(ctx, since, {world_subject(world["id"])}) if e.get("type") == "world.updated"]
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
        expected="204",
        actual=f"answered {deleted.status}",
        expected_status=(204,),
    ):
        return
    read = ctx.api.call("getWorld", path={"world_id": world["id"]})
    ctx.check(
        "P2-SEM-006",
        read.status == 404,
        "A deleted world can still be read",
        f"getWorld after the delete answered {read.status}",
        response=read,
        expected="404",
        actual=f"answered {read.status}",
        expected_status=(404,),
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


@check("P2-SEM-007", kind="scenario", cost=1.0)
def check_world_delete_with_live_runtime(ctx: ScenarioContext) -> None:
    """Deleting a world that has live runtimes answers 409 and deletes nothing."""
    plugins = plugin_list(ctx)
    world = create_world(ctx, settings={"max_entities": 10})
    runtime = start_runtime(ctx, world["id"], capable_plugins(plugins, 10)[0]["name"])
    if not _refuse_world_delete(ctx, world, runtime, "just started"):
        return
    settle_runtime(ctx, runtime["id"], "running")
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
        expected="409",
        actual=f"answered {refused.status}",
        expected_status=(409,),
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
            expected="200",
            actual=f"answered {still.status}",
            expected_status=(200,),
        )
        and kept
    )
