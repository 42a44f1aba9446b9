"""Scenario checks of the auth class on isolation across tenants: another tenant's worlds, runtimes
and events can be neither read, listed, changed nor streamed (P2-AUTH-019..021).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import check
from conformance.classes.auth.auth_probes import stop_quietly, undo_creation
from conformance.classes.shared.paging import MAX_LIMIT, Page, parse_page, walk
from conformance.classes.shared.resources import settle_runtime
from conformance.classes.shared.sse import about, parse_event_stream

MAX_PAGES = 200  # a list walk stops here; the run's time budget is the other bound
WALK_RESERVE = 10.0  # seconds of the scenario's budget a walk leaves for the checks after it


@dataclass(frozen=True)
class Owned:
    """A world of the primary tenant with a running runtime, as the owner last read them."""

    world: dict[str, Any]
    runtime: dict[str, Any]
    etag: str
    plugin: str

    @property
    def world_id(self) -> str:
        return str(self.world["id"])

    @property
    def runtime_id(self) -> str:
        return str(self.runtime["id"])

    @property
    def subjects(self) -> set[str]:
        return {f"worlds/{self.world_id}", f"runtimes/{self.runtime_id}"}


def own_world_with_runtime(ctx: ScenarioContext) -> Owned:
    """Create a world and run a runtime on it as the primary client; cleanups undo both."""
    plugins = ctx.require(ctx.api.call("listPlugins"), {200}, "list the engine's plugins").json()
    plugin = str(plugins["items"][0]["name"])
    created = ctx.require(
        ctx.api.call("createWorld", json={"name": ctx.unique_name("p2c-iso")}),
        {201},
        "create the owner's world",
    )
    world_id = created.json()["id"]
    ctx.on_cleanup(lambda: ctx.api.call("deleteWorld", path={"world_id": world_id}))
    started = ctx.require(
        ctx.api.call("startRuntime", json={"world_id": world_id, "plugin": plugin}),
        {202},
        "start the owner's runtime",
    )
    runtime_id = started.json()["id"]
    ctx.on_cleanup(lambda: stop_quietly(ctx, runtime_id))
    # Blocked at once when runtimes were already shown not to reach running (no second wait).
    running = settle_runtime(ctx, runtime_id, "running").last
    assert running is not None  # settle_runtime blocks the scenario unless it read the runtime running
    world = ctx.require(ctx.api.call("getWorld", path={"world_id": world_id}), {200}, "read the owner's world")
    return Owned(world.json(), dict(running), world.headers.get("etag", '"1"'), plugin)


def listed(ctx: ScenarioContext, operation_id: str, role: str, filters: Mapping[str, str] | None = None) -> list[Any]:
    """Every item of a list as `role` sees it, walking all its pages."""

    def fetch(limit: int, cursor: str | None) -> Page:
        response = ctx.api.call(operation_id, query={"limit": limit, "cursor": cursor, **(filters or {})}, role=role)
        where = f"{operation_id} as the {role} client"
        if response.status != 200:
            return Page((), None, f"{where} answered {response.status}", response)
        return parse_page(response.json_or_none(), where, response)

    deadline = time.monotonic() + max(ctx.time_left - WALK_RESERVE, 0.0)
    result = walk(fetch, MAX_LIMIT, max_pages=MAX_PAGES, deadline=deadline)
    if result.problem is not None:
        ctx.blocked(f"cannot walk {operation_id}: {result.problem}")
    return [item for page in result.pages for item in page.items]


def _mentions(item: Any, owned: Owned) -> bool:
    text = json.dumps(item)
    return owned.world_id in text or owned.runtime_id in text


@check("P2-AUTH-019", kind="scenario", needs=("other-tenant",))
def check_tenant_isolation_reads(ctx: ScenarioContext) -> None:
    """Another tenant's world and runtime answer 404 to every read and are never listed."""
    owned = own_world_with_runtime(ctx)
    other = "other-tenant"
    reads = [
        ctx.api.call("getWorld", path={"world_id": owned.world_id}, role=other),
        ctx.api.call("getRuntime", path={"runtime_id": owned.runtime_id}, role=other),
    ]
    if "world-preview" in ctx.settings.feature_flags:
        reads.append(ctx.api.call("previewWorld", path={"world_id": owned.world_id}, role=other))
    for response in reads:
        ctx.check(
            "P2-AUTH-019",
            response.status == 404,
            "Another tenant's resource can be read",
            f"{response.method} {response.path} answered {response.status} to the other tenant",
            response,
            expected="404",
            actual=f"answered {response.status}",
            expected_status=(404,),
        )
    for operation_id, query in (
        ("listWorlds", None),
        ("listRuntimes", None),
        ("listRuntimes", {"world_id": owned.world_id}),
    ):
        leaked = [item for item in listed(ctx, operation_id, other, query) if _mentions(item, owned)]
        ctx.check(
            "P2-AUTH-019",
            not leaked,
            "Another tenant's resource is listed",
            f"{operation_id}{f' filtered by {query}' if query else ''} showed the other tenant "
            f"{len(leaked)} of the owner's items",
            operation=ctx.contract.operation(operation_id).label,
        )


