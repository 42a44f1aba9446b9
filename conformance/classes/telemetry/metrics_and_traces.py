"""The telemetry class: /metrics as Prometheus and OpenMetrics, exact counters, traces, request ids.

Counters are judged by difference: scrape, send a known number of requests to one route, scrape
again. The suite runs its scenarios one after another, so between the two scrapes the target
answers only the scenario's requests (and the first scrape, which is counted on the /metrics
route, not the one under test). Traces need the deployment to export OTLP/HTTP spans to the
suite's receiver; without any span at all the trace rules are not applicable, never passed.
"""

from __future__ import annotations

import itertools
import math
import secrets
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from prometheus_client.openmetrics import parser as openmetrics_parser
from prometheus_client.parser import text_string_to_metric_families as parse_prometheus_text

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import check
from conformance.classes.telemetry.request_ids import REQUEST_ID
from conformance.client import bounded
from conformance.client.api_client import NO_TOKEN
from conformance.client.observed import ObservedResponse
from conformance.contract.spec import Operation
from conformance.peers.otlp_receiver import OtlpReceiver, ReceivedSpan

REQUESTS_TOTAL = "phase2_http_requests_total"
DURATION = "phase2_http_request_duration_seconds"
REQUIRED_LABELS = ("method", "route", "status")
OPENMETRICS = "application/openmetrics-text"
OPENMETRICS_ACCEPT = "application/openmetrics-text; version=1.0.0; charset=utf-8"
PROMETHEUS_MEDIA_TYPE = "text/plain"
REQUESTS_PER_ROUTE = 5  # requests a counter scenario sends to its route
# A target may record a request's metrics just after the response left; rescrape this long.
SETTLE_TIMEOUT = 3.0
SETTLE_POLL = 0.1
# Seconds a deployment's exporter may take to deliver: the OpenTelemetry SDK batches spans for 5 s
# by default (OTEL_BSP_SCHEDULE_DELAY), and the wait ends as soon as the spans are in.
TRACE_WAIT = 10.0
GENERATED_IDS = 10  # requests sent without X-Request-ID to judge uniqueness
# The OpenMetrics parser has no annotations; this gives its one entry point a type.
parse_openmetrics_text: Callable[[str], Iterable[Any]] = openmetrics_parser.text_string_to_metric_families
SPAN_ATTRIBUTES = ("http.request.method", "http.route", "http.response.status_code")
# Lines of /metrics handed to a parser: each becomes Python objects, so ten million series would
# exhaust the run's memory before a verdict; far more than any deployment's real exposition.
MAX_METRIC_LINES = 200_000


@dataclass(frozen=True)
class Sample:
    name: str
    labels: dict[str, str]
    value: float


@dataclass(frozen=True)
class Family:
    name: str
    type: str
    samples: tuple[Sample, ...]


def _families(parsed: Iterable[Any]) -> list[Family]:
    return [
        Family(
            family.name,
            family.type,
            tuple(Sample(s.name, dict(s.labels), float(s.value)) for s in family.samples),
        )
        for family in parsed
    ]


def parse_prometheus(text: str) -> list[Family]:
    """Parse Prometheus text exposition format 0.0.4; raises ValueError when it is not."""
    bounded.check_lines(text, MAX_METRIC_LINES, "/metrics")
    try:
        return _families(parse_prometheus_text(text))
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise ValueError(f"not Prometheus text format: {exc}") from None


def parse_openmetrics(text: str) -> list[Family]:
    """Parse OpenMetrics 1.0.0 text (which must end with # EOF); raises ValueError when it is not."""
    bounded.check_lines(text, MAX_METRIC_LINES, "/metrics")
    try:
        return _families(parse_openmetrics_text(text))
    except (ValueError, IndexError, KeyError, TypeError) as exc:
        raise ValueError(f"not OpenMetrics text: {exc}") from None


def family_of(families: list[Family], sample_name: str) -> Family | None:
    """The family holding samples named `sample_name` (a counter's family drops `_total`)."""
    return next((f for f in families if any(s.name == sample_name for s in f.samples)), None)


