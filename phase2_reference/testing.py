"""Serving the reference for tests and benchmarks: real uvicorn on a free loopback port.

    with running_server(Config(data_dir=None)) as base_url:
        httpx.get(f"{base_url}/healthz")

The server runs in a background thread with its own event loop; leaving the block shuts it
down gracefully (lifespan shutdown included) and closes the store.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from phase2_reference.app import Phase2App, create_app
from phase2_reference.cli import bind
from phase2_reference.config import Config
from phase2_reference.protocol import ProblemHttpToolsProtocol

STARTUP_TIMEOUT = 10.0


@dataclasses.dataclass(frozen=True, slots=True)
class RunningServer:
    base_url: str  # ends in /v2
    origin: str
    app: Phase2App


@contextmanager
def serving(config: Config) -> Iterator[RunningServer]:
    """Serve `config` (its port is ignored: a free one is bound) and yield where it listens."""
    sock = bind(config.host, 0)
    config = dataclasses.replace(config, port=sock.getsockname()[1])
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
        yield RunningServer(base_url=f"{config.origin}/v2", origin=config.origin, app=app)
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
