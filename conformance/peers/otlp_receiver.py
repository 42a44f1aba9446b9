"""The suite's OTLP/HTTP trace receiver: where a deployment under test exports its spans.

It accepts `POST /v1/traces` in both encodings the OTLP specification defines for OTLP/HTTP:
binary protobuf (`application/x-protobuf`, the exporters' default) and JSON (`application/json`:
the protobuf JSON mapping, with trace and span ids as hex strings), optionally gzip-compressed. It
keeps the spans so the telemetry class can look for the server span of a request it sent with its
own `traceparent`, and the reasons of the exports it refused, so a report can say why no span came.

    with OtlpReceiver(port=0) as receiver:   # OTEL_EXPORTER_OTLP_ENDPOINT=receiver.endpoint
        spans = receiver.wait_for(lambda span: span.trace_id == trace_id, timeout=5)
"""

from __future__ import annotations

import base64
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from conformance.client import bounded
from conformance.peers.loopback_server import BodyRefused, LoopbackServer, read_body

TRACES_PATH = "/v1/traces"
# Other signals an exporter configured with one endpoint may send; accepted and dropped.
IGNORED_PATHS = ("/v1/metrics", "/v1/logs")
MAX_BODY_BYTES = 16 * 1024 * 1024
MAX_SPANS = 50_000  # a chatty deployment must not grow the run's memory without bound
# Limits on one export, checked before its spans are built: its size once decompressed, and its
# spans (a few bytes each on the wire, hundreds once turned into Python objects).
MAX_DECODED_BYTES = 32 * 1024 * 1024
MAX_SPANS_PER_EXPORT = 10_000
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MAX_REFUSALS = 5  # distinct refusal reasons kept for the report
SPAN_KIND_SERVER = 2  # opentelemetry.proto.trace.v1.Span.SpanKind.SPAN_KIND_SERVER


@dataclass(frozen=True)
class ReceivedSpan:
    """One span as received, ids in lower-case hex (the traceparent spelling)."""

    trace_id: str
    span_id: str
    parent_span_id: str
    name: str
    kind: int
    attributes: dict[str, Any] = field(default_factory=dict)
    resource: dict[str, Any] = field(default_factory=dict)

    @property
    def is_server(self) -> bool:
        return self.kind == SPAN_KIND_SERVER


def _value(value: AnyValue) -> Any:
    which = value.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_value(item) for item in value.array_value.values]
    if which == "kvlist_value":
        return _attributes(value.kvlist_value.values)
    if which == "bytes_value":
        return value.bytes_value.hex()
    return getattr(value, which)


def _attributes(items: Any) -> dict[str, Any]:
    pairs: list[KeyValue] = list(items)
    return {pair.key: _value(pair.value) for pair in pairs}


def spans_of(request: ExportTraceServiceRequest) -> list[ReceivedSpan]:
    """Flatten an export request into its spans, each with its resource's attributes."""
    spans = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append(
                    ReceivedSpan(
                        trace_id=span.trace_id.hex(),
                        span_id=span.span_id.hex(),
                        parent_span_id=span.parent_span_id.hex(),
                        name=span.name,
                        kind=int(span.kind),
                        attributes=_attributes(span.attributes),
                        resource=resource,
                    )
                )
    return spans


class ExportTooLarge(bounded.LimitExceeded):
    """An export over the receiver's limits: refused, and the run told (it cannot pass on it)."""


def decode_export(body: bytes, content_type: str, content_encoding: str) -> ExportTraceServiceRequest:
    """Decode one `POST /v1/traces` body; raises ValueError when it is not an export request,
    `ExportTooLarge` when it is over the limits (a decompression bomb, too many spans)."""
    if any(coding not in ("gzip", "x-gzip") for coding in bounded.codings_of(content_encoding)):
        raise ValueError(f"unsupported Content-Encoding {content_encoding!r}")
    try:
        body = bounded.decode(body, content_encoding, MAX_DECODED_BYTES)
    except bounded.LimitExceeded as exc:
        if str(exc).startswith("body is not valid"):
            raise ValueError(str(exc)) from None
        raise ExportTooLarge(f"export {exc}") from None
    media_type = content_type.split(";")[0].strip().lower()
    if media_type == JSON:
        request = _decode_json(body)
    elif media_type in (PROTOBUF, ""):
        request = ExportTraceServiceRequest()
        try:
            request.ParseFromString(body)
        except Exception as exc:  # protobuf's DecodeError, whose module ships no type stubs
            raise ValueError(f"not an ExportTraceServiceRequest (protobuf): {exc}") from None
    else:
        raise ValueError(f"unsupported Content-Type {content_type!r}; OTLP/HTTP is {PROTOBUF} or {JSON}")
    count = sum(len(scope.spans) for resource in request.resource_spans for scope in resource.scope_spans)
    if count > MAX_SPANS_PER_EXPORT:
        raise ExportTooLarge(f"export holds {count} spans (at most {MAX_SPANS_PER_EXPORT} are read)")
    return request