def samples_named(families: list[Family], sample_name: str) -> list[Sample]:
    return [s for f in families for s in f.samples if s.name == sample_name]


def total(families: list[Family], sample_name: str, where: Callable[[dict[str, str]], bool]) -> float:
    """The sum of the samples named `sample_name` whose labels satisfy `where` (0 when none)."""
    return sum(s.value for s in samples_named(families, sample_name) if where(s.labels))


def histogram_problems(families: list[Family]) -> tuple[int, list[str]]:
    """How many histogram series there are, and how each broken one breaks the rules.

    Per series: bucket counts never decrease as `le` grows, a `+Inf` bucket exists and it equals
    the series' `_count`.
    """
    problems: list[str] = []
    series = 0
    for family in families:
        if family.type != "histogram":
            continue
        buckets: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = defaultdict(list)
        counts: dict[tuple[tuple[str, str], ...], float] = {}
        for sample in family.samples:
            key = tuple(sorted((k, v) for k, v in sample.labels.items() if k != "le"))
            if sample.name == family.name + "_bucket":
                buckets[key].append((float(sample.labels.get("le", "nan")), sample.value))
            elif sample.name == family.name + "_count":
                counts[key] = sample.value
        for key, found in buckets.items():
            series += 1
            ordered = sorted(found)
            values = [value for _, value in ordered]
            broken = [f"le={b:g}: {v:g} < {a:g}" for (_, a), (b, v) in itertools.pairwise(ordered) if v < a]
            if not ordered or not math.isinf(ordered[-1][0]):
                broken.append("no +Inf bucket")
            elif key not in counts:
                broken.append("no _count")
            elif values[-1] != counts[key]:
                broken.append(f"+Inf bucket {values[-1]:g} differs from _count {counts[key]:g}")
            if broken:
                labels = ", ".join(f"{k}={v!r}" for k, v in key)
                problems.append(f"{family.name}{{{labels}}}: {'; '.join(broken[:3])}")
    return series, problems


def route_templates(ctx: ScenarioContext, operation: Operation) -> set[str]:
    """Spellings of an operation's route: the contract's template, with or without the server path."""
    return {operation.path, ctx.contract.server_path + operation.path}


def _scrape(ctx: ScenarioContext, accept: str | None = None) -> ObservedResponse:
    headers = {"Accept": accept} if accept else None
    return ctx.api.call("getMetrics", token=NO_TOKEN, headers=headers)


def _prometheus(ctx: ScenarioContext, what: str) -> tuple[ObservedResponse, list[Family]]:
    """A scrape parsed as Prometheus text; the scenario is blocked when the scrape is unusable."""
    response = ctx.require(_scrape(ctx), {200}, f"scrape /metrics {what}")
    try:
        return response, parse_prometheus(response.text())
    except ValueError as exc:
        ctx.blocked(f"/metrics {what} does not parse ({exc}); see P2-TEL-001")


@check("P2-TEL-001", kind="scenario")
def check_metrics_exposition(ctx: ScenarioContext) -> None:
    """/metrics parses as Prometheus text exposition format 0.0.4."""
    response = _scrape(ctx)
    if response.status != 200:
        ctx.fail("P2-TEL-001", "/metrics did not answer 200", f"got {response.status}", response)
        return
    problems = []
    if response.media_type != PROMETHEUS_MEDIA_TYPE:
        problems.append(f"Content-Type is {response.headers.get('content-type', '(none)')!r}, not text/plain")
    try:
        if not parse_prometheus(response.text()):
            problems.append("the exposition holds no metric family")
    except ValueError as exc:
        problems.append(str(exc))
    ctx.check("P2-TEL-001", not problems, "/metrics is not Prometheus text format", "; ".join(problems), response)


