"""Bounded reading of every body a peer hands the suite: decoded size, codings, JSON depth, lines.

Every peer is hostile (the target, its auth provider, an exporter posting to the OTLP receiver, a
file given on the command line), so a body is read under limits that hold after decoding:

- `Decoder` undoes `Content-Encoding` (gzip, deflate, stacked as in `gzip, gzip`) one chunk at a
  time, asking zlib for at most the bytes still allowed (`decompress(data, max_length)`), so a
  10 KB bomb stops at the cap instead of growing to gigabytes;
- `check_json_depth` refuses JSON nested deeper than a parser (or a schema validator walking the
  result) may recurse, before it is parsed; `loads` is `json.loads` behind both limits;
- `check_lines` caps the lines of a text format parsed line by line (Prometheus exposition);

A file from outside (a report, a shard, a waivers or config file) is read through `local_files`,
the one door for local files.

Over a limit is `LimitExceeded` (a `ValueError`: callers treat it as an unreadable body), with
one line saying which limit.
"""

from __future__ import annotations

import json
import zlib
from typing import Any

from conformance.local_files import measure_json

MAX_DECODED_BYTES = 8 * 1024 * 1024
MAX_CODINGS = 3  # more layers than any real server stacks is an attack, not compression
MAX_JSON_DEPTH = 256
_IDENTITY = ("", "identity")


class LimitExceeded(ValueError):
    """A body broke one of the reading limits; the message says which."""


class _ZlibStage:
    """One zlib-based coding, inflated under an output budget."""

    def __init__(self, coding: str, budget: int) -> None:
        self.coding = coding
        self.budget = budget
        self.produced = 0
        self._inflater: Any = None
        self._head = b""

    def _start(self, data: bytes) -> Any:
        if self.coding == "deflate":
            # `deflate` should be zlib-wrapped; some servers send raw deflate (as browsers accept).
            wrapped = len(data) >= 2 and data[0] & 0x0F == 8 and ((data[0] << 8) | data[1]) % 31 == 0
            return zlib.decompressobj(zlib.MAX_WBITS if wrapped else -zlib.MAX_WBITS)
        return zlib.decompressobj(zlib.MAX_WBITS | 16)

    def feed(self, data: bytes, *, final: bool = False) -> bytes:
        if self._inflater is None:
            self._head += data
            if not self._head or (len(self._head) < 2 and not final):
                return b""  # the first two bytes tell zlib-wrapped deflate from raw
            data, self._head = self._head, b""
            self._inflater = self._start(data)
        out = bytearray()
        while data:
            room = self.budget - self.produced + 1
            try:
                chunk = self._inflater.decompress(data, room)
            except zlib.error as exc:
                raise LimitExceeded(f"body is not valid {self.coding}: {exc}") from None
            out += chunk
            self.produced += len(chunk)
            if self.produced > self.budget:
                raise LimitExceeded(f"body decodes to more than {self.budget} bytes ({self.coding})")
            data = self._inflater.unconsumed_tail
            if self._inflater.eof:
                # gzip allows several members back to back; anything else after the end is ignored.
                rest = self._inflater.unused_data
                if self.coding == "deflate" or len(rest) < 2:
                    break
                self._inflater = self._start(rest)
                data = rest
            elif not chunk and data:
                break
        return bytes(out)

    def flush(self) -> bytes:
        out = self.feed(b"", final=True) if self._inflater is None else b""
        if self._inflater is None:
            return out
        tail = self._inflater.flush(self.budget - self.produced + 1)
        self.produced += len(tail)
        if self.produced > self.budget:
            raise LimitExceeded(f"body decodes to more than {self.budget} bytes ({self.coding})")
        if not self._inflater.eof:
            raise LimitExceeded(f"body is not valid {self.coding}: it ends before its compressed stream does")
        return out + bytes(tail)


def codings_of(content_encoding: str | None) -> list[str]:
    """The codings applied, in the order they were applied (innermost first)."""
    codings = [c.strip().lower() for c in (content_encoding or "").split(",")]
    return [c for c in codings if c not in _IDENTITY]


class Decoder:
    """Undoes a body's `Content-Encoding` chunk by chunk, never producing more than `max_bytes`.

    A coding the suite does not know is left as it is (the body is then judged as sent).
    """

    def __init__(self, content_encoding: str | None, max_bytes: int = MAX_DECODED_BYTES) -> None:
        codings = codings_of(content_encoding)
        if len(codings) > MAX_CODINGS:
            raise LimitExceeded(f"body has {len(codings)} content codings stacked (at most {MAX_CODINGS})")
        known = {"gzip", "x-gzip", "deflate"}
        self.decodes = all(c in known for c in codings)
        # Undone outermost first: the last coding listed was applied last.
        self._stages = (
            [_ZlibStage("deflate" if c == "deflate" else "gzip", max_bytes) for c in reversed(codings)]
            if self.decodes
            else []
        )
        self.max_bytes = max_bytes
        self.total = 0

    def feed(self, chunk: bytes) -> bytes:
        for stage in self._stages:
            chunk = stage.feed(chunk)
        return self._count(chunk)

    def flush(self) -> bytes:
        out = b""
        for stage in self._stages:
            # What the outer layer still held goes through this one before it flushes its own.
            out = (stage.feed(out) if out else b"") + stage.flush()
        return self._count(out)

    def _count(self, chunk: bytes) -> bytes:
        self.total += len(chunk)
        if self.total > self.max_bytes:
            raise LimitExceeded(f"body exceeded {self.max_bytes} bytes")
        return chunk


def decode(body: bytes, content_encoding: str | None, max_bytes: int = MAX_DECODED_BYTES) -> bytes:
    """A whole body decoded under `max_bytes`; `LimitExceeded` past it."""
    decoder = Decoder(content_encoding, max_bytes)
    return decoder.feed(body) + decoder.flush()


def json_depth_exceeds(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays and objects deeper than `max_depth` (strings not counted), measured
    in linear time whatever the text (`local_files.measure_json`: crafted quotes cannot make it quadratic)."""
    raw = data.encode("utf-8", errors="surrogatepass") if isinstance(data, str) else data
    return measure_json(raw, max_depth).deeper_than_limit


def check_json_depth(data: bytes | str, max_depth: int = MAX_JSON_DEPTH) -> None:
    if json_depth_exceeds(data, max_depth):
        raise LimitExceeded(f"JSON nested deeper than {max_depth} levels")


def loads(data: bytes | str, *, max_bytes: int = MAX_DECODED_BYTES, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """`json.loads` behind a size and a depth limit (both `LimitExceeded`, a `ValueError`)."""
    if len(data) > max_bytes:
        raise LimitExceeded(f"JSON document larger than {max_bytes} bytes")
    check_json_depth(data, max_depth)
    return json.loads(data)


def check_lines(text: str, max_lines: int, what: str) -> None:
    """Refuse a line-oriented document with more lines than its parser should be given."""
    if text.count("\n") > max_lines:
        raise LimitExceeded(f"{what} has more than {max_lines} lines")
