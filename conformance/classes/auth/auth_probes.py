"""What the auth scenarios share: probes of protected operations, reading the refusals they get, and
whether the target trusts the suite's test issuer.

Refusal rules are tried on every protected operation the contract declares (flagged ones while
their flag is on), each called with a request that is valid in every other respect: path ids are
random (authentication comes before existence, so 401 and 403 come before 404), bodies are the
contract's own examples. Token edge cases are minted by the suite's test issuer; a control token
from it must be accepted first, or those rules are not applicable on this deployment.
"""

from __future__ import annotations

import re
import secrets
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import jwt

from conformance.checks.context import ScenarioContext
from conformance.client.observed import ObservedResponse
from conformance.contract.spec import Operation
from conformance.peers.token_issuer import TestIssuer

# Query parameters that keep a probe short: one item per page, a stream that ends at once.
PROBE_QUERY = {"limit": 1, "max_events": 1, "wait": 0}
FALLBACK_TENANT = "phase2-conformance"  # when the primary's token carries no tenant claim
CONTROL_OPERATION = "listWorlds"
STATUS_POLL = 0.1
_AUTH_PARAM = re.compile(r'([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))')


# --- reading refusals -------------------------------------------------------------------------


def challenge_scheme(response: ObservedResponse) -> str | None:
    """The auth scheme of the WWW-Authenticate challenge, lower-cased (None when absent)."""
    challenge = response.headers.get("www-authenticate", "").strip()
    return challenge.split(None, 1)[0].rstrip(",").lower() if challenge else None


def challenge_params(response: ObservedResponse) -> dict[str, str]:
    """The auth-params of the WWW-Authenticate challenge (`error`, `scope`, `realm`, ...)."""
    challenge = response.headers.get("www-authenticate", "").strip()
    parts = challenge.split(None, 1)
    if len(parts) < 2:
        return {}
    return {
        m.group(1).lower(): m.group(2) if m.group(2) is not None else m.group(3) for m in _AUTH_PARAM.finditer(parts[1])
    }


def oauth_error(response: ObservedResponse) -> str | None:
    """The OAuth error code of a refusal: the Bearer challenge's `error`, else the problem's `error`."""
    from_challenge = challenge_params(response).get("error")
    if from_challenge is not None:
        return from_challenge
    document = response.json_or_none()
    error = document.get("error") if isinstance(document, dict) else None
    return error if isinstance(error, str) else None


def refusal_problem(response: ObservedResponse, status: int, error: str) -> str | None:
    """Why `response` is not a refusal with `status` and OAuth `error` (None when it is)."""
    if response.status != status:
        return f"{response.method} {response.path} answered {response.status}, not {status}"
    found = oauth_error(response)
    if found != error:
        return f"{response.method} {response.path} answered {status} with error={found!r}, not {error!r}"
    return None


def refusal_facts(response: ObservedResponse, status: int, error: str) -> dict[str, Any]:
    """`ctx.check`'s expected/actual for a refusal rule: the status alone decides replays when it was wrong."""
    actual = f"answered {response.status}"
    if response.status == status:
        actual += f" with error={oauth_error(response)!r}"
    return {
        "expected": f"{status} {error}",
        "actual": actual,
        "expected_status": (status,) if response.status != status else (),
    }


# --- probing any operation --------------------------------------------------------------------


def enabled_protected(ctx: ScenarioContext) -> list[Operation]:
    """The protected operations the target serves: flagged ones only while their flag is on."""
    return [
        operation
        for operation in ctx.contract.protected_operations()
        if operation.feature_flag is None or operation.feature_flag in ctx.settings.feature_flags
    ]


def _resolved(raw: Mapping[str, Any], node: Any) -> Any:
    while isinstance(node, Mapping) and isinstance(node.get("$ref"), str):
        target: Any = raw
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@dataclass(frozen=True)
class Probe:
    """A request to one operation that is valid except, perhaps, for its credentials."""

    operation: Operation
    path: dict[str, str]
    query: dict[str, Any]
    body: Any
    headers: dict[str, str] = field(default_factory=dict)


