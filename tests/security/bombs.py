"""Hostile bodies, built once per test session: small on the wire, huge (or deep) once read."""

from __future__ import annotations

import functools
import gzip
import zlib

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

GIB = 1024 * 1024 * 1024


def _gzip_stream(size: int, pattern: bytes = b"\0", level: int = 1) -> bytes:
    """gzip of `size` bytes of `pattern` repeated, compressed as produced (never held whole)."""
    compressor = zlib.compressobj(level, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    block = pattern * (1024 * 1024 // len(pattern))
    parts = [compressor.compress(block) for _ in range(size // len(block))]
    parts.append(compressor.flush())
    return b"".join(parts)


@functools.cache
def stacked_gzip_bomb() -> bytes:
    """`Content-Encoding: gzip, gzip`: a few KB that inflate to 2 GiB."""
    return gzip.compress(_gzip_stream(2 * GIB, level=9), 9)


@functools.cache
def gzip_bomb() -> bytes:
    """`Content-Encoding: gzip`: about 1 MB that inflates to 1 GiB."""
    return otlp_export_bomb()


@functools.cache
def deep_json() -> bytes:
    """A JSON array nested a million levels deep, gzip-compressed to a few KB."""
    return gzip.compress(b"[" * 1_000_000 + b"]" * 1_000_000, 9)


@functools.cache
def many_sse_events() -> bytes:
    """A million server-sent events (gzip), decoding to less than the body cap: the parser must stop."""
    return gzip.compress(b"data:1\n\n" * 1_000_000, 9)


@functools.cache
def ten_million_series() -> bytes:
    """Prometheus text with ten million series (gzip)."""
    line = b'phase2_bomb{n="1"} 1\n'
    return _gzip_stream(10_000_000 * len(line), line)


@functools.cache
def a_million_short_series() -> bytes:
    """A million series that fit under the body cap: the parser, not the reader, must refuse them."""
    return b"b 1\n" * 1_000_000


@functools.cache
def otlp_export_bomb() -> bytes:
    """A gzip export of about 1 MB that inflates to 1 GiB."""
    return _gzip_stream(GIB)


@functools.cache
def otlp_export_of_many_spans(count: int = 200_000) -> bytes:
    request = ExportTraceServiceRequest()
    spans = request.resource_spans.add().scope_spans.add().spans
    for n in range(count):
        span = spans.add()
        span.trace_id = n.to_bytes(16, "big")
        span.span_id = n.to_bytes(8, "big")
        span.name = "s"
    return gzip.compress(request.SerializeToString(), 6)
