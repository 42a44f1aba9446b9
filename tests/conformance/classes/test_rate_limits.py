"""Rate-limited deployments: the contract allows 429 with Retry-After on every operation.

A deployment that limits each client to 25 requests a second conforms: the run honours its
Retry-After and passes, counting the 429s; with `--max-rate` it provokes few or none. A 429 that
never ends leaves what needed the answer unverified (an error), and fails no other rule.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.conformance.classes.conftest import PlainTarget
from tests.conftest import SuiteRun

LIMITED = ("--reference", "--reference-option=--rate-limit=25", "--profile", "quick")


def test_a_rate_limited_deployment_passes_and_its_429s_are_counted(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite(*LIMITED)
    assert run.exit_code == 0, run.stdout + run.stderr
    counts = run.summary["counts"]["rate_limited"]
    assert counts["answers"] > 0 and counts["retries"] == counts["answers"] and counts["given_up"] == 0
    assert f"{counts['answers']} answered 429" in run.stdout


def test_max_rate_keeps_under_the_limit(run_suite: Callable[..., SuiteRun]) -> None:
    # The classes that create most data, so the most requests in the least time.
    run = run_suite(*LIMITED, "--max-rate", "20", "--classes", "semantic,protocol")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.summary["counts"]["rate_limited"]["answers"] <= 2


class _Proxy(ThreadingHTTPServer):
    upstream: str
    client: httpx.Client


class _LimitOneRoute(BaseHTTPRequestHandler):
    """Forwards to the deployment, except that GET /v2/engine is always 429 (Retry-After: 0)."""

    server: _Proxy

    def _forward(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.command == "GET" and self.path.split("?")[0] == "/v2/engine":
            problem = b'{"type":"about:blank","title":"Too many requests","status":429}'
            self.send_response(429)
            self.send_header("Retry-After", "0")
            self.send_header("Content-Type", "application/problem+json")
            self.send_header("Content-Length", str(len(problem)))
            self.end_headers()
            self.wfile.write(problem)
            return
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "content-length")}
        answer = self.server.client.request(
            self.command, self.server.upstream + self.path, headers=headers, content=body
        )
        self.send_response(answer.status_code)
        for name, value in answer.headers.multi_items():
            if name.lower() not in ("content-length", "transfer-encoding", "connection", "content-encoding"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.content)))
        self.end_headers()
        self.wfile.write(answer.content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _forward

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def limited_route(plain_reference: PlainTarget) -> Iterator[PlainTarget]:
    origin = plain_reference.base_url.removesuffix("/v2")
    with httpx.Client(timeout=10) as client:
        server = _Proxy(("127.0.0.1", 0), _LimitOneRoute)
        server.upstream, server.client = origin, client
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            # The reference's metadata names its own origin as the issuer: trusted, as a vendor would.
            env = {**plain_reference.env, "PHASE2_TRUST_TOKEN_ORIGIN": origin}
            yield PlainTarget(f"http://127.0.0.1:{server.server_address[1]}/v2", env)
        finally:
            server.shutdown()
            server.server_close()


def test_a_429_that_never_ends_is_an_error_not_a_failure(
    run_suite: Callable[..., SuiteRun], limited_route: PlainTarget
) -> None:
    run = run_suite(
        *("--base-url", limited_route.base_url, "--classes", "contract,protocol", "--operation", "getEngineInfo"),
        *("--profile", "quick", "--max-examples", "1"),
        env=limited_route.env,
    )
    assert run.summary["verdict"] == "error", run.stdout
    assert run.failed_requirements() == set(), run.stdout
    assert run.summary["counts"]["rate_limited"]["given_up"] > 0
    assert any("GET /engine could not be tested" in error and "429" in error for error in run.summary["errors"])
