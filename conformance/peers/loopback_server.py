"""A small threaded HTTP server the run owns (the test issuer's JWKS, the OTLP receiver)."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
POLL_INTERVAL = 0.05  # seconds; how fast close() is answered by the serving thread


class LoopbackServer:
    """Start, stop and address a `ThreadingHTTPServer`; subclasses say how to handle requests.

    `host` is the address the deployment under test uses to reach the suite: loopback by default;
    any other host makes the server listen on every interface and advertise that host.
    """

    thread_name = "loopback-server"

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._host = host
        self._port = port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def handler(self) -> type[BaseHTTPRequestHandler]:
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is not None:
            return self
        # Any other host: listen on every interface so a remote deployment can reach the suite.
        bind = self._host if self._host in LOOPBACK else "0.0.0.0"
        server = ThreadingHTTPServer((bind, self._port), self.handler())
        server.daemon_threads = True
        self._server = server
        self._port = int(server.server_address[1])
        self._thread = threading.Thread(
            target=server.serve_forever, args=(POLL_INTERVAL,), name=self.thread_name, daemon=True
        )
        self._thread.start()
        return self

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"
