"""A loopback proxy in front of a deployment that rate-limits the suite the way a gateway would.

It answers 429 itself, as the contract allows on every operation (a problem document with
`Retry-After` and the request's `X-Request-ID`), when its policy says so, and forwards every
other request to the deployment, streaming the answer back as it arrives (an event stream stays
live). It counts what it saw, so a test compares the requests that reached the wire with what
the suite's governor let out.

Policies (`limits`, called with the request; True: answer 429):
- `FirstTime`: every distinct request (method, target, credentials, body) the first time it comes;
  the same request again is forwarded, so a client that honours the 429 gets every answer;
- `ForeverAfterBurst`: one client's requests (named by its token's `client_id`) after a burst of
  them, for ever.
"""

from __future__ import annotations

import base64
import json
import re
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import httpx

from benchmarks.launch import Reference

REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
HOP_BY_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "host", "proxy-connection"})
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE")


@dataclass(frozen=True)
class Seen:
    method: str
    target: str
    headers: tuple[tuple[str, str], ...]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((value for key, value in self.headers if key.lower() == name), None)

    def client_id(self) -> str | None:
        """The `client_id` claim of the bearer token (read, not verified: the proxy only sorts)."""
        token = (self.header("authorization") or "").removeprefix("Bearer ").strip()
        parts = token.split(".")
        if len(parts) != 3:
            return None
        try:
            claims = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
        except ValueError:
            return None
        return claims.get("client_id") if isinstance(claims, dict) else None


class FirstTime:
    def __init__(self) -> None:
        self._seen: set[tuple[str, str, str | None, bytes]] = set()
        self._lock = threading.Lock()

    def __call__(self, request: Seen) -> bool:
        key = (request.method, request.target, request.header("authorization"), request.body)
        with self._lock:
            first = key not in self._seen
            self._seen.add(key)
        return first


class ForeverAfterBurst:
    def __init__(self, client_id: str, burst: int) -> None:
        self.client_id = client_id
        self.burst = burst
        self._count = 0
        self._lock = threading.Lock()

    def __call__(self, request: Seen) -> bool:
        if request.client_id() != self.client_id:
            return False
        with self._lock:
            self._count += 1
            return self._count > self.burst


@dataclass
class Counts:
    received: int = 0
    limited: int = 0
    forwarded: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, *, limited: bool) -> None:
        with self.lock:
            self.received += 1
            if limited:
                self.limited += 1
            else:
                self.forwarded += 1


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True
    upstream: str
    client: httpx.Client
    limits: Callable[[Seen], bool]
    retry_after: str
    counts: Counts
    # Set on the proxy's own threads: what they send upstream is the proxy's, not the suite's.
    forwarding: threading.local


class _Handler(BaseHTTPRequestHandler):
    server: _ProxyServer

    def _handle(self) -> None:
        self.server.forwarding.active = True
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        seen = Seen(self.command, self.path, tuple(self.headers.items()), body)
        limited = self.server.limits(seen)
        self.server.counts.add(limited=limited)
        if limited:
            self._too_many(seen)
        else:
            self._forward(seen)

    def _too_many(self, seen: Seen) -> None:
        sent_id = seen.header("x-request-id")
        request_id = sent_id if sent_id is not None and REQUEST_ID.fullmatch(sent_id) else str(uuid.uuid4())
        problem = json.dumps(
            {"type": "about:blank", "title": "Too Many Requests", "status": 429, "detail": "Slow down."}
        ).encode()
        self.send_response(429)
        self.send_header("Content-Type", "application/problem+json")
        self.send_header("Retry-After", self.server.retry_after)
        self.send_header("X-Request-ID", request_id)
        self.send_header("Content-Length", str(len(problem)))
        self.end_headers()
        if seen.method != "HEAD":
            self.wfile.write(problem)

    def _forward(self, seen: Seen) -> None:
        headers = [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in seen.headers
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length"
        ]
        request = self.server.client.build_request(
            seen.method, self.server.upstream + seen.target, headers=headers, content=seen.body or None
        )
        answer = self.server.client.send(request, stream=True)
        try:
            self.send_response(answer.status_code)
            for name, value in answer.headers.multi_items():
                if name.lower() not in HOP_BY_HOP:
                    self.send_header(name, value)
            # HTTP/1.0: without a Content-Length the body ends when the connection closes.
            self.send_header("Connection", "close")
            self.end_headers()
            if seen.method != "HEAD":
                for chunk in answer.iter_raw():
                    self.wfile.write(chunk)
                    self.wfile.flush()
        finally:
            answer.close()

    def log_message(self, *args: object) -> None:
        pass


for _method in METHODS:
    setattr(_Handler, f"do_{_method}", _Handler._handle)


@dataclass
class RunningProxy:
    origin: str  # where the proxy listens: the deployment's issuer, so its token endpoint is here too
    counts: Counts
    server: _ProxyServer
    base_url: str = ""  # the deployment's base URL, moved to the proxy (`point_at`)

    def point_at(self, upstream_base_url: str) -> None:
        parts = urlsplit(upstream_base_url)
        self.server.upstream = f"{parts.scheme}://{parts.netloc}"
        self.base_url = self.origin + parts.path

    def is_forwarding(self) -> bool:
        """Whether the calling thread is one of the proxy's (its sends are not the suite's)."""
        return bool(getattr(self.server.forwarding, "active", False))


@contextmanager
def limiting_proxy(limits: Callable[[Seen], bool], retry_after: str = "1") -> Iterator[RunningProxy]:
    """The proxy on a free loopback port; `point_at` the deployment before sending to it."""
    with httpx.Client(timeout=30) as client:
        server = _ProxyServer(("127.0.0.1", 0), _Handler)
        server.client, server.limits, server.retry_after = client, limits, retry_after
        server.counts, server.forwarding = Counts(), threading.local()
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            yield RunningProxy(f"http://127.0.0.1:{server.server_address[1]}", server.counts, server)
        finally:
            server.shutdown()
            server.server_close()


@contextmanager
def limited_reference(limits: Callable[[Seen], bool], retry_after: str = "1") -> Iterator[RunningProxy]:
    """A plain reference (as a vendor would run it) behind the proxy, the proxy its issuer: its
    metadata names the proxy's token endpoint, so token requests pass the proxy too."""
    with (
        limiting_proxy(limits, retry_after) as proxy,
        Reference("--issuer", proxy.origin, token_ttl=None, log_level=None) as reference,
    ):
        proxy.point_at(reference.base_url)
        yield proxy
