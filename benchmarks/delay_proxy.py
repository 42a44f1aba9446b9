"""A TCP proxy on loopback that adds a fixed round-trip time, as if the deployment were far away.

    python benchmarks/delay_proxy.py --upstream 127.0.0.1:8080 --delay-ms 50 [--port 0]

Every byte is forwarded unchanged, after half the delay in each direction, so one request and its
answer cost one extra `delay-ms` (a new connection costs one more, for the handshake), while
bandwidth is not limited: the shape of a staging deployment in another region, without `tc netem`
(which needs root and would slow every other program's loopback traffic too). Order within a
connection is kept: each direction is a queue of chunks stamped with the time they may leave.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
import time
from collections.abc import Iterator

CHUNK = 64 * 1024


async def _pump(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, one_way: float) -> None:
    """Copy one direction, each chunk released `one_way` seconds after it arrived."""
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def read() -> None:
        with contextlib.suppress(OSError):  # a peer that resets the connection ends it like one that closes it
            while chunk := await reader.read(CHUNK):
                queue.put_nowait((time.monotonic() + one_way, chunk))
        queue.put_nowait((time.monotonic() + one_way, b""))

    async def write() -> None:
        while True:
            due, chunk = await queue.get()
            await asyncio.sleep(max(0.0, due - time.monotonic()))
            if not chunk:
                with contextlib.suppress(OSError):
                    writer.write_eof()
                return
            writer.write(chunk)
            await writer.drain()

    reading = asyncio.ensure_future(read())
    try:
        await write()
    finally:
        reading.cancel()


class DelayProxy:
    """The proxy in a thread of its own: `with DelayProxy(host, port, 50) as proxy: proxy.port`."""

    def __init__(self, upstream_host: str, upstream_port: int, delay_ms: float, port: int = 0) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.one_way = delay_ms / 2000.0
        self.port = port
        self.connections = 0  # accepted so far: each one cost a round trip more than a reused one
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="delay-proxy", daemon=True)
        self._server: asyncio.Server | None = None

    async def _handle(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        self.connections += 1  # only the loop's thread counts
        try:
            # The handshake costs a round trip too.
            await asyncio.sleep(2 * self.one_way)
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        try:
            await asyncio.gather(
                _pump(client_reader, upstream_writer, self.one_way),
                _pump(upstream_reader, client_writer, self.one_way),
            )
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            for writer in (client_writer, upstream_writer):
                writer.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.port)
            self.port = self._server.sockets[0].getsockname()[1]
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()
        # Let the cancelled connections close their sockets before the loop goes away.
        pending = asyncio.all_tasks(self._loop)
        self._loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        if self._server is not None:
            self._loop.run_until_complete(self._server.wait_closed())
        self._loop.close()

    def __enter__(self) -> DelayProxy:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the delay proxy did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        def stop() -> None:
            if self._server is not None:
                self._server.close()
            for task in asyncio.all_tasks(self._loop):
                task.cancel()
            self._loop.stop()

        self._loop.call_soon_threadsafe(stop)
        self._thread.join(10)


@contextlib.contextmanager
def delayed(origin: str, delay_ms: float) -> Iterator[str]:
    """`http://host:port` of `origin` as seen through a proxy adding `delay_ms` per round trip."""
    host, _, port = origin.removeprefix("http://").partition(":")
    with DelayProxy(host, int(port), delay_ms) as proxy:
        yield f"http://127.0.0.1:{proxy.port}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--upstream", required=True, help="host:port to forward to")
    parser.add_argument("--delay-ms", type=float, default=50.0, help="added round-trip time")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()
    host, _, port = args.upstream.rpartition(":")
    with DelayProxy(host, int(port), args.delay_ms, args.port) as proxy:
        print(f"http://127.0.0.1:{proxy.port} -> {args.upstream} (+{args.delay_ms:g} ms per round trip)", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            threading.Event().wait()


if __name__ == "__main__":
    main()
