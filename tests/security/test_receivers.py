"""Our own receivers (the OTLP receiver, the test issuer) against hostile clients on a real socket.

Each attack runs against the receivers in a process of their own (`receiver_process.py`), whose
peak memory is measured: a chunk-size line of 700 MiB (read without a limit it took a run to
2.2 GB), a flood of headers, clients that trickle their head or their body (slowloris), a body that
claims ten gigabytes, a gzip bomb. The proof is in counts: how many bytes the receiver let in
before it cut the client off, its peak RSS; waits have generous bounds, never tight timings.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.security import bombs

ROOT = Path(__file__).resolve().parents[2]
MIB = 1024 * 1024
MAX_RSS_MB = 1024  # the bound
LET_IN_MB = 64  # what a cut-off client may push into socket buffers before the receiver closes
PATIENCE = 60.0  # seconds: a generous bound on what the receivers cut off in one or two


@dataclass
class Receivers:
    process: subprocess.Popen[str]
    otlp: int
    issuer: int

    def finish(self) -> dict[str, object]:
        """Close both receivers (slow clients may still be connected) and read what they report."""
        out, _ = self.process.communicate("\n", timeout=PATIENCE)
        report: dict[str, object] = json.loads(out.strip().splitlines()[-1])
        return report


@pytest.fixture
def receivers() -> Iterator[Receivers]:
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.security.receiver_process"],
        cwd=ROOT,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ports = json.loads(process.stdout.readline())
    try:
        yield Receivers(process, ports["otlp"], ports["issuer"])
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def push(port: int, head: bytes, filler: bytes, total: int) -> int:
    """Send `head`, then `filler` until `total` bytes went or the receiver closed; the bytes it took."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=PATIENCE) as conn:
        try:
            conn.sendall(head)
            while sent < total:
                conn.sendall(filler)
                sent += len(filler)
        except (BrokenPipeError, ConnectionResetError):
            pass
    return sent


def closed_by_peer(conn: socket.socket, trickle: bytes, every: float = 0.2) -> bool:
    """Trickle `trickle` one byte at a time until the receiver closes the connection (True) or
    `PATIENCE` passes (False)."""
    conn.settimeout(every)
    deadline = time.monotonic() + PATIENCE
    for byte in trickle * 10_000:
        if time.monotonic() > deadline:
            return False
        try:
            conn.sendall(bytes([byte]))
            conn.recv(65536)
        except TimeoutError:
            continue  # still waiting for the rest
        except (BrokenPipeError, ConnectionResetError):
            return True
        return True  # an answer (413, 400) or the end of the connection: the receiver gave up on it
    return False


def test_a_700_mib_chunk_size_line_is_cut_off_at_the_head_limit(receivers: Receivers) -> None:
    head = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
    taken = push(receivers.otlp, head, b"f" * MIB, 700 * MIB)
    report = receivers.finish()
    assert taken < LET_IN_MB * MIB, f"the receiver took {taken // MIB} MiB of one chunk-size line"
    assert report["peak_rss_mb"] < MAX_RSS_MB  # type: ignore[operator]


@pytest.mark.parametrize("server", ["otlp", "issuer"])
def test_a_flood_of_headers_is_cut_off(receivers: Receivers, server: str) -> None:
    port = receivers.otlp if server == "otlp" else receivers.issuer
    method = b"POST /v1/traces" if server == "otlp" else b"GET /jwks.json"
    taken = push(port, method + b" HTTP/1.1\r\nHost: x\r\n", b"X-Flood: " + b"y" * 1014 + b"\r\n", 512 * MIB)
    report = receivers.finish()
    assert taken < LET_IN_MB * MIB, f"the receiver took {taken // MIB} MiB of headers"
    assert report["peak_rss_mb"] < MAX_RSS_MB  # type: ignore[operator]


def test_a_body_claiming_ten_gigabytes_is_refused_before_it_is_read(receivers: Receivers) -> None:
    head = b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000000\r\n\r\n"
    taken = push(receivers.otlp, head, b"\0" * MIB, 2048 * MIB)
    report = receivers.finish()
    assert taken < LET_IN_MB * MIB
    assert any("10000000000" in reason for reason in report["refusals"])  # type: ignore[union-attr]


def test_slow_heads_are_cut_off_and_do_not_keep_exporters_out(receivers: Receivers) -> None:
    """Slowloris: clients that trickle their head are closed once the head deadline passes (1 s in the
    receiver process), exports from others still land meanwhile, and closing the receivers does not
    wait for the slow clients still connected."""
    slow = [socket.create_connection(("127.0.0.1", receivers.otlp), timeout=PATIENCE) for _ in range(8)]
    try:
        for conn in slow:
            conn.sendall(b"POST /v1/traces HTTP/1.1\r\n")
        answer = httpx.post(
            f"http://127.0.0.1:{receivers.otlp}/v1/traces",
            content=b"",
            headers={"Content-Type": "application/x-protobuf"},
        )
        assert answer.status_code == 200
        assert all(closed_by_peer(conn, b"X-Slow: 1\r\n") for conn in slow)
        late = [socket.create_connection(("127.0.0.1", receivers.otlp), timeout=PATIENCE) for _ in range(8)]
        for conn in late:
            conn.sendall(b"POST /v1/traces HTTP/1.1\r\nX-Slow")
        report = receivers.finish()  # with the late slow clients still connected
        assert report["closed"] is True
        for conn in late:
            conn.close()
    finally:
        for conn in slow:
            conn.close()


def test_a_slow_body_is_cut_off_at_the_body_deadline(receivers: Receivers) -> None:
    with socket.create_connection(("127.0.0.1", receivers.otlp), timeout=PATIENCE) as conn:
        conn.sendall(b"POST /v1/traces HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
        assert closed_by_peer(conn, b"\0")
    report = receivers.finish()
    assert any("not received within" in reason for reason in report["refusals"])  # type: ignore[union-attr]


def test_a_gzip_bomb_is_refused_at_the_decoded_cap(receivers: Receivers) -> None:
    answer = httpx.post(
        f"http://127.0.0.1:{receivers.otlp}/v1/traces",
        content=bombs.otlp_export_bomb(),
        headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
        timeout=PATIENCE,
    )
    assert answer.status_code == 413
    report = receivers.finish()
    assert any("decodes to more than" in reason for reason in report["refusals"])  # type: ignore[union-attr]
    assert report["peak_rss_mb"] < MAX_RSS_MB  # type: ignore[operator]
