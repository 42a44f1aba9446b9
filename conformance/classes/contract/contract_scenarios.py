"""Contract-class scenarios: the contract's links honoured, deletions final, no 5xx on odd values.

Schemathesis' stateful phase finds these only when its random walk happens to take the right
steps; these scenarios take them on purpose, following the links the contract declares.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.lanes import each, lanes_for
from conformance.checks.registry import check
from conformance.classes.shared.lifecycle import watch_runtime
from conformance.classes.shared.resources import (
    create_world,
    delete_later,
    plugin_list,
    remember_unreached,
    retire_later,
    retire_runtimes,
    runtime_timeout,
    start_runtime,
    unreached,
)
from conformance.client.api_client import NO_TOKEN
from conformance.client.observed import ObservedResponse
from conformance.contract.spec import Contract

# Bodies for link targets that need one beyond what the link supplies.
LINK_BODIES: dict[str, Any] = {"updateWorld": {"description": "reached through a link"}}
GONE = {404, 410}


@dataclass(frozen=True)
class Link:
    name: str
    source: str  # operationId
    status: str
    target: str
    parameters: Mapping[str, str]
    request_body: Any


def links_of(contract: Contract, operation_id: str) -> Iterator[Link]:
    operation = contract.operation(operation_id)
    responses = contract.raw["paths"][operation.path][operation.method.lower()]["responses"]
    for status, response in responses.items():
        for name, link in (response.get("links") or {}).items():
            yield Link(
                name,
                operation_id,
                status,
                link["operationId"],
                link.get("parameters", {}),
                link.get("requestBody"),
            )


def evaluate(expression: Any, response: ObservedResponse) -> Any:
    """An OpenAPI runtime expression against a response (the subset the contract uses)."""
    if not isinstance(expression, str) or not expression.startswith("$response."):
        return expression
    if expression.startswith("$response.header."):
        return response.headers.get(expression.removeprefix("$response.header.").lower())
    if expression.startswith("$response.body#"):
        node = response.json()
        for part in expression.split("#", 1)[1].lstrip("/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")] if part else node
        return node
    raise ValueError(f"unsupported runtime expression {expression}")


def follow(ctx: ScenarioContext, link: Link, response: ObservedResponse) -> ObservedResponse:
    target = ctx.contract.operation(link.target)
    path: dict[str, str] = {}
    headers: dict[str, str] = {}
    for key, expression in link.parameters.items():
        value = str(evaluate(expression, response))
        if key.startswith("header."):
            headers[key.removeprefix("header.")] = value
        else:
            path[key.removeprefix("path.")] = value
    body = link.request_body
    if isinstance(body, dict):
        body = {k: evaluate(v, response) for k, v in body.items()}
    elif body is None:
        body = LINK_BODIES.get(target.operation_id)
    return ctx.api.call(target.operation_id, path=path, headers=headers, json=body)


def _settle(ctx: ScenarioContext, runtime_id: str, status: str) -> None:
    """Wait for `status` (or an end); blocked at once when runtimes were shown not to reach it."""
    known = unreached(ctx, status)
    if known is not None:
        ctx.blocked(known)
    timeout = runtime_timeout(ctx)
    watch = watch_runtime(ctx.api, runtime_id, {status}, timeout)
    if watch.reached is None:
        remember_unreached(ctx, status, watch, timeout)
        ctx.blocked(f"runtime {runtime_id} did not reach {status}: {watch.error or watch.changes}")


def largest_plugin(ctx: ScenarioContext) -> str:
    return str(max(plugin_list(ctx), key=lambda p: int(p["max_entities"]))["name"])


@check("P2-CON-009", kind="scenario")
def check_links_reach_created_resources(ctx: ScenarioContext) -> None:
    """Every link the contract declares from a create leads to the resource just created."""
    # The links are declared on the create's own answer: follow them from exactly that response.
    world = ctx.require(ctx.api.call("createWorld", json={"name": ctx.unique_name("link")}), {201}, "create a world")
    world_id = world.json()["id"]
    delete_later(ctx, world_id)
    runtime_ids: list[str] = []
    links = sorted(
        links_of(ctx.contract, "createWorld"),
        key=lambda link: ctx.contract.operation(link.target).method == "DELETE",
    )
    for link in links:
        if ctx.contract.operation(link.target).method == "DELETE":
            # A world with a live runtime refuses deletion: stop what the StartRuntime link started.
            retire_runtimes(ctx.api, runtime_ids, ctx.settings.profile.runtime_timeout)
        answer = follow(ctx, link, world)
        _check_reached(ctx, link, answer, "POST /worlds")
        if link.target == "startRuntime" and answer.status == 202:
            runtime_ids.append(answer.json()["id"])
            retire_later(ctx, runtime_ids[-1:])
            for runtime_link in links_of(ctx.contract, "startRuntime"):
                _check_reached(ctx, runtime_link, follow(ctx, runtime_link, answer), "POST /runtimes")


def _check_reached(ctx: ScenarioContext, link: Link, answer: ObservedResponse, operation: str) -> None:
    ctx.check(
        "P2-CON-009",
        200 <= answer.status < 300,
        f"Link {link.name} from {link.source} does not reach the resource it created",
        f"{link.target} answered {answer.status} for the resource {link.source} just returned",
        response=answer,
        operation=operation,
    )


@check("P2-CON-010", kind="scenario")
def check_deleted_resources_are_gone(ctx: ScenarioContext) -> None:
    """After a successful DELETE, every operation on that resource answers 404."""
    world_id = create_world(ctx)["id"]
    runtime_id = start_runtime(ctx, world_id, largest_plugin(ctx))["id"]
    _settle(ctx, runtime_id, "running")
    ctx.api.call("stopRuntime", path={"runtime_id": runtime_id})
    _settle(ctx, runtime_id, "stopped")
    ctx.require(ctx.api.call("deleteRuntime", path={"runtime_id": runtime_id}), {204}, "delete a stopped runtime")
    for operation_id in ("getRuntime", "stopRuntime", "deleteRuntime"):
        answer = ctx.api.call(operation_id, path={"runtime_id": runtime_id})
        ctx.check(
            "P2-CON-010",
            answer.status in GONE,
            "A deleted runtime is still there",
            f"{operation_id} answered {answer.status} after deleteRuntime answered 204",
            response=answer,
            operation="DELETE /runtimes/{runtime_id}",
        )
    ctx.require(ctx.api.call("deleteWorld", path={"world_id": world_id}), {204}, "delete a world")
    probes: list[tuple[str, dict[str, Any]]] = [
        ("getWorld", {}),
        ("updateWorld", {"headers": {"If-Match": "*"}, "json": {"description": "after delete"}}),
        ("deleteWorld", {}),
    ]
    if "world-preview" in ctx.settings.feature_flags:
        probes.append(("previewWorld", {}))
    for operation_id, extra in probes:
        answer = ctx.api.call(operation_id, path={"world_id": world_id}, **extra)
        ctx.check(
            "P2-CON-010",
            answer.status in GONE,
            "A deleted world is still there",
            f"{operation_id} answered {answer.status} after deleteWorld answered 204",
            response=answer,
            operation="DELETE /worlds/{world_id}",
        )


# Well-formed JSON whose values are odd: the deployment may refuse them, never fail on them.
ODD_STRINGS = (
    "Ωmega 世界 🚀",
    "\u202etxet desrever",
    "zero\u200bwidth",
    "nul\u0000byte",
    "x" * 10_000,
    "' OR 1=1 --",
    "<script>alert(1)</script>",
    "../../etc/passwd",
    "%s%n%x",
    "\ud7ff\ue000\uffff",
)
ODD_VALUES: tuple[Any, ...] = (None, True, -1, 2**63, 1e308, [], {}, [[[[[[[[[[[]]]]]]]]]]])


def _bodies_for(field_names: list[str]) -> Iterator[dict[str, Any]]:
    for field in field_names:
        for value in (*ODD_STRINGS, *ODD_VALUES):
            yield {field: value}


@check("P2-CON-008", kind="scenario", cost=1.5)
def check_odd_values_never_fail_the_server(ctx: ScenarioContext) -> None:
    """Well-formed bodies with odd values (unicode, huge numbers, NUL, deep nesting) never get a 5xx."""
    world_id = create_world(ctx)["id"]
    targets: list[tuple[str, dict[str, Any], list[str]]] = [
        ("createWorld", {}, ["name", "description", "labels", "settings"]),
        (
            "updateWorld",
            {"path": {"world_id": world_id}, "headers": {"If-Match": "*"}},
            ["name", "description", "labels"],
        ),
        ("startRuntime", {}, ["world_id", "plugin", "parameters"]),
        ("login", {"token": NO_TOKEN}, ["client_id", "client_secret", "scope"]),
        ("refreshToken", {"token": NO_TOKEN}, ["refresh_token"]),
    ]
    lanes = lanes_for(ctx.settings.workers)
    for operation_id, call, fields in targets:
        if ctx.time_left < 5:
            ctx.blocked("out of time before every odd value was sent")
        # Each body is judged on its own answer: they go out side by side.
        each(partial(_send_odd_value, ctx, operation_id, call), _bodies_for(fields), lanes)


def _send_odd_value(ctx: ScenarioContext, operation_id: str, call: dict[str, Any], body: dict[str, Any]) -> None:
    label = ctx.contract.operation(operation_id).label
    if operation_id == "login":
        body = {"client_id": "nobody", "client_secret": "nothing", **body}
    answer = ctx.api.call(operation_id, json=body, negative=True, **call)
    created = answer.json_or_none() if answer.status == 201 else None
    if isinstance(created, dict) and isinstance(created.get("id"), str):
        delete_later(ctx, created["id"])
    elif answer.status == 202 and isinstance(answer.json_or_none(), dict):
        retire_later(ctx, [answer.json()["id"]])
    ctx.check(
        "P2-CON-008",
        answer.status < 500,
        "A well-formed body with an odd value got a server error",
        f"{label} answered {answer.status} to {_describe(body)}",
        response=answer,
        operation=label,
    )


def _describe(body: Mapping[str, Any]) -> str:
    text = repr(dict(body))
    return text if len(text) < 120 else text[:117] + "..."


def required_headers(contract: Contract) -> Iterator[tuple[str, str]]:
    """(operationId, header name) for every header parameter the contract marks required."""
    for operation in contract.operations:
        item = contract.raw["paths"][operation.path]
        for parameter in (*item.get("parameters", []), *item[operation.method.lower()].get("parameters", [])):
            resolved = parameter
            while "$ref" in resolved:
                target: Any = contract.raw
                for part in resolved["$ref"].removeprefix("#/").split("/"):
                    target = target[part]
                resolved = target
            if resolved.get("in") == "header" and resolved.get("required"):
                yield operation.operation_id, str(resolved["name"])


@check("P2-CON-007", kind="scenario")
def check_missing_required_headers(ctx: ScenarioContext) -> None:
    """A request without a header the contract requires is refused with 4xx, on a real resource."""
    world_id = create_world(ctx)["id"]
    bodies = {"updateWorld": {"description": "no precondition"}}
    for operation_id, header in required_headers(ctx.contract):
        operation = ctx.contract.operation(operation_id)
        if operation.feature_flag and operation.feature_flag not in ctx.settings.feature_flags:
            continue
        path = {name: world_id for name in operation.path_parameters if name == "world_id"}
        if set(operation.path_parameters) - set(path):
            continue  # no resource of that kind at hand: Schemathesis' coverage phase covers it
        answer = ctx.api.call(operation_id, path=path, json=bodies.get(operation_id), negative=True)
        ctx.check(
            "P2-CON-007",
            400 <= answer.status < 500,
            f"Request without the required {header} header was not refused",
            f"{operation.label} answered {answer.status} without {header}",
            response=answer,
            operation=operation.label,
        )
