"""The OTLP receiver, fed real ExportTraceServiceRequest protobufs as an exporter sends them."""

from __future__ import annotations

import gzip
import os
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from conformance.peers.otlp_receiver import OtlpReceiver, decode_export

PROTOBUF = {"Content-Type": "application/x-protobuf"}


@pytest.fixture
def receiver() -> Iterator[OtlpReceiver]:
    with OtlpReceiver(port=0) as running:
        yield running


def export(trace_id: bytes, parent: bytes = b"", kind: int = Span.SPAN_KIND_SERVER) -> ExportTraceServiceRequest:
    span = Span(
        trace_id=trace_id,
        span_id=os.urandom(8),
        parent_span_id=parent,
        name="GET /worlds/{world_id}",
        kind=kind,  # type: ignore[arg-type]
        attributes=[
            KeyValue(key="http.request.method", value=AnyValue(string_value="GET")),
            KeyValue(key="http.route", value=AnyValue(string_value="/worlds/{world_id}")),
            KeyValue(key="http.response.status_code", value=AnyValue(int_value=404)),
        ],
    )
    resource = Resource(attributes=[KeyValue(key="service.name", value=AnyValue(string_value="under-test"))])
    return ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=[span])])]
    )


def test_stores_the_spans_of_a_protobuf_export(receiver: OtlpReceiver) -> None:
    trace_id, parent = os.urandom(16), os.urandom(8)
    answer = httpx.post(
        receiver.endpoint + "/v1/traces",
        content=export(trace_id, parent).SerializeToString(),
        headers=PROTOBUF,
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-protobuf"
    ExportTraceServiceResponse().ParseFromString(answer.content)
    (span,) = receiver.spans
    assert span.trace_id == trace_id.hex()
    assert span.parent_span_id == parent.hex()
    assert span.is_server
    assert span.attributes == {
        "http.request.method": "GET",
        "http.route": "/worlds/{world_id}",
        "http.response.status_code": 404,
    }
    assert span.resource == {"service.name": "under-test"}
    assert receiver.exports == 1


def test_accepts_gzip_content_encoding(receiver: OtlpReceiver) -> None:
    trace_id = os.urandom(16)
    body = gzip.compress(export(trace_id).SerializeToString())
    answer = httpx.post(
        receiver.endpoint + "/v1/traces", content=body, headers={**PROTOBUF, "Content-Encoding": "gzip"}
    )
    assert answer.status_code == 200
    assert [span.trace_id for span in receiver.spans] == [trace_id.hex()]


def test_accepts_a_chunked_body(receiver: OtlpReceiver) -> None:
    trace_id = os.urandom(16)
    body = gzip.compress(export(trace_id).SerializeToString())

    def chunks() -> Iterator[bytes]:
        # Without a length, httpx sends Transfer-Encoding: chunked, as a streaming exporter would.
        yield body[:10]
        yield body[10:]

    answer = httpx.post(
        receiver.endpoint + "/v1/traces", content=chunks(), headers={**PROTOBUF, "Content-Encoding": "gzip"}
    )
    assert answer.status_code == 200
    assert answer.request.headers["transfer-encoding"] == "chunked"
    assert [span.trace_id for span in receiver.spans] == [trace_id.hex()]


def test_refuses_what_is_not_an_export(receiver: OtlpReceiver) -> None:
    traces = receiver.endpoint + "/v1/traces"
    assert httpx.post(traces, content=b"\xff\xff\xff", headers=PROTOBUF).status_code == 400
    assert httpx.post(traces, content=b"x", headers={**PROTOBUF, "Content-Encoding": "gzip"}).status_code == 400
    assert httpx.post(traces, content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 400
    assert httpx.post(receiver.endpoint + "/v1/elsewhere", content=b"").status_code == 404
    # Other signals an exporter may send to the same endpoint are accepted and dropped.
    assert httpx.post(receiver.endpoint + "/v1/metrics", content=b"", headers=PROTOBUF).status_code == 200
    assert receiver.spans == []
    assert receiver.rejected == 3


def test_wait_for_returns_as_soon_as_a_matching_span_arrives(receiver: OtlpReceiver) -> None:
    trace_id = os.urandom(16)
    body = export(trace_id).SerializeToString()
    sender = threading.Timer(0.2, lambda: httpx.post(receiver.endpoint + "/v1/traces", content=body, headers=PROTOBUF))
    sender.start()
    started = time.monotonic()
    found = receiver.wait_for(lambda span: span.trace_id == trace_id.hex(), timeout=10)
    sender.join()
    assert [span.trace_id for span in found] == [trace_id.hex()]
    assert time.monotonic() - started < 5


def test_wait_for_gives_up_at_the_timeout(receiver: OtlpReceiver) -> None:
    started = time.monotonic()
    assert receiver.wait_for(lambda span: True, timeout=0.3) == []
    assert 0.25 < time.monotonic() - started < 3


def test_decode_export_reads_protobuf_without_a_content_type() -> None:
    trace_id = os.urandom(16)
    decoded = decode_export(export(trace_id).SerializeToString(), "", "identity")
    assert decoded.resource_spans[0].scope_spans[0].spans[0].trace_id == trace_id
    with pytest.raises(ValueError, match="Content-Encoding"):
        decode_export(b"", "application/x-protobuf", "br")


def otlp_json(trace_id: bytes, span_id: bytes, parent: bytes = b"") -> dict[str, object]:
    """An export in OTLP/JSON as the specification writes it: hex ids, lowerCamelCase, integer enums."""
    span: dict[str, object] = {
        "traceId": trace_id.hex(),
        "spanId": span_id.hex(),
        "name": "GET /worlds/{world_id}",
        "kind": 2,
        "startTimeUnixNano": "1700000000000000000",
        "attributes": [{"key": "http.response.status_code", "value": {"intValue": "404"}}],
        "aFieldOfALaterVersion": True,  # receivers ignore unknown fields
    }
    if parent:
        span["parentSpanId"] = parent.hex()
    return {
        "resourceSpans": [
            {
                "resource": {"attributes": [{"key": "service.name", "value": {"stringValue": "under-test"}}]},
                "scopeSpans": [{"spans": [span]}],
            }
        ]
    }


def test_stores_the_spans_of_a_json_export(receiver: OtlpReceiver) -> None:
    trace_id, span_id, parent = os.urandom(16), os.urandom(8), os.urandom(8)
    answer = httpx.post(receiver.endpoint + "/v1/traces", json=otlp_json(trace_id, span_id, parent))
    assert answer.status_code == 200
    (span,) = receiver.spans
    assert (span.trace_id, span.span_id, span.parent_span_id) == (trace_id.hex(), span_id.hex(), parent.hex())
    assert span.is_server
    assert span.attributes == {"http.response.status_code": 404}
    assert span.resource == {"service.name": "under-test"}


def test_a_refused_export_says_why(receiver: OtlpReceiver) -> None:
    traces = receiver.endpoint + "/v1/traces"
    # The protobuf JSON mapping without OTLP's rule: ids in base64, not hex.
    base64_ids = {"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "AAECAwQFBgcICQoLDA0ODw=="}]}]}]}
    assert httpx.post(traces, json=base64_ids).status_code == 400
    assert httpx.post(traces, content=b"[" * 100_000, headers={"Content-Type": "application/json"}).status_code == 400
    assert httpx.post(traces, content=b"{}", headers={"Content-Type": "text/plain"}).status_code == 400
    reasons = list(receiver.refusals)
    assert "is not hex, as OTLP/JSON requires" in reasons[0]
    assert "not an ExportTraceServiceRequest (JSON)" in reasons[1]
    assert "unsupported Content-Type 'text/plain'" in reasons[2]
    assert receiver.rejected == 3
    assert receiver.spans == []