# Bytes fields OTLP/JSON writes as hex, where the protobuf JSON mapping would write base64.
_HEX_ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def _decode_json(body: bytes) -> ExportTraceServiceRequest:
    """OTLP/JSON: the protobuf JSON mapping, ids in hex, unknown fields ignored (the spec's rule)."""
    try:
        document = bounded.loads(body, max_bytes=MAX_DECODED_BYTES)
    except (ValueError, RecursionError) as exc:
        raise ValueError(f"not an ExportTraceServiceRequest (JSON): {' '.join(str(exc).split())[:200]}") from None
    if not isinstance(document, dict):
        raise ValueError("not an ExportTraceServiceRequest (JSON): the body is not an object")
    try:
        for resource_spans in document.get("resourceSpans") or []:
            for scope_spans in resource_spans.get("scopeSpans") or []:
                for span in scope_spans.get("spans") or []:
                    _ids_to_base64(span)
                    for link in span.get("links") or []:
                        _ids_to_base64(link)
        request = ExportTraceServiceRequest()
        json_format.ParseDict(document, request, ignore_unknown_fields=True)
    except (AttributeError, TypeError, ValueError, RecursionError, json_format.ParseError) as exc:
        raise ValueError(f"not an ExportTraceServiceRequest (JSON): {' '.join(str(exc).split())[:200]}") from None
    return request


def _ids_to_base64(node: Any) -> None:
    if not isinstance(node, dict):
        raise TypeError("a span or link is not an object")
    for name in _HEX_ID_FIELDS:
        value = node.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str):
            raise TypeError(f"{name} is not a hex string")
        try:
            node[name] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
        except ValueError:
            raise ValueError(f"{name} {value[:40]!r} is not hex, as OTLP/JSON requires") from None


class OtlpReceiver(LoopbackServer):
    """An OTLP/HTTP receiver on loopback with a thread-safe store of the spans it received."""

    thread_name = "otlp-receiver"

    def app(self) -> ASGIApp:
        return _app_for(self)

    def __init__(self, port: int = 0, host: str = "127.0.0.1", on_refused: Callable[[str], None] | None = None) -> None:
        super().__init__(port, host)
        self._spans: list[ReceivedSpan] = []
        self._changed = threading.Condition()
        self.exports = 0  # export requests accepted
        self.rejected = 0  # requests that were not valid exports
        self._refusals: dict[str, int] = {}  # why, and how often (the first MAX_REFUSALS reasons)
        # Told once per reason an export was refused for its size: the run cannot pass on what it dropped.
        self._on_refused = on_refused

    @property
    def endpoint(self) -> str:
        """The base URL for OTEL_EXPORTER_OTLP_ENDPOINT (exporters append /v1/traces)."""
        return self.url

    def add(self, spans: list[ReceivedSpan]) -> None:
        with self._changed:
            self.exports += 1
            self._spans.extend(spans)
            if len(self._spans) > MAX_SPANS:
                del self._spans[: len(self._spans) - MAX_SPANS]
            self._changed.notify_all()

    def refuse(self, reason: str, *, over_limits: bool = False) -> None:
        """Count a refused export and keep why; one over the limits is told to the run as well."""
        with self._changed:
            self.rejected += 1
            first = reason not in self._refusals
            if not first or len(self._refusals) < MAX_REFUSALS:
                self._refusals[reason] = self._refusals.get(reason, 0) + 1
        if over_limits and first and self._on_refused is not None:
            self._on_refused(f"the OTLP receiver refused an export over its limits: {reason}")

    @property
    def refusals(self) -> dict[str, int]:
        """Why exports were refused, each reason with how many times."""
        with self._changed:
            return dict(self._refusals)

    @property
    def spans(self) -> list[ReceivedSpan]:
        with self._changed:
            return list(self._spans)

    def wait_for(self, predicate: Callable[[ReceivedSpan], bool], timeout: float, count: int = 1) -> list[ReceivedSpan]:
        """The spans matching `predicate` once at least `count` arrived, or those there are at `timeout`."""
        deadline = time.monotonic() + max(timeout, 0.0)
        with self._changed:
            while True:
                matching = [span for span in self._spans if predicate(span)]
                remaining = deadline - time.monotonic()
                if len(matching) >= count or remaining <= 0:
                    return matching
                self._changed.wait(remaining)


def _app_for(receiver: OtlpReceiver) -> ASGIApp:
    async def export(request: Request) -> Response:
        path = request.url.path
        try:
            # The whole request under one cap and one deadline, its framing decoded by h11 (no line
            # read by hand: a chunk-size line is bounded like a header), then decoded under another.
            body = await read_body(request, MAX_BODY_BYTES)
        except BodyRefused as exc:
            receiver.refuse(f"export {exc}", over_limits=True)
            return Response(status_code=413, headers={"Connection": "close"}, media_type=PROTOBUF)
        if path in IGNORED_PATHS:
            return Response(b"", media_type=PROTOBUF)
        if path != TRACES_PATH:
            return Response(b"", status_code=404, media_type=PROTOBUF)
        content_type = request.headers.get("content-type", "")
        content_encoding = request.headers.get("content-encoding", "")
        try:
            # Decoding and parsing up to 32 MiB is CPU work: off the event loop, so other exporters
            # (and the slow clients it cuts off) are still served meanwhile.
            decoded = await run_in_threadpool(decode_export, body, content_type, content_encoding)
        except ExportTooLarge as exc:
            receiver.refuse(str(exc), over_limits=True)
            return Response(b"", status_code=413, media_type=PROTOBUF)
        except ValueError as refusal:
            receiver.refuse(str(refusal))
            return Response(b"", status_code=400, media_type=PROTOBUF)
        receiver.add(spans_of(decoded))
        return Response(ExportTraceServiceResponse().SerializeToString(), media_type=PROTOBUF)

    return Starlette(routes=[Route("/{path:path}", export, methods=["POST"])])
