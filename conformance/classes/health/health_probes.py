"""The health class: liveness and readiness probes, their caching, HEAD, latency and an outage.

Probes are called without credentials, as an orchestrator's kubelet or load balancer would.
The outage scenario needs a way to take a component away (the user's --outage-start/--outage-end
commands, or the reference's test controls): it watches readiness report the outage, and always
brings the component back.
"""

from __future__ import annotations

import math
import time
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import check
from conformance.classes.protocol.protocol_responses import response_schema_errors
from conformance.classes.shared.outage_window import OutageWindow
from conformance.client.api_client import NO_TOKEN
from conformance.client.observed import ObservedResponse

COMPONENTS = ("data_store", "event_bus")
PROBES = (("getLiveness", "headLiveness"), ("getReadiness", "headReadiness"))
RECOVERY_TIMEOUT = 10.0  # seconds readiness may take to report a restored component
RECOVERY_POLL = 0.2
# Headers HEAD must repeat from GET; per-response values (X-Request-ID, Date) legitimately differ.
MIRRORED_HEADERS = ("cache-control", "content-type")


def cache_directives(value: str) -> set[str]:
    """The directive names of a Cache-Control value, lower-cased (`no-store`, `max-age`, ...)."""
    return {part.split("=", 1)[0].strip().lower() for part in value.split(",") if part.strip()}


def p95(samples: list[float]) -> float:
    """The 95th percentile by nearest rank: the smallest sample at least 95 % of samples do not exceed."""
    ordered = sorted(samples)
    return ordered[max(math.ceil(0.95 * len(ordered)) - 1, 0)]


def _document_problems(ctx: ScenarioContext, response: ObservedResponse) -> list[str]:
    """Why a probe's body is not the document the contract declares for its status."""
    if response.media_type != "application/json":
        return [f"Content-Type is {response.headers.get('content-type', '(none)')!r}, not application/json"]
    errors = response_schema_errors(ctx.contract, response)
    if errors is None:
        return ["the body is not a JSON document the contract declares for this status"]
    return errors


def _component_status(document: Any, component: str) -> str | None:
    checks = document.get("checks") if isinstance(document, dict) else None
    entry = checks.get(component) if isinstance(checks, dict) else None
    status = entry.get("status") if isinstance(entry, dict) else None
    return status if isinstance(status, str) else None


@check("P2-HLT-001", kind="scenario")
def check_liveness(ctx: ScenarioContext) -> None:
    """/healthz answers 200 without credentials with the Liveness document."""
    response = ctx.api.call("getLiveness", token=NO_TOKEN)
    if response.status != 200:
        ctx.fail(
            "P2-HLT-001",
            "/healthz without credentials did not answer 200",
            f"got {response.status}",
            response,
        )
        return
    problems = _document_problems(ctx, response)
    ctx.check(
        "P2-HLT-001",
        not problems,
        "/healthz body is not the Liveness document",
        "; ".join(problems[:5]),
        response,
    )


@check("P2-HLT-002", kind="scenario")
def check_readiness(ctx: ScenarioContext) -> None:
    """/readyz answers without credentials with a check per component, and 200 when all pass."""
    response = ctx.api.call("getReadiness", token=NO_TOKEN)
    if response.status not in (200, 503):
        ctx.fail(
            "P2-HLT-002",
            "/readyz without credentials answered neither 200 nor 503",
            f"got {response.status}",
            response,
        )
        return
    problems = _document_problems(ctx, response)
    document = response.json_or_none()
    statuses = {component: _component_status(document, component) for component in COMPONENTS}
    problems += [f"no check for {name}" for name, status in statuses.items() if status is None]
    if problems:
        ctx.fail("P2-HLT-002", "/readyz does not report each component", "; ".join(problems[:5]), response)
        return
    all_pass = all(status == "pass" for status in statuses.values())
    if response.status == 503 and not all_pass:
        failing = ", ".join(name for name, status in statuses.items() if status != "pass")
        ctx.blocked(f"the target is not ready ({failing} failing), so 200-when-ready cannot be seen")
    holds = response.status == 200 and all_pass and isinstance(document, dict) and document.get("status") == "ready"
    ctx.check(
        "P2-HLT-002",
        holds,
        "/readyz does not answer 200 ready while every component passes",
        f"HTTP {response.status}, status {document.get('status')!r}, components {statuses}",
        response,
    )


