"""Serving the reference for tests and benchmarks: real uvicorn on a free loopback port.

    with running_server(Config(data_dir=None)) as base_url:
        httpx.get(f"{base_url}/healthz")

The server runs in a background thread with its own event loop; leaving the block shuts it
down gracefully (lifespan shutdown included) and closes the store.
"""

from __future__ import annotations

import dataclasses
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

from phase2_reference.app import Phase2App, create_app
from phase2_reference.cli import bind
from phase2_reference.config import Config
from phase2_reference.gateway.protocol import ProblemHttpToolsProtocol

STARTUP_TIMEOUT = 10.0


@dataclasses.dataclass(frozen=True, slots=True)
class RunningServer:
    base_url: str  # ends in /v2
    origin: str
    app: Phase2App


@dataclasses.dataclass(frozen=True, slots=True)
class ServerTLS:
    """HTTPS with a required client certificate signed by `client_ca` (mutual TLS)."""

    cert: Path
    key: Path
    client_ca: Path

    def uvicorn_options(self) -> dict[str, Any]:
        return {
            "ssl_certfile": str(self.cert),
            "ssl_keyfile": str(self.key),
            "ssl_ca_certs": str(self.client_ca),
            "ssl_cert_reqs": ssl.CERT_REQUIRED,
        }


@contextmanager
def serving(config: Config, tls: ServerTLS | None = None) -> Iterator[RunningServer]:
    """Serve `config` (its port is ignored: a free one is bound) and yield where it listens.

    With `tls`, over HTTPS requiring a client certificate; the issuer is then the https origin."""
    sock = bind(config.host, 0)
    config = dataclasses.replace(config, port=sock.getsockname()[1])
    origin = config.origin
    if tls is not None:
        origin = origin.replace("http://", "https://", 1)
        config = dataclasses.replace(config, issuer=config.issuer or origin)
    app = create_app(config)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="on",
            log_config=None,
            access_log=False,
            loop="asyncio",
            http=ProblemHttpToolsProtocol,
            timeout_graceful_shutdown=2,
            proxy_headers=False,
            **(tls.uvicorn_options() if tls is not None else {}),
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="phase2-reference", daemon=True)
    thread.start()
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the reference server did not start")
        time.sleep(0.005)
    try:
        yield RunningServer(base_url=f"{origin}/v2", origin=origin, app=app)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        app.close()
        sock.close()


@contextmanager
def running_server(config: Config) -> Iterator[str]:
    """Serve `config` on a free loopback port and yield its base URL (…/v2)."""
    with serving(config) as running:
        yield running.base_url