@check("P2-TEL-002", kind="scenario")
def check_metrics_openmetrics(ctx: ScenarioContext) -> None:
    """/metrics answers OpenMetrics 1.0.0 when Accept asks for application/openmetrics-text."""
    response = _scrape(ctx, OPENMETRICS_ACCEPT)
    problems = [] if response.status == 200 else [f"HTTP {response.status}"]
    if response.status == 200:
        if response.media_type != OPENMETRICS:
            problems.append(f"Content-Type is {response.headers.get('content-type', '(none)')!r}")
        else:
            try:
                parse_openmetrics(response.text())
            except ValueError as exc:
                problems.append(str(exc))
    ctx.check("P2-TEL-002", not problems, "/metrics does not answer OpenMetrics", "; ".join(problems), response)


@check("P2-TEL-003", kind="scenario")
def check_metrics_families(ctx: ScenarioContext) -> None:
    """The request counter and duration histogram exist, labelled by method, route and status."""
    ctx.require(ctx.api.call("getLiveness", token=NO_TOKEN), {200}, "a request for the metrics to count")
    response, families = _prometheus(ctx, "after a request")
    problems = []
    for sample_name, kind, series in (
        (REQUESTS_TOTAL, "counter", (REQUESTS_TOTAL,)),
        (DURATION + "_count", "histogram", (DURATION + "_bucket", DURATION + "_count", DURATION + "_sum")),
    ):
        family = family_of(families, sample_name)
        if family is None:
            problems.append(f"no {sample_name} samples")
            continue
        if family.type != kind:
            problems.append(f"{family.name} is a {family.type}, not a {kind}")
        for name in series:
            found = samples_named(families, name)
            if not found:
                problems.append(f"no {name} samples")
            unlabelled = [s for s in found if not all(label in s.labels for label in REQUIRED_LABELS)]
            if unlabelled:
                problems.append(f"{name} without {'/'.join(REQUIRED_LABELS)} labels: {unlabelled[0].labels}")
    ctx.check("P2-TEL-003", not problems, "Required metrics are missing", "; ".join(problems[:6]), response)


def _settled_delta(
    ctx: ScenarioContext, before: float, expected: float, count: Callable[[list[Family]], float]
) -> tuple[float, ObservedResponse]:
    """The counter's growth, rescraping briefly while it is short of `expected` (late recording)."""
    deadline = time.monotonic() + min(SETTLE_TIMEOUT, max(ctx.time_left, 0.0))
    while True:
        response, families = _prometheus(ctx, "after the requests")
        delta = count(families) - before
        if delta >= expected or time.monotonic() >= deadline:
            return delta, response
        time.sleep(SETTLE_POLL)


@check("P2-TEL-004", kind="scenario", exclusive=True)
def check_counter_exact(ctx: ScenarioContext) -> None:
    """The request counter of a route grows by exactly the number of requests answered on it."""
    operation = ctx.contract.operation("getWorld")
    world_id = str(uuid.uuid4())
    templates = route_templates(ctx, operation)

    def count(families: list[Family], status: str) -> float:
        # A target labelling raw paths counts this one world's path: the same single series.
        def ours(labels: dict[str, str]) -> bool:
            route = labels.get("route", "")
            return (
                labels.get("method") == "GET"
                and labels.get("status") == status
                and (route in templates or world_id in route)
            )

        return total(families, REQUESTS_TOTAL, ours)

    probe = ctx.api.call("getWorld", path={"world_id": world_id})
    status = str(probe.status)
    _, families = _prometheus(ctx, "before the requests")
    before = count(families, status)
    for _ in range(REQUESTS_PER_ROUTE):
        ctx.require(ctx.api.call("getWorld", path={"world_id": world_id}), {probe.status}, "the counted request")
    delta, response = _settled_delta(ctx, before, REQUESTS_PER_ROUTE, lambda found: count(found, status))
    ctx.check(
        "P2-TEL-004",
        delta == REQUESTS_PER_ROUTE,
        "Request counter does not match the requests answered",
        f"{REQUESTS_PER_ROUTE} GET {operation.path} requests answered {status}, but {REQUESTS_TOTAL} grew by {delta:g}",
        response,
    )