@check("P2-HLT-003", kind="scenario", needs=("outage",), exclusive=True)
def check_readiness_outage(ctx: ScenarioContext) -> None:
    """With a component gone /readyz answers 503 naming it, with Retry-After; 200 once it is back."""
    ctx.require(ctx.api.call("getReadiness", token=NO_TOKEN), {200}, "readiness before the outage")
    window = OutageWindow(ctx)
    window.open()
    down = window.until(lambda: ctx.api.call("getReadiness", token=NO_TOKEN), lambda answer: answer.status == 503)
    expected = window.outage.component
    problems = [] if down.status == 503 else [f"HTTP {down.status} instead of 503"]
    if down.status == 503:
        problems += _document_problems(ctx, down)
        document = down.json_or_none()
        if expected is not None and _component_status(document, expected) != "fail":
            problems.append(f"{expected} is {_component_status(document, expected)!r}, not 'fail'")
        if expected is None and not any(_component_status(document, name) == "fail" for name in COMPONENTS):
            problems.append(f"no component is 'fail' ({', '.join(COMPONENTS)})")
        if isinstance(document, dict) and document.get("status") != "not_ready":
            problems.append(f"status is {document.get('status')!r}, not 'not_ready'")
        if not down.headers.get("retry-after", "").strip():
            problems.append("no Retry-After")
    # Judged once the component is back: an outage that cannot be ended verifies nothing.
    window.close()
    ctx.check(
        "P2-HLT-003",
        not problems,
        f"/readyz does not report the outage made by {window.outage.description}",
        "; ".join(problems[:5]),
        down,
    )
    deadline = time.monotonic() + min(RECOVERY_TIMEOUT, max(ctx.time_left, 0.0))
    recovered = ctx.api.call("getReadiness", token=NO_TOKEN)
    while recovered.status != 200 and time.monotonic() < deadline:
        time.sleep(RECOVERY_POLL)
        recovered = ctx.api.call("getReadiness", token=NO_TOKEN)
    ctx.check(
        "P2-HLT-003",
        recovered.status == 200,
        "/readyz does not answer 200 again once the component is back",
        f"still {recovered.status} {RECOVERY_TIMEOUT:g}s after the component came back",
        recovered,
        expected="200",
        actual=f"answered {recovered.status}",
        expected_status=(200,),
    )


@check("P2-HLT-004", kind="scenario")
def check_health_not_cached(ctx: ScenarioContext) -> None:
    """Every health response, GET and HEAD, carries Cache-Control no-store."""
    for operation_id in (operation for pair in PROBES for operation in pair):
        response = ctx.api.call(operation_id, token=NO_TOKEN)
        if response.operation is not None and str(response.status) not in response.operation.statuses:
            continue  # not a probe's answer (HEAD refused with 405, say): P2-HLT-005 judges that
        cache_control = response.headers.get("cache-control", "")
        ctx.check(
            "P2-HLT-004",
            "no-store" in cache_directives(cache_control),
            "Health response may be cached",
            f"{response.method} {response.path} answered Cache-Control {cache_control or '(absent)'!r}",
            response,
        )


@check("P2-HLT-005", kind="scenario")
def check_health_head(ctx: ScenarioContext) -> None:
    """HEAD on the health endpoints answers GET's status and headers, without a body."""
    for get_id, head_id in PROBES:
        got = ctx.api.call(get_id, token=NO_TOKEN)
        head = ctx.api.call(head_id, token=NO_TOKEN)
        problems = [] if head.status == got.status else [f"HEAD answered {head.status}, GET {got.status}"]
        if head.body:
            problems.append(f"HEAD answered with a {len(head.body)}-byte body")
        for name in MIRRORED_HEADERS:
            if head.status == got.status and name in head.headers and head.headers[name] != got.headers.get(name):
                problems.append(f"{name} is {head.headers[name]!r} on HEAD but {got.headers.get(name)!r} on GET")
        ctx.check(
            "P2-HLT-005",
            not problems,
            "HEAD does not mirror GET on a health endpoint",
            "; ".join(problems),
            head,
        )


@check("P2-HLT-006", kind="scenario", exclusive=True)
def check_liveness_latency(ctx: ScenarioContext) -> None:
    """The 95th percentile of /healthz latency over repeated calls stays under the budget."""
    budget = ctx.settings.liveness_budget_ms
    samples: list[float] = []
    slowest: ObservedResponse | None = None
    for _ in range(ctx.settings.profile.liveness_samples):
        started = time.perf_counter()
        response = ctx.api.call("getLiveness", token=NO_TOKEN)
        # The transport's own timing excludes the suite's response checks run after the call.
        elapsed = response.elapsed_ms if response.elapsed_ms is not None else (time.perf_counter() - started) * 1000
        samples.append(elapsed)
        if slowest is None or elapsed >= max(samples):
            slowest = response
    percentile = p95(samples)
    median = sorted(samples)[len(samples) // 2]
    ctx.check(
        "P2-HLT-006",
        percentile < budget,
        "/healthz is too slow",
        f"p95 {percentile:.1f} ms over {len(samples)} calls (median {median:.1f} ms, "
        f"max {max(samples):.1f} ms); the budget is {budget:g} ms",
        slowest,
    )
