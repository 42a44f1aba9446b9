"""Handlers of the engine tag."""

from __future__ import annotations

from phase2_reference.engines.plugins import PLUGINS
from phase2_reference.gateway.handlers.registry import operation
from phase2_reference.gateway.http import Call, Reply
from phase2_reference.gateway.state import AppState
from phase2_reference.shared.clock import timestamp
from phase2_reference.shared.jsonutil import dumps
from phase2_reference.shared.problems import not_found

ENGINE_NAME = "phase2-reference"


@operation("getEngineInfo")
async def get_engine_info(state: AppState, call: Call) -> Reply:
    enabled = set(state.config.feature_flags)
    if state.faults.active("engine-flags-wrong"):
        enabled = set(state.contract.feature_flags) - enabled
    flags = [flag for flag in state.contract.feature_flags if flag in enabled]
    return Reply(
        200,
        dumps(
            {
                "name": ENGINE_NAME,
                "version": state.version,
                "api_version": state.contract.api_version,
                "feature_flags": flags,
                "plugin_count": len(PLUGINS),
            }
        ),
    )


@operation("listPlugins")
async def list_plugins(state: AppState, call: Call) -> Reply:
    return Reply(200, dumps({"items": [plugin.as_json() for plugin in PLUGINS.values()]}))


@operation("getPlugin")
async def get_plugin(state: AppState, call: Call) -> Reply:
    name = call.path["plugin_name"]
    plugin = PLUGINS.get(name)
    if state.faults.active("single-plugin") and name != next(iter(PLUGINS)):
        plugin = None
    if plugin is None:
        raise not_found("The engine has no plugin with this name.")
    return Reply(200, dumps(plugin.as_json()), headers=[("etag", f'"{plugin.version}"')])


@operation("getScheduler")
async def get_scheduler(state: AppState, call: Call) -> Reply:
    by_status, live_by_plugin = state.runtimes.counts(call.tenant)
    return Reply(
        200,
        dumps(
            {
                "runtimes_by_status": by_status,
                "plugins": [{"name": name, "live_runtimes": count} for name, count in live_by_plugin.items()],
                "observed_at": timestamp(),
            }
        ),
    )
