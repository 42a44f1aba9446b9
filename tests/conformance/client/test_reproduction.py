"""Reproductions that reproduce: the curl of a failure sends its request whole, with the token from
`$PHASE2_TOKEN`, and real curl proves it against a loopback server that records what it received."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp

from conformance.client import step_log
from conformance.client.observed import ObservedResponse
from conformance.client.reproduction import FOLD_BYTES, token_command_kind, token_hint
from conformance.client.secrets import Redactor
from conformance.contract import load_catalog, load_contract
from conformance.peers.loopback_server import LoopbackServer
from conformance.recorder import Recorder
from conformance.results import Failure

ACCESS_TOKEN = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBsYXkifQ.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


class EchoServer(LoopbackServer):
    """Answers 200 and keeps the last request's method, path, headers and body."""

    thread_name = "echo"

    def __init__(self) -> None:
        self.received: dict[str, Any] = {}
        super().__init__()

    def app(self) -> ASGIApp:
        async def record(request: Request) -> Response:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            self.received = {
                "method": request.method,
                "path": path,
                "headers": dict(request.headers),
                "body": await request.body(),
            }
            return Response(b"", 200)

        return Starlette(routes=[Route("/{path:path}", record, methods=["GET", "POST", "PATCH"])])


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


def observed(
    url: str, body: bytes | None, headers: dict[str, str] | None = None, status: int = 500
) -> ObservedResponse:
    contract = load_contract()
    return ObservedResponse(
        operation=contract.operation("createWorld"),
        method="POST",
        url=url,
        request_headers={
            "Authorization": f"Bearer {ACCESS_TOKEN}",
            "Content-Type": "application/json",
            **(headers or {}),
        },
        request_body=body,
        status=status,
        headers={"content-type": "application/problem+json"},
        body=b'{"status": 500}',
    )


def record(report_dir: Path, response: ObservedResponse) -> Failure:
    redactor = Redactor([ACCESS_TOKEN])
    step_log.note_token(ACCESS_TOKEN, "role:primary")
    recorder = Recorder(load_catalog(), redactor, report_dir)
    return recorder.failed(
        "P2-PRO-013",
        "A malformed body was not refused",
        "answered 500",
        check="check_malformed_bodies",
        observed=response,
        expected="400",
        actual="answered 500",
        expected_status=(400,),
    )


def run_curl(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", command],
        cwd=cwd,
        env={**os.environ, "PHASE2_TOKEN": "token-from-the-environment"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


needs_curl = pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")


@needs_curl
def test_a_long_binary_body_goes_whole_through_a_file(tmp_path: Path, echo: EchoServer) -> None:
    body = b'{"name": "' + b"x" * (300 * 1024) + b'\xff\xfe\x00 "}'
    failure = record(tmp_path / "report", observed(echo.url + "/v2/worlds?x=1", body))
    assert failure.curl is not None
    body_file = failure.steps[-1].request_body_file
    assert body_file == f"bodies/{failure.id}-1.json"
    assert (tmp_path / "report" / body_file).read_bytes() == body
    assert f"--data-binary @{tmp_path / 'report' / body_file}" in failure.curl
    assert "…" not in failure.curl and len(failure.curl) < 1000
    completed = run_curl(failure.curl, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert echo.received["body"] == body
    assert echo.received["path"] == "/v2/worlds?x=1"
    assert echo.received["headers"]["authorization"] == "Bearer token-from-the-environment"


@needs_curl
def test_the_curl_reads_the_token_from_the_environment_never_a_token_or_a_mask(
    tmp_path: Path, echo: EchoServer
) -> None:
    body = b'{"name": "it\'s \\"quoted\\" $HOME `id`"}'
    failure = record(tmp_path / "report", observed(echo.url + "/v2/worlds", body, {"If-Match": '"3"'}))
    assert failure.curl is not None
    assert '-H "Authorization: Bearer $PHASE2_TOKEN"' in failure.curl
    assert ACCESS_TOKEN not in failure.curl and "***" not in failure.curl
    assert failure.steps[-1].request_body_file is None  # short and plain: inline
    completed = run_curl(failure.curl, tmp_path)
    assert completed.returncode == 0, completed.stderr
    assert echo.received["body"] == body  # the shell expanded nothing inside the body
    assert echo.received["headers"]["if-match"] == '"3"'
    assert echo.received["headers"]["authorization"] == "Bearer token-from-the-environment"


def test_a_body_with_control_characters_is_folded(tmp_path: Path) -> None:
    """A terminal shows control characters escaped: an inline body would be pasted as other bytes."""
    body = b'{"name": "line\nbreak\x1b[31m"}'
    assert len(body) < FOLD_BYTES
    failure = record(tmp_path, observed("http://127.0.0.1:9/v2/worlds", body))
    assert failure.steps[-1].request_body_file is not None
    assert (tmp_path / failure.steps[-1].request_body_file).read_bytes() == body


def test_without_a_report_dir_the_body_is_kept_whole(tmp_path: Path) -> None:
    body = b'{"name": "' + b"y" * (FOLD_BYTES * 3) + b'"}'
    recorder = Recorder(load_catalog(), Redactor())
    failure = recorder.failed(
        "P2-PRO-013", "t", "m", check="c", observed=observed("http://127.0.0.1:9/v2/worlds", body)
    )
    assert failure.curl is not None and body.decode() in failure.curl
    assert failure.steps[-1].request_body == body.decode()


def test_the_token_hint_names_the_kind_to_ask_for() -> None:
    failure = record(Path("/nonexistent-never-written"), observed("http://127.0.0.1:9/v2/worlds", None))
    step = failure.steps[-1]
    assert step.credential == "role:primary"
    assert token_hint(step) == "export PHASE2_TOKEN=$(phase2-conformance token <the run's target flags>)"
    assert token_command_kind("issuer:expired") == "expired"
    assert token_command_kind("junk:opaque") == "junk-opaque"
    assert token_command_kind("role:read-only") is None
