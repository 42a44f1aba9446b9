"""Raw bytes no HTTP client would send, written to the socket directly."""

from __future__ import annotations

import os

from benchmarks.fuzz.generator import Fixtures


def raw_requests(fixtures: Fixtures) -> list[tuple[str, bytes]]:
    bearer = f"Authorization: Bearer {fixtures.admin_token}\r\n".encode()
    return [
        ("nul-in-header", b"GET /v2/healthz HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n"),
        ("nul-in-path", b"GET /v2/worlds/\x00 HTTP/1.1\r\nHost: x\r\n" + bearer + b"\r\n"),
        ("bytes-in-path", b"GET /v2/worlds/\xff\xfe HTTP/1.1\r\nHost: x\r\n" + bearer + b"\r\n"),
        ("space-in-path", b"GET /v2/worlds/a b HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("short-request-line", b"GET\r\n\r\n"),
        ("bad-version", b"GET /v2/healthz HTTP/9.9\r\nHost: x\r\n\r\n"),
        ("garbage-line", b"\x01\x02\x03 garbage\r\n\r\n"),
        ("tls-hello", bytes.fromhex("160301002d0100002903035a") + os.urandom(40)),
        ("header-without-colon", b"GET /v2/healthz HTTP/1.1\r\nHost: x\r\nNoColonHere\r\n\r\n"),
        ("cr-in-header", b"GET /v2/healthz HTTP/1.1\r\nHost: x\r\nX-A: a\rb\r\n\r\n"),
        ("bad-content-length", b"POST /v2/worlds HTTP/1.1\r\nHost: x\r\nContent-Length: abc\r\n" + bearer + b"\r\n{}"),
        (
            "negative-content-length",
            b"POST /v2/worlds HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n" + bearer + b"\r\n",
        ),
        (
            "two-content-lengths",
            b"POST /v2/worlds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
            b"Content-Length: 40\r\n" + bearer + b"\r\n{}",
        ),
        (
            "huge-content-length",
            b"POST /v2/worlds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999999\r\n"
            + bearer
            + b"\r\n{}",
        ),
        (
            "bad-chunk-size",
            b"POST /v2/worlds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
            + bearer
            + b"\r\nzz\r\n{}\r\n0\r\n\r\n",
        ),
        (
            "chunked-and-length",
            b"POST /v2/worlds HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 3\r\n"
            b"Transfer-Encoding: chunked\r\n" + bearer + b"\r\n0\r\n\r\n",
        ),
        ("bad-method-token", b"G(T /v2/healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
        ("absolute-garbage-uri", b"GET http://[::1 HTTP/1.1\r\nHost: x\r\n\r\n"),
    ]
