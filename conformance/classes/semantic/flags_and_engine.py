"""Scenario checks of the semantic class on feature flags and the engine: flagged operations off
and on, the engine's self-description and its plugins (P2-SEM-019..022).

Every scenario works only on data it creates itself (unique names, ids it holds), removes it
afterwards, and ignores everything else a shared deployment holds. A broken precondition blocks
the scenario instead of blaming the rule it verifies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import check
from conformance.classes.protocol.protocol_responses import response_schema_errors
from conformance.classes.shared.resources import create_world, plugin_list, settle_runtime, start_runtime
from conformance.classes.shared.verdicts import differences, plugin_problems, preview_problems, scheduler_problems
from conformance.client.observed import ObservedResponse

API_VERSION = re.compile(r"^2\.[0-9]+\.[0-9]+$")


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
        settle_runtime(ctx, runtime["id"], "running")
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
                expected="404",
                actual=f"answered {response.status}",
                expected_status=(404,),
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