@check("P2-TEL-005", kind="scenario")
def check_route_is_template(ctx: ScenarioContext) -> None:
    """Requests to many ids make one series, labelled with the contract's path template."""
    operation = ctx.contract.operation("getWorld")
    templates = route_templates(ctx, operation)
    world_ids = [str(uuid.uuid4()) for _ in range(REQUESTS_PER_ROUTE)]
    statuses = {ctx.api.call("getWorld", path={"world_id": world_id}).status for world_id in world_ids}
    response, families = _prometheus(ctx, "after requests to many ids")
    problems = []
    leaked = sorted(
        {
            f"{sample.name}{{{label}={value!r}}}"
            for family in families
            for sample in family.samples
            for label, value in sample.labels.items()
            if any(world_id in value for world_id in world_ids)
        }
    )
    if leaked:
        problems.append(f"labels hold the request ids, one series per id: {', '.join(leaked[:3])}")
    templated = [
        s
        for s in samples_named(families, REQUESTS_TOTAL)
        if s.labels.get("route") in templates
        and s.labels.get("method") == "GET"
        and s.labels.get("status") in {str(status) for status in statuses}
    ]
    if not templated:
        problems.append(f"no {REQUESTS_TOTAL} series with route {operation.path!r} for these requests")
    ctx.check("P2-TEL-005", not problems, "Route label is not the path template", "; ".join(problems), response)


@check("P2-TEL-006", kind="scenario", exclusive=True)
def check_histogram_buckets(ctx: ScenarioContext) -> None:
    """Histogram buckets are cumulative and the +Inf bucket equals the count."""
    ctx.require(ctx.api.call("getLiveness", token=NO_TOKEN), {200}, "a request for the histogram to observe")
    response, families = _prometheus(ctx, "for its histograms")
    series, problems = histogram_problems(families)
    if not series:
        ctx.blocked("/metrics exposes no histogram buckets to judge; see P2-TEL-003")
    ctx.check(
        "P2-TEL-006",
        not problems,
        "Histogram buckets are not cumulative",
        f"{len(problems)} of {series} series: " + "; ".join(problems[:3]),
        response,
    )


# --- traces -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Traced:
    operation: Operation
    trace_id: str
    parent_span_id: str
    response: ObservedResponse


def _traced_call(ctx: ScenarioContext, operation_id: str, path: dict[str, str] | None = None, **kwargs: Any) -> _Traced:
    trace_id, parent_span_id = secrets.token_hex(16), secrets.token_hex(8)
    headers = {"traceparent": f"00-{trace_id}-{parent_span_id}-01"}
    response = ctx.api.call(operation_id, path=path, headers=headers, **kwargs)
    return _Traced(ctx.contract.operation(operation_id), trace_id, parent_span_id, response)


def _attribute_problems(ctx: ScenarioContext, span: ReceivedSpan, traced: _Traced | None) -> list[str]:
    missing = [name for name in SPAN_ATTRIBUTES if name not in span.attributes]
    if missing or traced is None:
        return [f"span {span.name!r} lacks {', '.join(missing)}"] if missing else []
    expected: dict[str, set[Any]] = {
        "http.request.method": {traced.response.method},
        "http.route": set(route_templates(ctx, traced.operation)),
        "http.response.status_code": {traced.response.status},
    }
    return [
        f"span {span.name!r} has {name}={span.attributes[name]!r}, expected one of {sorted(map(str, values))}"
        for name, values in expected.items()
        if span.attributes[name] not in values
    ]


