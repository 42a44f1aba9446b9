"""The loopback server the run owns: started on a free port, addressed, stopped for good."""

from __future__ import annotations

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp

from conformance.peers.loopback_server import LoopbackServer


class EchoServer(LoopbackServer):
    thread_name = "echo-server"

    def app(self) -> ASGIApp:
        async def echo(request: Request) -> PlainTextResponse:
            return PlainTextResponse(request.url.path)

        return Starlette(routes=[Route("/{path:path}", echo)])


def test_a_server_binds_a_free_port_answers_and_stops() -> None:
    with EchoServer() as server:
        assert server.port > 0 and server.url == f"http://127.0.0.1:{server.port}"
        assert server.start() is server  # starting twice starts nothing new
        assert httpx.get(f"{server.url}/jwks.json", timeout=10).text == "/jwks.json"
        url = server.url
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/again", timeout=10)


def test_the_base_class_says_subclasses_handle_requests() -> None:
    with pytest.raises(NotImplementedError):
        LoopbackServer().start()


def test_closing_a_server_never_started_is_harmless() -> None:
    server = EchoServer()
    server.close()
    assert server.port == 0
