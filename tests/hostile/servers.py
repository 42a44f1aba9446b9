"""Misbehaving servers on loopback: each breaks HTTP (or the API) in one hostile way.

Real sockets, no mocks: the suite must survive what a real broken deployment does to a TCP peer.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator

Handler = Callable[[socket.socket], None]


def _read_request(conn: socket.socket) -> bytes:
    conn.settimeout(5)
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data and len(data) < 65536:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
    return data


def _path(request: bytes) -> str:
    try:
        return request.split(b" ", 2)[1].decode("latin-1")
    except IndexError:
        return "/"


def never_answers(conn: socket.socket) -> None:
    _read_request(conn)
    time.sleep(3600)


def resets(conn: socket.socket) -> None:
    _read_request(conn)
    reset(conn)


def reset(conn: socket.socket) -> None:
    """Close with a TCP reset (RST), not an orderly FIN."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


def not_http(conn: socket.socket) -> None:
    _read_request(conn)
    conn.sendall(b"\x16\x03\x01\x02\x00SSH-2.0-OpenSSH_9.6 garbage \x00\xff\xfe\r\n\r\n")
    conn.close()


def endless_body(conn: socket.socket) -> None:
    _read_request(conn)
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
    chunk = b"a" * 65536
    framed = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    with contextlib.suppress(OSError):
        while True:
            conn.sendall(framed)


def drips(conn: socket.socket) -> None:
    _read_request(conn)
    with contextlib.suppress(OSError):
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")
        while True:
            conn.sendall(b"{")
            time.sleep(1)


def redirect_loop(conn: socket.socket) -> None:
    request = _read_request(conn)
    location = _path(request)
    conn.sendall(
        f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".encode()
    )
    conn.close()


def _respond(conn: socket.socket, status: str, content_type: str, body: bytes) -> None:
    conn.sendall(
        f"HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n".encode()
        + body
    )
    conn.close()


def html_everywhere(conn: socket.socket) -> None:
    _read_request(conn)
    page = b"<!doctype html><html><body><form action=/login><input name=user></form></body></html>"
    _respond(conn, "200 OK", "text/html; charset=utf-8", page)


def truncated_json(conn: socket.socket) -> None:
    _read_request(conn)
    _respond(conn, "200 OK", "application/json", b'{"status": "ok", "version": "1.0", "uptime')


def healthy_but_no_auth_metadata(conn: socket.socket) -> None:
    """Answers /healthz properly and 404 elsewhere: its own origin is no OAuth2 provider."""
    request = _read_request(conn)
    if _path(request).endswith("/healthz"):
        body = json.dumps({"status": "ok", "version": "1", "uptime_seconds": 1}).encode()
        _respond(conn, "200 OK", "application/json", body)
    else:
        problem = json.dumps({"type": "about:blank", "title": "Not found", "status": 404}).encode()
        _respond(conn, "404 Not Found", "application/problem+json", problem)


def garbage_provider(conn: socket.socket) -> None:
    """An auth provider whose metadata is fine but whose token endpoint answers garbage."""
    request = _read_request(conn)
    port = conn.getsockname()[1]
    if b"/.well-known/" in request.split(b"\r\n", 1)[0]:
        document = {"issuer": f"http://127.0.0.1:{port}", "token_endpoint": f"http://127.0.0.1:{port}/token"}
        _respond(conn, "200 OK", "application/json", json.dumps(document).encode())
    else:
        _respond(conn, "200 OK", "application/json", b"\x00\x01not json at all")


class HostileServer:
    """Accepts connections on a loopback port and hands each to `handler` in a daemon thread."""

    def __init__(self, handler: Handler) -> None:
        self.handler = handler
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._stop = threading.Event()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with contextlib.suppress(OSError), conn:
            self.handler(conn)

    def __enter__(self) -> HostileServer:
        threading.Thread(target=self._serve, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.sock.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def refusing() -> Iterator[str]:
    """A port nobody listens on."""
    yield f"http://127.0.0.1:{free_port()}"


def _read_whole_request(conn: socket.socket) -> bytes:
    """Head and body (by Content-Length): what a proxy must forward."""
    data = _read_request(conn)
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip() or 0)
    with contextlib.suppress(OSError):
        while len(body) < length:
            chunk = conn.recv(65536)
            if not chunk:
                break
            body += chunk
    return head + b"\r\n\r\n" + body


def hangs_past_preflight(upstream: str, hanging: tuple[str, ...]) -> Handler:
    """A healthy deployment (answers forwarded to `upstream`) until a path starting with one of
    `hanging` is asked for: that request is read and never answered. The run gets past its preflight
    (health, auth) and meets the hostility in the middle."""

    def hang(conn: socket.socket) -> None:
        time.sleep(3600)

    return misbehaves_when(upstream, lambda request: _path(request).split("?", 1)[0].startswith(hanging), hang)


def misbehaves_when(upstream: str, picks: Callable[[bytes], bool], misbehave: Handler) -> Handler:
    """A healthy deployment (answers forwarded to `upstream`), except for a request `picks` chooses
    (by its head and body, already read): its connection goes to `misbehave` instead."""
    host, port = upstream.removeprefix("http://").split("/", 1)[0].split(":")

    def handler(conn: socket.socket) -> None:
        request = _read_whole_request(conn)
        if picks(request):
            misbehave(conn)
            return
        head, _, body = request.partition(b"\r\n\r\n")
        lines = [line for line in head.split(b"\r\n") if not line.lower().startswith(b"connection:")]
        forwarded = b"\r\n".join([*lines, b"Connection: close"]) + b"\r\n\r\n" + body
        with socket.create_connection((host, int(port)), timeout=30) as out:
            out.sendall(forwarded)
            while chunk := out.recv(65536):
                conn.sendall(chunk)

    return handler


def header_of(request: bytes, name: str) -> str | None:
    """The value of header `name` in a request's head, or None."""
    head = request.partition(b"\r\n\r\n")[0]
    for line in head.split(b"\r\n")[1:]:
        field_name, _, value = line.partition(b":")
        if field_name.strip().lower() == name.lower().encode():
            return value.strip().decode("latin-1")
    return None