@check("P2-AUTH-020", kind="scenario", needs=("other-tenant",))
def check_tenant_isolation_writes(ctx: ScenarioContext) -> None:
    """Another tenant's world and runtime answer 404 to every write and stay unchanged."""
    owned = own_world_with_runtime(ctx)
    other = "other-tenant"
    writes = [
        ctx.api.call(
            "updateWorld",
            path={"world_id": owned.world_id},
            json={"description": "changed by another tenant"},
            headers={"If-Match": owned.etag},
            role=other,
        ),
        ctx.api.call("startRuntime", json={"world_id": owned.world_id, "plugin": owned.plugin}, role=other),
        ctx.api.call("stopRuntime", path={"runtime_id": owned.runtime_id}, role=other),
        ctx.api.call("deleteRuntime", path={"runtime_id": owned.runtime_id}, role=other),
        ctx.api.call("deleteWorld", path={"world_id": owned.world_id}, role=other),
    ]
    for response in writes:
        ctx.check(
            "P2-AUTH-020",
            response.status == 404,
            "Another tenant's resource can be changed",
            f"{response.method} {response.path} answered {response.status} to the other tenant",
            response,
            expected="404",
            actual=f"answered {response.status}",
            expected_status=(404,),
        )
        undo_creation(ctx, response, other)
    world = ctx.api.call("getWorld", path={"world_id": owned.world_id})
    ctx.check(
        "P2-AUTH-020",
        world.status == 200 and world.json_or_none() == owned.world,
        "Another tenant's write changed the owner's world",
        f"the owner now reads {world.status} {'(changed)' if world.status == 200 else ''}",
        world,
    )
    runtime = ctx.api.call("getRuntime", path={"runtime_id": owned.runtime_id})
    document = runtime.json_or_none() if runtime.status == 200 else None
    unchanged = isinstance(document, dict) and (document.get("status"), document.get("version")) == (
        owned.runtime.get("status"),
        owned.runtime.get("version"),
    )
    ctx.check(
        "P2-AUTH-020",
        unchanged,
        "Another tenant's write changed the owner's runtime",
        f"the owner now reads {runtime.status} status={document.get('status') if document else None!r}",
        runtime,
    )
    runtimes = [item.get("id") for item in listed(ctx, "listRuntimes", "primary", {"world_id": owned.world_id})]
    ctx.check(
        "P2-AUTH-020",
        runtimes == [owned.runtime_id],
        "Another tenant started a runtime on the owner's world",
        f"the owner's world has runtimes {runtimes}",
        operation=ctx.contract.operation("startRuntime").label,
    )


@check("P2-AUTH-021", kind="scenario", needs=("other-tenant",))
def check_tenant_isolation_events(ctx: ScenarioContext) -> None:
    """Events about another tenant's resources are never listed or streamed."""
    owned = own_world_with_runtime(ctx)
    other = "other-tenant"
    own_events = ctx.require(
        ctx.api.call("listEvents", query={"subject": f"worlds/{owned.world_id}", "limit": 1}),
        {200},
        "the owner's events",
    ).json()["items"]
    for subject in sorted(owned.subjects):
        filtered = ctx.api.call("listEvents", query={"subject": subject, "limit": MAX_LIMIT}, role=other)
        items = filtered.json_or_none().get("items", []) if isinstance(filtered.json_or_none(), dict) else None
        ctx.check(
            "P2-AUTH-021",
            filtered.status == 200 and items == [],
            "Another tenant's events are listed",
            f"listing subject {subject} as the other tenant answered {filtered.status} with "
            f"{len(items) if items is not None else 'no'} items",
            filtered,
        )
    leaked = [item for item in listed(ctx, "listEvents", other) if _mentions(item, owned)]
    ctx.check(
        "P2-AUTH-021",
        not leaked,
        "Another tenant's events are listed",
        f"the other tenant's event list holds {len(leaked)} events about the owner's resources",
        operation=ctx.contract.operation("listEvents").label,
    )
    # Resume just before the owner's first event, so the stream's backlog is where a leak would be.
    headers = {"Last-Event-ID": str(int(own_events[0]["id"]) - 1)} if own_events else None
    stream = ctx.api.call("streamEvents", query={"wait": 0, "max_events": 1000}, headers=headers, role=other)
    messages, _ = parse_event_stream(stream.body) if stream.status == 200 else ([], False)
    leaked = about(messages, owned.subjects)
    ctx.check(
        "P2-AUTH-021",
        stream.status == 200 and not leaked,
        "Another tenant's events are streamed",
        f"the stream answered {stream.status} with {len(leaked)} events about the owner's resources",
        stream,
    )