def probe_for(ctx: ScenarioContext, operation: Operation) -> Probe:
    """Random ids, the contract's example body (with a fresh name and world id), required headers."""
    raw = ctx.contract.raw
    definition = raw["paths"][operation.path][operation.method.lower()]
    parameters = [
        _resolved(raw, p)
        for p in (*raw["paths"][operation.path].get("parameters", []), *definition.get("parameters", []))
    ]
    path: dict[str, str] = {}
    query: dict[str, Any] = {}
    headers: dict[str, str] = {}
    for parameter in parameters:
        schema = _resolved(raw, parameter.get("schema", {}))
        if parameter["in"] == "path":
            path[parameter["name"]] = (
                str(uuid.uuid4()) if schema.get("format") == "uuid" else f"p2c-{secrets.token_hex(4)}"
            )
        elif parameter["in"] == "query" and parameter["name"] in PROBE_QUERY:
            query[parameter["name"]] = PROBE_QUERY[parameter["name"]]
        elif parameter["in"] == "header" and parameter.get("required"):
            headers[parameter["name"]] = str((schema.get("examples") or ['"1"'])[0])
    body = None
    if operation.body_required:
        content = definition["requestBody"]["content"][operation.request_media_types[0]]
        example: Any = next(iter(content.get("examples", {}).values()), {})
        body = dict(_resolved(raw, example).get("value", {}))
        if "name" in body:
            body["name"] = ctx.unique_name("p2c-auth")
        if "world_id" in body:
            body["world_id"] = str(uuid.uuid4())
    return Probe(operation, path, query, body, headers)


def send_probe(ctx: ScenarioContext, operation: Operation, **credentials: Any) -> ObservedResponse:
    """Send the operation's probe with `token=`, `role=` or `scope=`; undo what it created."""
    probe = probe_for(ctx, operation)
    response = ctx.api.call(
        operation.operation_id,
        path=probe.path,
        query=probe.query,
        json=probe.body,
        headers=probe.headers,
        **credentials,
    )
    undo_creation(ctx, response, "other-tenant" if credentials.get("role") == "other-tenant" else "primary")
    return response


def undo_creation(ctx: ScenarioContext, response: ObservedResponse, owner: str) -> None:
    """A call that should have been refused may have created something: its tenant's admin undoes it."""
    document = response.json_or_none()
    created_id = document.get("id") if isinstance(document, dict) else None
    operation_id = response.operation.operation_id if response.operation else None
    if not isinstance(created_id, str):
        return
    if operation_id == "createWorld" and response.status == 201:
        ctx.on_cleanup(lambda: ctx.api.call("deleteWorld", path={"world_id": created_id}, role=owner))
    elif operation_id == "startRuntime" and response.status == 202:
        ctx.on_cleanup(lambda: stop_quietly(ctx, created_id, owner))


def wait_for_status(ctx: ScenarioContext, runtime_id: str, wanted: set[str], role: str = "primary") -> ObservedResponse:
    deadline = time.monotonic() + min(ctx.settings.profile.runtime_timeout, max(ctx.time_left - 5, 0.0))
    while True:
        response = ctx.api.call("getRuntime", path={"runtime_id": runtime_id}, role=role)
        document = response.json_or_none()
        if response.status != 200 or (isinstance(document, dict) and document.get("status") in wanted):
            return response
        if time.monotonic() >= deadline:
            return response
        time.sleep(STATUS_POLL)


def stop_quietly(ctx: ScenarioContext, runtime_id: str, role: str = "primary") -> None:
    ctx.api.call("stopRuntime", path={"runtime_id": runtime_id}, role=role)
    wait_for_status(ctx, runtime_id, {"stopped", "failed"}, role)


# --- the test issuer's control token ----------------------------------------------------------


def all_scopes(ctx: ScenarioContext) -> list[str]:
    return sorted({scope for operation in ctx.contract.operations for scope in operation.scopes})


def primary_tenant(ctx: ScenarioContext) -> str:
    """The tenant claim of the primary client's own token, so test-issuer tokens act in its tenant."""
    try:
        claims = jwt.decode(ctx.api.tokens.token("primary"), options={"verify_signature": False})
    except jwt.PyJWTError:
        return FALLBACK_TENANT
    tenant = claims.get("tenant")
    return tenant if isinstance(tenant, str) and tenant else FALLBACK_TENANT


def trusted_issuer(ctx: ScenarioContext) -> tuple[TestIssuer, str] | str:
    """The test issuer and tenant when the target accepts its control token; else why not."""
    issuer: TestIssuer | None = ctx.resources.test_issuer
    if issuer is None:
        return "the suite's test issuer is not running"
    tenant = primary_tenant(ctx)
    control = issuer.valid(tenant, " ".join(all_scopes(ctx)))
    ctx.recorder.redactor.register(control)
    response = send_probe(ctx, ctx.contract.operation(CONTROL_OPERATION), token=control)
    if response.status in (401, 403):
        return (
            f"the deployment refused a valid token of the suite's test issuer ({response.status} on "
            f"{response.operation.label if response.operation else CONTROL_OPERATION}), so it does not trust "
            f"the issuer {issuer.issuer}; see README 'Trusting the test issuer (vendors)'"
        )
    ctx.require(response, range(200, 300), "the test issuer's control token")
    return issuer, tenant
