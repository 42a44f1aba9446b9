"""Reproduction commands: what `curl` sends when the printed command is run."""

from __future__ import annotations

import shlex
import shutil
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conformance.client.observed import ObservedResponse
from conformance.client.secrets import Redactor


class _RecordingServer(ThreadingHTTPServer):
    seen: list[list[tuple[str, str]]]


class _Recorder(BaseHTTPRequestHandler):
    server: _RecordingServer

    def do_GET(self) -> None:
        self.server.seen.append(list(self.headers.items()))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def recording_server() -> Iterator[tuple[str, list[list[tuple[str, str]]]]]:
    seen: list[list[tuple[str, str]]] = []
    server = _RecordingServer(("127.0.0.1", 0), _Recorder)
    server.seen = seen
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def _observed(url: str, headers: dict[str, str]) -> ObservedResponse:
    return ObservedResponse(
        operation=None,
        method="GET",
        url=url,
        request_headers=headers,
        request_body=None,
        status=400,
        headers={},
        body=b"",
    )


@pytest.mark.skipif(shutil.which("curl") is None, reason="no curl binary on this machine")
def test_an_empty_header_is_sent_by_the_printed_curl_command(
    recording_server: tuple[str, list[list[tuple[str, str]]]],
) -> None:
    base_url, seen = recording_server
    observed = _observed(f"{base_url}/v2/worlds", {"X-Request-ID": "", "Accept": "application/json"})
    command = observed.curl(Redactor(()))
    subprocess.run(shlex.split(command), check=True, capture_output=True, timeout=30)
    (headers,) = seen
    sent = {name.lower(): value for name, value in headers}
    assert sent.get("x-request-id") == ""
    assert sent["accept"] == "application/json"


def test_a_blank_header_uses_curls_semicolon_form() -> None:
    command = _observed("http://127.0.0.1:1/v2/worlds", {"X-Request-ID": "  "}).curl(Redactor(()))
    assert "'X-Request-ID;'" in shlex.join(shlex.split(command))
    assert "X-Request-ID:" not in command
