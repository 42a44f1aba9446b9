"""Handlers of the runtimes tag."""

from __future__ import annotations

from phase2_reference.gateway.handlers.registry import cursor_position, operation
from phase2_reference.gateway.http import Call, Reply
from phase2_reference.gateway.state import AppState


@operation("listRuntimes")
async def list_runtimes(state: AppState, call: Call) -> Reply:
    after = cursor_position(state, "runtimes", call)
    filters: dict[str, str] = {
        name: str(call.query[name]) for name in ("world_id", "status", "plugin") if name in call.query
    }
    if "world_id" in filters:
        filters["world_id"] = filters["world_id"].lower()
    page = state.runtimes.list(call.tenant, call.query.get("limit", 20), after, filters)
    return Reply(200, page.body())


@operation("startRuntime")
async def start_runtime(state: AppState, call: Call) -> Reply:
    runtime = state.runtimes.start(call.tenant, call.body)
    state.orchestrator.poke()
    runtime_id = runtime.as_json()["id"]
    return Reply(202, runtime.doc, headers=[("location", f"/v2/runtimes/{runtime_id}"), ("etag", runtime.etag)])


@operation("getRuntime")
async def get_runtime(state: AppState, call: Call) -> Reply:
    runtime = state.runtimes.get(call.tenant, call.path["runtime_id"])
    return Reply(200, runtime.doc, headers=[("etag", runtime.etag)])


@operation("stopRuntime")
async def stop_runtime(state: AppState, call: Call) -> Reply:
    runtime = state.runtimes.stop(call.tenant, call.path["runtime_id"])
    state.orchestrator.poke()
    runtime_id = call.path["runtime_id"]
    return Reply(202, runtime.doc, headers=[("location", f"/v2/runtimes/{runtime_id}"), ("etag", runtime.etag)])


@operation("deleteRuntime")
async def delete_runtime(state: AppState, call: Call) -> Reply:
    state.runtimes.delete(call.tenant, call.path["runtime_id"])
    return Reply(204, content_type=None)
