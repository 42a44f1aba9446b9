"""OpenTelemetry server spans, exported over OTLP/HTTP (protobuf, or JSON when asked) when an endpoint is set.

One SERVER span per request, named "<METHOD> <route>", continuing the caller's W3C traceparent
(a malformed one is ignored and a new trace starts). The provider belongs to the app, not the
process, so several apps in one process export independently.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping

from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Span, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from phase2_reference.telemetry.otlp_json import JsonSpanExporter
from phase2_reference.testing.faults import ActiveFaults

SCHEDULE_DELAY_MILLIS = 200
# The last batch's export at shutdown gets this long: a collector that is gone would otherwise hold
# the server's exit for the exporter's whole retry schedule (about 8 s of back-off within its 10 s).
SHUTDOWN_GRACE_SECONDS = 2.0


class Tracing:
    def __init__(self, endpoint: str | None, faults: ActiveFaults, version: str, *, encoding: str = "protobuf") -> None:
        self.faults = faults
        self._propagator = TraceContextTextMapPropagator()
        self._provider: TracerProvider | None = None
        self._tracer: Tracer | None = None
        self._exporter: SpanExporter | None = None
        if endpoint:
            self._provider = TracerProvider(
                resource=Resource.create({"service.name": "phase2-reference", "service.version": version})
            )
            traces_url = endpoint.rstrip("/") + "/v1/traces"
            exporter: SpanExporter = (
                JsonSpanExporter(traces_url) if encoding == "json" else OTLPSpanExporter(endpoint=traces_url)
            )
            self._exporter = exporter
            self._provider.add_span_processor(BatchSpanProcessor(exporter, schedule_delay_millis=SCHEDULE_DELAY_MILLIS))
            self._tracer = self._provider.get_tracer("phase2_reference")

    @property
    def enabled(self) -> bool:
        return self._tracer is not None

    def start(self, method: str, headers: Mapping[str, str]) -> Span | None:
        if self._tracer is None:
            return None
        context: Context | None = None
        if not self.faults.active("trace-ignores-traceparent") and "traceparent" in headers:
            carrier = {name: headers[name] for name in ("traceparent", "tracestate") if name in headers}
            context = self._propagator.extract(carrier=carrier)
        return self._tracer.start_span(method, context=context, kind=SpanKind.SERVER)

    def finish(
        self,
        span: Span,
        *,
        method: str,
        route: str,
        status: int,
        path: str,
        scheme: str,
        host: str,
        port: int,
    ) -> None:
        span.update_name(f"{method} {route}")
        if not self.faults.active("span-missing-attributes"):
            span.set_attributes(
                {
                    "http.request.method": method,
                    "http.route": route,
                    "http.response.status_code": status,
                    "url.path": path,
                    "url.scheme": scheme,
                    "server.address": host,
                    "server.port": port,
                }
            )
        span.end()

    def flush(self) -> None:
        if self._provider is not None:
            self._provider.force_flush()

    def shutdown(self) -> None:
        """Export what is left, for at most `SHUTDOWN_GRACE_SECONDS`: then the exporter is shut,
        which ends a retry it is waiting on (the batch processor's own shutdown would wait 30 s)."""
        if self._provider is None or self._exporter is None:
            return
        cut_short = threading.Timer(SHUTDOWN_GRACE_SECONDS, self._exporter.shutdown)
        cut_short.daemon = True
        cut_short.start()
        try:
            self._provider.shutdown()
        finally:
            cut_short.cancel()
