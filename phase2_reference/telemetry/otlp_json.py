"""Spans exported over OTLP/HTTP with the JSON encoding (`--otlp-encoding json`).

The OTLP specification defines two bodies for OTLP/HTTP: binary protobuf (the OpenTelemetry SDK's
exporter) and the protobuf JSON mapping with three OTLP rules: `application/json`, trace and
span ids as hex strings (not base64), and enums as integers. Some deployments send JSON; this
exporter lets the reference be one of them. Field names stay lowerCamelCase, the JSON mapping's.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from typing import Any

import httpx
from google.protobuf import json_format
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

JSON = "application/json"
EXPORT_TIMEOUT = 10.0
ID_FIELDS = ("traceId", "spanId", "parentSpanId")


def to_otlp_json(spans: Sequence[ReadableSpan]) -> dict[str, Any]:
    """The export request of `spans` in OTLP's JSON encoding."""
    document: dict[str, Any] = json_format.MessageToDict(encode_spans(spans), use_integers_for_enums=True)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                _hex_ids(span)
                for link in span.get("links", []):
                    _hex_ids(link)
    return document


def _hex_ids(node: dict[str, Any]) -> None:
    # The protobuf JSON mapping writes bytes as base64; OTLP/JSON requires hex for these ids.
    for name in ID_FIELDS:
        if name in node:
            node[name] = base64.b64decode(node[name]).hex()


class JsonSpanExporter(SpanExporter):
    def __init__(self, endpoint: str) -> None:
        self._endpoint = endpoint
        self._client = httpx.Client(timeout=EXPORT_TIMEOUT)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        body = json.dumps(to_otlp_json(spans)).encode("utf-8")
        try:
            response = self._client.post(self._endpoint, content=body, headers={"Content-Type": JSON})
        except httpx.HTTPError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS if response.is_success else SpanExportResult.FAILURE

    def shutdown(self) -> None:
        self._client.close()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True
