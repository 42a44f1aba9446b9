"""Handlers of the worlds tag."""

from __future__ import annotations

from phase2_reference.gateway.handlers.registry import cursor_position, operation
from phase2_reference.gateway.http import Call, Reply
from phase2_reference.gateway.state import AppState
from phase2_reference.shared.jsonutil import dumps


@operation("listWorlds")
async def list_worlds(state: AppState, call: Call) -> Reply:
    after = cursor_position(state, "worlds", call)
    page = state.worlds.list(call.tenant, call.query.get("limit", 20), after)
    return Reply(200, page.body())


@operation("createWorld")
async def create_world(state: AppState, call: Call) -> Reply:
    world = state.worlds.create(call.tenant, call.body)
    return Reply(201, world.doc, headers=[("location", f"/v2/worlds/{world.id}"), ("etag", world.etag)])


@operation("getWorld")
async def get_world(state: AppState, call: Call) -> Reply:
    world = state.worlds.get(call.tenant, call.path["world_id"])
    return Reply(200, world.doc, headers=[("etag", world.etag)])


@operation("updateWorld")
async def update_world(state: AppState, call: Call) -> Reply:
    world = state.worlds.update(call.tenant, call.path["world_id"], call.headers.get("if-match"), call.body)
    return Reply(200, world.doc, headers=[("etag", world.etag)])


@operation("deleteWorld")
async def delete_world(state: AppState, call: Call) -> Reply:
    state.worlds.delete(call.tenant, call.path["world_id"], call.headers.get("if-match"))
    return Reply(204, content_type=None)


@operation("previewWorld")
async def preview_world(state: AppState, call: Call) -> Reply:
    return Reply(200, dumps(state.worlds.preview(call.tenant, call.path["world_id"])))
