"""Sending: malformed requests over HTTP (or in-process), raw bytes to the socket, and the fixtures they point at."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import httpx

from benchmarks import clients
from benchmarks.clients import OAuthClient
from benchmarks.fuzz.generator import Fixtures, Malformed
from benchmarks.fuzz.invariants import judge
from benchmarks.fuzz.report import Outcome
from benchmarks.launch import Reference

FLAGS = "world-preview,engine-v2"


async def send_all(
    http: httpx.AsyncClient,
    requests: list[Malformed],
    outcome: Outcome,
    concurrency: int,
    raw_target: tuple[str, int] | None,
) -> None:
    queue: asyncio.Queue[Malformed] = asyncio.Queue()
    for request in requests:
        queue.put_nowait(request)

    async def worker() -> None:
        while not queue.empty():
            request = queue.get_nowait()
            try:
                response = await http.request(
                    request.method,
                    httpx.URL(request.target()),
                    headers=request.headers,
                    content=request.body,
                )
            except httpx.LocalProtocolError:
                if raw_target is None:
                    raise
                await send_raw(*raw_target, request, request.wire(), outcome)
                continue
            except httpx.HTTPError as exc:
                outcome.count += 1
                outcome.violation("no answer", f"{type(exc).__name__} for {request.operation} {request.defect}")
                continue
            judge(outcome, request, response.status_code, response.headers.get("content-type", ""), response.content)

    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def send_raw(host: str, port: int, request: Malformed, payload: bytes, outcome: Outcome) -> None:
    reader, writer = await asyncio.open_connection(host, port)
    try:
        writer.write(payload)
        await writer.drain()
        with contextlib.suppress(ConnectionError):
            writer.write_eof()
        chunks = []
        # Until the server closes (it answers a request it cannot parse with `Connection: close`).
        with contextlib.suppress(TimeoutError, ConnectionError):
            async with asyncio.timeout(5):
                while chunk := await reader.read(65536):
                    chunks.append(chunk)
        raw = b"".join(chunks)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    if not lines or not lines[0].startswith("HTTP/1.1 "):
        outcome.count += 1
        outcome.violation("no answer", f"raw {request.defect}: {raw[:80]!r}")
        return
    status = int(lines[0].split(" ")[1])
    headers = {line.partition(":")[0].lower(): line.partition(":")[2].strip() for line in lines[1:]}
    judge(outcome, request, status, headers.get("content-type", ""), body)


# --- fixtures and the snapshot ------------------------------------------------------------------


async def make_fixtures(http: httpx.AsyncClient) -> Fixtures:
    """Two tokens, worlds, a runtime left running, and real cursors — all before the snapshot."""

    async def token(client: OAuthClient) -> str:
        answer = await http.post("/v2/auth/login", json=client.login_body())
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    admin_token = await token(clients.admin())
    reader_token = await token(clients.reader())
    auth = {"Authorization": f"Bearer {admin_token}"}
    worlds = []
    for index in range(3):
        created = await http.post("/v2/worlds", json={"name": f"fuzz-{uuid.uuid4().hex[:8]}-{index}"}, headers=auth)
        created.raise_for_status()
        worlds.append(created.json())
    started = await http.post("/v2/runtimes", json={"world_id": worlds[0]["id"], "plugin": "physics-sim"}, headers=auth)
    started.raise_for_status()
    runtime_id = started.json()["id"]
    deadline = time.monotonic() + 10
    while (await http.get(f"/v2/runtimes/{runtime_id}", headers=auth)).json()["status"] != "running":
        if time.monotonic() > deadline:
            raise RuntimeError("the fixture runtime did not reach running")
        await asyncio.sleep(0.02)
    worlds_page = (await http.get("/v2/worlds", params={"limit": 1}, headers=auth)).json()
    events_page = (await http.get("/v2/events", params={"limit": 1}, headers=auth)).json()
    return Fixtures(
        admin_token=admin_token,
        reader_token=reader_token,
        world_id=worlds[0]["id"],
        world_etag=f'"{worlds[0]["version"]}"',
        runtime_id=runtime_id,
        worlds_cursor=worlds_page["next_cursor"],
        events_cursor=events_page["next_cursor"],
    )


@contextlib.asynccontextmanager
async def serve(transport: str, data_dir: Path) -> AsyncIterator[tuple[httpx.AsyncClient, str | None, int]]:
    """An HTTP client on the reference (origin base URL), and where raw bytes can reach it (HTTP only)."""
    if transport == "asgi":
        from phase2_reference.app import create_app
        from phase2_reference.config import Config

        app = create_app(Config(data_dir=data_dir, feature_flags=frozenset(FLAGS.split(",")), runtime_step_ms=20))
        try:
            asgi = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=asgi, base_url="http://testserver", timeout=30) as http:
                yield http, None, 0
        finally:
            await app.shutdown()
            app.close()
        return
    loop = asyncio.get_running_loop()
    server = await loop.run_in_executor(
        None, lambda: Reference("--flags", FLAGS, "--runtime-step-ms", "20", data_dir=data_dir)
    )
    try:
        url = httpx.URL(server.url)
        async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:
            yield http, url.host, url.port or 80
    finally:
        server.stop()
