"""What the deployment says about itself: readiness per component, metrics, its feature flags,
whether it throttles the suite, and whether its spans reach the suite's OTLP receiver."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from conformance.classes.telemetry.metrics_and_traces import REQUESTS_TOTAL, parse_prometheus
from conformance.client.transport import NO_USABLE_ANSWER, LimitedClient
from conformance.doctor.findings import Finding, failed, ok
from conformance.peers.otlp_receiver import OtlpReceiver
from conformance.settings import Settings

FLAG_REQUIREMENTS = ("P2-SEM-019", "P2-SEM-020", "P2-SEM-021")
READINESS_REQUIREMENTS = ("P2-HLT-002",)
METRICS_REQUIREMENTS = tuple(f"P2-TEL-{n:03d}" for n in range(1, 7))
SPAN_REQUIREMENTS = ("P2-TEL-007", "P2-TEL-008")
# A run sends hundreds of requests a minute: a deployment that throttles a short burst of reads
# will throttle the run, and every 429 is a request that tested nothing.
RATE_PROBE_REQUESTS = 10
SPAN_WAIT = 10.0  # seconds: exporters batch spans (the reference every 0.2 s, OTel's default 5 s)


@dataclass
class Throttles:
    """Every 429 the doctor received, from any request."""

    seen: list[tuple[str, str]] = field(default_factory=list)  # (method and path, Retry-After)

    def hook(self) -> Callable[[httpx.Response], None]:
        def on_response(response: httpx.Response) -> None:
            if response.status_code == 429:
                request = response.request
                self.seen.append((f"{request.method} {request.url.path}", response.headers.get("retry-after", "")))

        return on_response


def _get(client: LimitedClient, url: str, **headers: str) -> httpx.Response | str:
    try:
        return client.get(url, headers=headers)
    except NO_USABLE_ANSWER as exc:
        return " ".join(str(exc).split())[:200] or type(exc).__name__


def readiness(client: LimitedClient, base_url: str) -> list[Finding]:
    response = _get(client, base_url + "/readyz", Accept="application/json")
    if isinstance(response, str):
        return [
            failed("readyz", f"GET /readyz failed: {response}", "see the deployment's logs", READINESS_REQUIREMENTS)
        ]
    try:
        document = response.json()
        checks = document["checks"]
        if not isinstance(checks, dict):  # not an assert: `python -O` would let a list through
            raise TypeError("checks is not an object")
    except (ValueError, KeyError, TypeError):
        return [
            failed(
                "readyz",
                f"GET /readyz answered {response.status_code} without a readiness document",
                "the deployment must serve the contract's Readiness document at /readyz",
                READINESS_REQUIREMENTS,
            )
        ]
    findings = [
        ok("readyz", f"{response.status_code} {document.get('status')}")
        if response.status_code == 200
        else failed(
            "readyz",
            f"{response.status_code} {document.get('status')}",
            "the deployment is not ready: see the failing components below",
            READINESS_REQUIREMENTS,
        )
    ]
    for component, check in sorted(checks.items()):
        status = check.get("status") if isinstance(check, dict) else check
        detail = check.get("detail", "") if isinstance(check, dict) else ""
        name = f"readyz {component}"
        if status == "pass":
            findings.append(ok(name, "pass"))
        else:
            findings.append(failed(name, f"{status} {detail}".strip(), f"restore {component}", READINESS_REQUIREMENTS))
    return findings


def metrics(client: LimitedClient, base_url: str) -> Finding:
    response = _get(client, base_url + "/metrics", Accept="text/plain")
    if isinstance(response, str) or response.status_code != 200:
        what = response if isinstance(response, str) else f"answered {response.status_code}"
        return failed("metrics", f"GET /metrics {what}", "expose Prometheus metrics at /metrics", METRICS_REQUIREMENTS)
    try:
        families = parse_prometheus(response.text)
    except ValueError as exc:
        return failed("metrics", str(exc), "serve Prometheus text format 0.0.4 at /metrics", METRICS_REQUIREMENTS)
    names = {family.name for family in families}
    if REQUESTS_TOTAL.removesuffix("_total") not in names and REQUESTS_TOTAL not in names:
        return failed(
            "metrics",
            f"{len(families)} families, but no {REQUESTS_TOTAL}",
            f"count requests in {REQUESTS_TOTAL} labelled method, route, status",
            METRICS_REQUIREMENTS,
        )
    return ok("metrics", f"{len(families)} families parsed, {REQUESTS_TOTAL} present")


def flags(client: LimitedClient, settings: Settings, access_token: str) -> Finding:
    assert settings.base_url is not None
    response = _get(client, settings.base_url + "/engine", Authorization=f"Bearer {access_token}")
    if isinstance(response, str) or response.status_code != 200:
        what = response if isinstance(response, str) else f"answered {response.status_code}"
        return failed("flags", f"GET /engine {what}", "grant the client engine:read", FLAG_REQUIREMENTS)
    try:
        reported = response.json()["feature_flags"]
        deployed = sorted(str(flag) for flag in reported)
    except (ValueError, KeyError, TypeError):
        return failed(
            "flags", "GET /engine has no feature_flags list", "serve the contract's EngineInfo", FLAG_REQUIREMENTS
        )
    told = sorted(settings.feature_flags)
    if deployed != told:
        wanted = ",".join(deployed)
        return failed(
            "flags",
            f"the deployment reports {deployed or 'none'}, the run's --flags say {told or 'none'}",
            f"pass --flags {wanted} (PHASE2_FEATURE_FLAGS={wanted})"
            if deployed
            else "drop --flags (PHASE2_FEATURE_FLAGS)",
            FLAG_REQUIREMENTS,
        )
    return ok("flags", f"the deployment and the run agree: {deployed or 'none'}")


def rate_limit(client: LimitedClient, settings: Settings, access_token: str, throttles: Throttles) -> Finding:
    assert settings.base_url is not None
    for _ in range(RATE_PROBE_REQUESTS):
        if throttles.seen:
            break
        _get(client, settings.base_url + "/engine", Authorization=f"Bearer {access_token}")
    if throttles.seen:
        where, retry_after = throttles.seen[0]
        return failed(
            "rate limit",
            f"{len(throttles.seen)} answer(s) 429, first to {where} (Retry-After {retry_after or 'missing'})",
            "raise the rate limit of the suite's clients on the deployment: a throttled request tests nothing",
        )
    return ok("rate limit", f"no 429 to {RATE_PROBE_REQUESTS} quick reads")


def spans(client: LimitedClient, settings: Settings, receiver: OtlpReceiver, wait: float = SPAN_WAIT) -> Finding:
    """A callback test: a request with our traceparent must come back as a span to our receiver."""
    assert settings.base_url is not None
    trace_id, parent_span_id = secrets.token_hex(16), secrets.token_hex(8)
    _get(client, settings.base_url + "/healthz", traceparent=f"00-{trace_id}-{parent_span_id}-01")
    arrived = receiver.wait_for(lambda span: span.trace_id == trace_id, timeout=wait)
    if arrived:
        return ok("spans", f"a span of trace {trace_id} reached the suite's OTLP receiver {receiver.endpoint}")
    fix = f"start the deployment with OTEL_EXPORTER_OTLP_ENDPOINT={receiver.endpoint} (OTLP/HTTP protobuf)" + (
        "" if settings.otlp_receiver_port else " and fix that port with --otlp-receiver-port"
    )
    if settings.callback_host == "127.0.0.1" and not settings.reference:
        fix += "; a deployment on another machine reaches the suite at --callback-host"
    other = f" ({len(receiver.spans)} other spans)" if receiver.spans else ""
    return failed("spans", f"no span of trace {trace_id} arrived within {wait:g}s{other}", fix, SPAN_REQUIREMENTS)
