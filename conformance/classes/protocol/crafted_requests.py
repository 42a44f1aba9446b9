"""Request-side protocol checks: the cross-cutting rules that need crafted requests to judge.

For every operation of the contract that takes a body: a body over 1 MiB answers 413, a body of
a media type the operation does not accept answers 415, an unknown field answers 4xx, malformed
JSON and invalid UTF-8 answer 400 problem+json, and none of them writes anything. For every path,
each method it does not declare answers 405 with an Allow header listing the declared ones.
The response-side halves of these rules live in `conformance.classes.protocol.protocol_responses`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from conformance.checks.context import ScenarioContext
from conformance.checks.lanes import each, lanes_for
from conformance.checks.registry import check
from conformance.classes.protocol.crafted_bodies import BodyTarget, Workspace, body_targets, encode
from conformance.classes.protocol.protocol_responses import PROBLEM_MEDIA_TYPE
from conformance.classes.shared.resources import create_world, delete_world, plugin_list, start_runtime
from conformance.client.observed import ObservedResponse

BODY_LIMIT = 1024 * 1024
OVERSIZE = BODY_LIMIT + 1024
FOREIGN_MEDIA_TYPES = ("text/plain", "application/xml")
UNKNOWN_FIELD = "p2c_unknown_field"
INVALID_UTF8_MARKER = "P2CINVALIDUTF8"
INVALID_UTF8 = b"p2c-\xc3\x28-\xff\xfe"  # a broken two-byte sequence, then bytes UTF-8 never uses
PROBED_METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")
IMPLICIT_METHODS = frozenset({"HEAD", "OPTIONS"})  # a server may allow these on any path

# A variant breaks a valid document one way: (what it is, build(target, requirement) → body, type).
Variant = tuple[str, Callable[[BodyTarget, str], tuple[bytes, str]]]
Verdict = Callable[[ObservedResponse], str | None]


def _accepted(target: BodyTarget) -> str:
    return target.operation.request_media_types[0]


def _probe_bodies(
    ctx: ScenarioContext, requirement_id: str, title: str, variants: Sequence[Variant], verdict: Verdict
) -> None:
    """Send each variant to every operation with a body; judge the answer and what was written."""
    workspace = Workspace.prepare(ctx)
    targets = body_targets(workspace)

    def probe(target: BodyTarget) -> None:
        for what, build in variants:
            content, content_type = build(target, requirement_id)
            response = target.send(content, content_type)
            problem = verdict(response)
            ctx.check(
                requirement_id,
                problem is None,
                f"{title}: {what}",
                f"{target.operation.operation_id} answered {response.status}" + (f" ({problem})" if problem else ""),
                response=response,
            )
            written = target.written(response)
            if written is not None:
                ctx.check(
                    requirement_id,
                    not written,
                    f"A request with {what} wrote anyway",
                    f"{target.operation.operation_id}: " + "; ".join(written),
                    response=response,
                )

    try:
        # The operations side by side, each one's variants in turn: a write one of them should not
        # have made can only be blamed on a probe of this same requirement.
        each(probe, targets, lanes_for(ctx.settings.workers))
    finally:
        for target in targets:
            target.finish()
    for world_id, blamed in workspace.stray_worlds().items():
        if blamed == requirement_id:
            ctx.fail(
                requirement_id,
                "A refused create left a world behind",
                f"world {world_id} carries the name of a refused create",
                operation="POST /worlds",
            )
        delete_world(ctx.api, world_id)


def _status(expected: int) -> Verdict:
    return lambda response: None if response.status == expected else f"expected {expected}"


@check("P2-PRO-009", kind="scenario")
def check_body_limit(ctx: ScenarioContext) -> None:
    """A request body over 1 MiB is refused with 413 and nothing is written."""

    def oversized(target: BodyTarget, requirement_id: str) -> tuple[bytes, str]:
        # Valid JSON padded with whitespace: a deployment without a limit would accept it.
        body = encode(target.document(requirement_id))
        return body + b" " * (OVERSIZE - len(body)), _accepted(target)

    _probe_bodies(
        ctx,
        "P2-PRO-009",
        "A body over 1 MiB was not refused with 413",
        [(f"a {OVERSIZE}-byte body", oversized)],
        _status(413),
    )


@check("P2-PRO-010", kind="scenario")
def check_unsupported_media_type(ctx: ScenarioContext) -> None:
    """A request body of a media type the operation does not accept is refused with 415."""
    declared = {media for operation in ctx.contract.operations for media in operation.request_media_types}
    variants: list[Variant] = []
    for media_type in sorted(declared | set(FOREIGN_MEDIA_TYPES)):

        def labelled(target: BodyTarget, requirement_id: str, media_type: str = media_type) -> tuple[bytes, str]:
            if media_type in target.operation.request_media_types:
                media_type = FOREIGN_MEDIA_TYPES[0]  # this one it accepts; send a foreign one instead
            # The bytes are the valid JSON document: only the label is wrong.
            return encode(target.document(requirement_id)), media_type

        variants.append((f"a body labelled {media_type}", labelled))
    _probe_bodies(
        ctx,
        "P2-PRO-010",
        "A body of a media type the operation does not accept was not refused",
        variants,
        _status(415),
    )


@check("P2-PRO-011", kind="scenario")
def check_unknown_fields(ctx: ScenarioContext) -> None:
    """A request body holding a field the contract does not define is refused with 4xx and writes nothing."""

    def with_unknown(target: BodyTarget, requirement_id: str) -> tuple[bytes, str]:
        return encode({**target.document(requirement_id), UNKNOWN_FIELD: "p2c"}), _accepted(target)

    _probe_bodies(
        ctx,
        "P2-PRO-011",
        "A body with an unknown field was not refused",
        [(f"an unknown field {UNKNOWN_FIELD!r}", with_unknown)],
        lambda response: None if 400 <= response.status < 500 else "expected a 4xx status",
    )


@check("P2-PRO-013", kind="scenario")
def check_malformed_bodies(ctx: ScenarioContext) -> None:
    """A malformed body (invalid JSON or UTF-8) is refused with 400 problem+json and writes nothing."""

    def truncated(target: BodyTarget, requirement_id: str) -> tuple[bytes, str]:
        return encode(target.document(requirement_id))[:-1], _accepted(target)

    def invalid_utf8(target: BodyTarget, requirement_id: str) -> tuple[bytes, str]:
        # The broken bytes sit in a free-text field, so a lenient decoder would accept the document.
        body = encode(target.document(requirement_id, INVALID_UTF8_MARKER))
        return body.replace(INVALID_UTF8_MARKER.encode(), INVALID_UTF8), _accepted(target)

    def verdict(response: ObservedResponse) -> str | None:
        if response.status != 400:
            return "expected 400"
        if response.media_type != PROBLEM_MEDIA_TYPE:
            return f"the 400 is {response.media_type or 'untyped'}, not {PROBLEM_MEDIA_TYPE}"
        return None

    _probe_bodies(
        ctx,
        "P2-PRO-013",
        "A malformed body was not refused with 400 problem+json",
        [("truncated JSON", truncated), ("invalid UTF-8", invalid_utf8)],
        verdict,
    )


@check("P2-PRO-006", kind="scenario", cost=2.0)
def check_undeclared_methods(ctx: ScenarioContext) -> None:
    """Every method a path does not declare answers 405 with an Allow header listing the declared ones."""
    plugins = plugin_list(ctx)
    world = create_world(ctx, settings={"max_entities": 10})
    capable = [plugin for plugin in plugins if plugin["max_entities"] >= 10] or plugins
    runtime = start_runtime(ctx, world["id"], capable[0]["name"])
    # Real ids, so a 404 for an unknown resource cannot stand in for the 405.
    fillers = {"world_id": world["id"], "runtime_id": runtime["id"], "plugin_name": plugins[0]["name"]}
    authorization = {"Authorization": f"Bearer {ctx.api.tokens.token('primary')}"}
    enabled = ctx.settings.feature_flags
    for template in ctx.contract.raw["paths"]:
        operations = [operation for operation in ctx.contract.operations if operation.path == template]
        if all(op.feature_flag is not None and op.feature_flag not in enabled for op in operations):
            continue  # while its flag is off the path does not exist, and 404 is the right answer
        path = template
        for name, value in fillers.items():
            path = path.replace("{" + name + "}", value)
        if "{" in path:
            continue  # a path parameter this suite has no real value for
        declared = {operation.method for operation in operations}
        for method in PROBED_METHODS:
            if method in declared:
                continue
            with_body = method in ("POST", "PUT", "PATCH")
            response = ctx.api.raw(
                method,
                path,
                headers={**authorization, **({"Content-Type": "application/json"} if with_body else {})},
                content=b"{}" if with_body else None,
            )
            problem = _allow_problem(response, declared)
            ctx.check(
                "P2-PRO-006",
                problem is None,
                "An undeclared method was not answered 405 with Allow",
                f"{method} {template}: {problem}",
                response=response,
                operation=operations[0].label,
            )


def _allow_problem(response: ObservedResponse, declared: set[str]) -> str | None:
    if response.status != 405:
        return f"answered {response.status}, not 405"
    allow = response.headers.get("allow")
    if allow is None:
        return "405 without an Allow header"
    allowed = {method.strip().upper() for method in allow.split(",") if method.strip()}
    missing, extra = declared - allowed, allowed - declared - IMPLICIT_METHODS
    if missing or extra:
        return (
            f"Allow is {allow!r}; the contract declares {', '.join(sorted(declared))}"
            + (f" (missing {', '.join(sorted(missing))})" if missing else "")
            + (f" (undeclared {', '.join(sorted(extra))})" if extra else "")
        )
    return None
