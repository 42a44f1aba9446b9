"""A small HTTP server the run owns (the test issuer's JWKS, the OTLP receiver), on uvicorn and h11.

Anything may post to these servers (a deployment on another machine reaches them on
`--callback-host`), so they run on the stack the reference uses, with every read bounded:

- h11 parses the request (no line read by hand): its request line, headers and each chunk-size
  line together stay under `MAX_HEAD_BYTES`, so a 700 MiB chunk-size line or a header flood is
  refused as it arrives, never buffered;
- a request head must arrive within `HEAD_SECONDS` of the connection (or of the previous answer):
  a client that trickles its headers (slowloris) is cut off, and at most `MAX_CONNECTIONS` are
  served at once (503 beyond);
- the body is the subclass's to read, through `read_body`: under a byte cap and a deadline.

Closing does not wait for a slow client: connections without a request in progress are closed at
once, the others get `GRACE_SECONDS`.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from typing import Any, Self

import anyio
import uvicorn
from starlette.requests import ClientDisconnect, Request
from starlette.types import ASGIApp
from uvicorn.protocols.http.h11_impl import H11Protocol

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})
MAX_HEAD_BYTES = 64 * 1024  # request line and headers together (h11's unit: one incomplete event)
HEAD_SECONDS = 10.0
BODY_SECONDS = 30.0  # a whole body, however it is chunked
MAX_CONNECTIONS = 64
GRACE_SECONDS = 1.0
STARTUP_SECONDS = 10.0


class BodyRefused(ValueError):
    """A request body over its cap, too slow, or cut off; the message says which."""


async def read_body(request: Request, max_bytes: int, seconds: float | None = None) -> bytes:
    """The whole body as the server decoded its framing (chunked or sized), at most `max_bytes`,
    within `seconds` (default `BODY_SECONDS`)."""
    seconds = BODY_SECONDS if seconds is None else seconds
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise BodyRefused(f"body of {declared} bytes (at most {max_bytes})")
    body = bytearray()
    try:
        with anyio.fail_after(seconds):
            async for chunk in request.stream():
                body += chunk
                if len(body) > max_bytes:
                    raise BodyRefused(f"body over {max_bytes} bytes")
    except TimeoutError:
        raise BodyRefused(f"body not received within {seconds:g} s") from None
    except ClientDisconnect:
        raise BodyRefused("the client went away before the end of the body") from None
    return bytes(body)


class _BoundedH11(H11Protocol):
    """uvicorn's h11 protocol with a deadline on each request head (slowloris)."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm_head_deadline()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._arm_head_deadline()

    def _arm_head_deadline(self) -> None:
        armed_for = self.scope  # the request in progress when armed; a new head replaces it
        self.loop.call_later(HEAD_SECONDS, self._head_too_slow, armed_for)

    def _head_too_slow(self, armed_for: Any) -> None:
        if self.scope is armed_for and not self.transport.is_closing():
            busy = self.cycle is not None and not self.cycle.response_complete
            if not busy:
                self.transport.close()


class LoopbackServer:
    """Start, stop and address an ASGI app on uvicorn; subclasses say what it is (`app`).

    `host` is the address the deployment under test uses to reach the suite: loopback by default;
    any other host makes the server listen on every interface and advertise that host.
    """

    thread_name = "loopback-server"

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._host = host
        self._port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    def app(self) -> ASGIApp:
        raise NotImplementedError

    def start(self) -> Self:
        if self._server is not None:
            return self
        app = self.app()
        # Any other host: listen on every interface so a remote deployment can reach the suite.
        bind = self._host if self._host in LOOPBACK else "0.0.0.0"
        sock = socket.create_server((bind, self._port), family=socket.AF_INET6 if ":" in bind else socket.AF_INET)
        server = uvicorn.Server(
            uvicorn.Config(
                app,
                http=_BoundedH11,
                h11_max_incomplete_event_size=MAX_HEAD_BYTES,
                limit_concurrency=MAX_CONNECTIONS,
                timeout_keep_alive=int(HEAD_SECONDS),
                timeout_graceful_shutdown=int(GRACE_SECONDS),
                lifespan="off",
                loop="asyncio",
                log_config=None,
                log_level="critical",
                access_log=False,
                server_header=False,
                proxy_headers=False,
            )
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=self.thread_name, daemon=True)
        thread.start()
        deadline = time.monotonic() + STARTUP_SECONDS
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                server.should_exit = True
                sock.close()
                raise OSError(f"the {self.thread_name} did not start on port {self._port}")
            time.sleep(0.005)
        self._server, self._thread, self._socket = server, thread, sock
        self._port = int(sock.getsockname()[1])
        return self

    def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.should_exit = True
        if self._thread is not None:
            self._thread.join(GRACE_SECONDS + 5)
            self._thread = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None

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
