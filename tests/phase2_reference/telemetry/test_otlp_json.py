"""OTLP/HTTP with the JSON encoding: hex ids, integer enums, posted as application/json."""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from phase2_reference.telemetry.otlp_json import ID_FIELDS, JsonSpanExporter, to_otlp_json


def finished_spans() -> tuple[ReadableSpan, ...]:
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("GET /worlds", kind=SpanKind.SERVER), tracer.start_as_current_span("query"):
        pass
    provider.shutdown()
    return memory.get_finished_spans()


def spans_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        span
        for resource_spans in document["resourceSpans"]
        for scope_spans in resource_spans["scopeSpans"]
        for span in scope_spans["spans"]
    ]


def test_ids_are_hex_and_enums_integers_and_nothing_else_changes() -> None:
    spans = finished_spans()
    document = to_otlp_json(spans)
    by_name = {span["name"]: span for span in spans_of(document)}
    for span in spans:
        encoded = by_name[span.name]
        assert span.context is not None
        assert encoded["traceId"] == format(span.context.trace_id, "032x")
        assert encoded["spanId"] == format(span.context.span_id, "016x")
    assert by_name["query"]["parentSpanId"] == by_name["GET /worlds"]["spanId"]
    assert by_name["GET /worlds"]["kind"] == SpanKind.SERVER.value + 1  # OTLP's SPAN_KIND_SERVER is 2
    # Back to base64 ids, the document is exactly the SDK's own protobuf request.
    for span in spans_of(document):
        for name in ID_FIELDS:
            if name in span:
                span[name] = base64.b64encode(bytes.fromhex(span[name])).decode()
    assert json_format.ParseDict(document, ExportTraceServiceRequest()) == encode_spans(spans)


@pytest.fixture
def receiver() -> Iterator[tuple[list[tuple[str, bytes]], list[int], str]]:
    """A loopback OTLP endpoint recording (content type, body), answering the next queued status."""
    received: list[tuple[str, bytes]] = []
    statuses: list[int] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append((self.headers["Content-Type"], body))
            self.send_response(statuses.pop(0) if statuses else 200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received, statuses, f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    server.shutdown()
    server.server_close()


def test_the_exporter_posts_json_and_reports_the_answer(
    receiver: tuple[list[tuple[str, bytes]], list[int], str],
) -> None:
    received, statuses, endpoint = receiver
    exporter = JsonSpanExporter(endpoint)
    spans = finished_spans()
    try:
        assert exporter.export(spans) is SpanExportResult.SUCCESS
        statuses.append(500)
        assert exporter.export(spans) is SpanExportResult.FAILURE
    finally:
        exporter.shutdown()
    content_type, body = received[0]
    assert content_type == "application/json"
    assert json.loads(body) == to_otlp_json(spans)


def test_an_unreachable_endpoint_is_a_failed_export() -> None:
    with ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler) as closed:
        port = closed.server_address[1]
    exporter = JsonSpanExporter(f"http://127.0.0.1:{port}/v1/traces")
    try:
        assert exporter.export(finished_spans()) is SpanExportResult.FAILURE
    finally:
        exporter.shutdown()