@check("P2-TEL-007", "P2-TEL-008", kind="scenario", needs=("otlp",))
def check_trace_context(ctx: ScenarioContext) -> None:
    """A request's traceparent is continued by a server span carrying the HTTP attributes."""
    receiver: OtlpReceiver = ctx.resources.otlp
    already = len(receiver.spans)
    traced = [
        _traced_call(ctx, "getLiveness", token=NO_TOKEN),
        _traced_call(ctx, "getEngineInfo"),
        _traced_call(ctx, "getWorld", path={"world_id": str(uuid.uuid4())}),
    ]
    trace_ids = {t.trace_id for t in traced}
    server_spans = receiver.wait_for(
        lambda span: span.is_server and span.trace_id in trace_ids,
        timeout=min(TRACE_WAIT, max(ctx.time_left, 0.0)),
        count=len(traced),
    )
    if not receiver.spans:
        refusals = receiver.refusals
        if refusals:
            why = "; ".join(f"{reason} ({count}x)" for reason, count in refusals.items())
            reason = (
                f"the suite's OTLP receiver refused every export of the target ({receiver.rejected}): {why}; "
                "send OTLP/HTTP protobuf or JSON to verify trace propagation"
            )
        else:
            reason = (
                f"the target exported no span to the suite's OTLP receiver within {TRACE_WAIT:g}s; "
                f"start it with OTEL_EXPORTER_OTLP_ENDPOINT={receiver.endpoint} (OTLP/HTTP protobuf or JSON, "
                "fix the port with --otlp-receiver-port) to verify trace propagation"
            )
        for requirement_id in ("P2-TEL-007", "P2-TEL-008"):
            ctx.not_applicable(requirement_id, reason)
        return
    judged_attributes = False
    for call in traced:
        ours = [span for span in server_spans if span.trace_id == call.trace_id]
        child = next((span for span in ours if span.parent_span_id == call.parent_span_id), None)
        if child is None:
            detail = (
                f"server spans of trace {call.trace_id} have parents {[s.parent_span_id for s in ours]}"
                if ours
                else f"no server span in trace {call.trace_id} arrived within {TRACE_WAIT:g}s"
            )
        ctx.check(
            "P2-TEL-007",
            child is not None,
            "Server span does not continue the caller's traceparent",
            "" if child is not None else f"{call.response.method} {call.response.path}: {detail}",
            call.response,
        )
        for span in ours:
            judged_attributes = True
            problems = _attribute_problems(ctx, span, call)
            ctx.check(
                "P2-TEL-008",
                not problems,
                "Server span lacks HTTP attributes",
                "; ".join(problems),
                call.response,
            )
    if not judged_attributes:
        # No span could be tied to a request: every server span exported meanwhile is judged instead.
        for span in [s for s in receiver.spans[already:] if s.is_server]:
            problems = _attribute_problems(ctx, span, None)
            ctx.check(
                "P2-TEL-008",
                not problems,
                "Server span lacks HTTP attributes",
                "; ".join(problems),
                operation=span.name,
            )


# --- request ids ------------------------------------------------------------------------------


@check("P2-TEL-009", "P2-TEL-010", kind="scenario")
def check_request_ids(ctx: ScenarioContext) -> None:
    """A sent X-Request-ID is echoed; ids the target generates are present, valid and unique."""
    chosen = f"p2c-{uuid.uuid4().hex}"
    echo_calls: list[tuple[str, dict[str, Any]]] = [
        ("getLiveness", {"token": NO_TOKEN}),
        ("getEngineInfo", {}),
        ("getWorld", {"path": {"world_id": str(uuid.uuid4())}}),
        ("listWorlds", {"token": NO_TOKEN}),  # a 401 echoes too
    ]
    for operation_id, kwargs in echo_calls:
        response = ctx.api.call(operation_id, headers={"X-Request-ID": chosen}, **kwargs)
        returned = response.headers.get("x-request-id")
        ctx.check(
            "P2-TEL-009",
            returned == chosen,
            "X-Request-ID not echoed",
            f"{response.status} answer: sent {chosen!r}, got {returned!r}",
            response,
        )
    generated: dict[str, ObservedResponse] = {}
    for index in range(GENERATED_IDS):
        operation_id, kwargs = echo_calls[index % len(echo_calls)]
        response = ctx.api.call(operation_id, **kwargs)
        returned = response.headers.get("x-request-id")
        valid = returned is not None and REQUEST_ID.match(returned) is not None and returned != chosen
        ctx.check(
            "P2-TEL-009",
            valid,
            "Response without a valid generated X-Request-ID",
            f"{response.status} answer carries X-Request-ID {returned!r}",
            response,
        )
        if returned is None:
            continue
        repeated = generated.get(returned)
        ctx.check(
            "P2-TEL-010",
            repeated is None,
            "Generated X-Request-ID repeated",
            f"{returned!r} was already generated for {repeated.method} {repeated.path}" if repeated else "",
            response,
        )
        generated[returned] = response
