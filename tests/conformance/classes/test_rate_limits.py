"""Rate-limited deployments: the contract allows 429 with Retry-After on every operation.

A deployment that limits each client to 25 requests a second conforms: the run honours its
Retry-After and passes, counting the 429s; with `--max-rate` it provokes few or none. A 429 that
never ends leaves what needed the answer unverified (an error), and fails no other rule.

Every request the suite sends leaves through the rate governor: seen at the transport (the lowest
layer of both HTTP stacks, in this process) and counted at a proxy in front of the deployment
that answers each request 429 the first time, a whole run passes with every request stamped by
the governor, as many at the wire as it let out, every 429 honoured: the contract items and the
built-in checks' own requests, every scenario helper, the event stream and its resumes, token
requests and the preflight, and the doctor.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
import requests

from benchmarks.clients import admin, suite_env
from conformance.cli import main
from conformance.client import rate_governor
from conformance.client.rate_governor import RateGovernor
from tests.conformance.classes.conftest import PlainTarget
from tests.conformance.limiting_proxy import FirstTime, ForeverAfterBurst, RunningProxy, limited_reference
from tests.conftest import UNCUT, SuiteRun

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


# A budget and what may follow it: requests in flight at the end (each within the standard profile's
# request time-out of 10 s) and the reports, on a busy machine.
FOREVER_BUDGET = 30
GRACE = 15


def test_a_deployment_that_limits_one_client_forever_ends_within_its_budget(
    run_suite: Callable[..., SuiteRun],
) -> None:
    """Issue 22: after a burst, the primary client is answered 429 (Retry-After: 1) for ever. The
    standard run ends within its budget, what needed that client not verified and nothing failed."""
    with limited_reference(ForeverAfterBurst(admin().client_id, burst=50)) as proxy:
        run = run_suite(
            *("--base-url", proxy.base_url, "--profile", "standard", "--time-budget", str(FOREVER_BUDGET)),
            env=suite_env(),
        )
    summary = run.summary
    assert summary["duration_seconds"] <= FOREVER_BUDGET + GRACE, "the engine's own clock"
    assert summary["verdict"] == "error" and run.failed_requirements() == set(), run.stdout[-3000:]
    counts = summary["counts"]["rate_limited"]
    assert counts["given_up"] > 0 and counts["waited_seconds"] < FOREVER_BUDGET
    assert proxy.counts.limited == counts["answers"]
    assert any("rate limited beyond what the run can wait" in error for error in summary["errors"])
    # Each requirement left unverified (not one the plain deployment cannot offer) says why: rate limits.
    reasons = [u["reason"] for u in summary["unverified"] if run.status(u["requirement_id"]) == "skipped"]
    assert reasons and all("rate limited" in reason or "rate-limited" in reason for reason in reasons), reasons


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


# --- one way out: every request through the governor, seen at the transport ------------------


@dataclass
class WireTap:
    """Every request this process puts on the wire, at the lowest layer of both HTTP stacks
    (`http.client`, under `requests` and urllib3; httpcore, under httpx), sorted by whether the
    rate governor let it out. The proxy's own forwarding is not the suite's."""

    proxy: RunningProxy
    stamped: int = 0
    unstamped: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def see(self, what: str) -> None:
        if self.proxy.is_forwarding():
            return
        with self.lock:
            if rate_governor.admitted():
                self.stamped += 1
            else:
                self.unstamped.append(what)


@pytest.fixture
def first_time_target() -> Iterator[RunningProxy]:
    """A plain reference behind a proxy that answers every distinct request 429 (Retry-After: 1)
    the first time; the reference's issuer is the proxy, so token requests pass it too."""
    with limited_reference(FirstTime()) as proxy:
        yield proxy


@pytest.fixture
def tapped(first_time_target: RunningProxy, monkeypatch: pytest.MonkeyPatch) -> WireTap:
    tap = WireTap(first_time_target)
    putrequest = http.client.HTTPConnection.putrequest
    handle_request = httpcore.ConnectionPool.handle_request

    def tapped_putrequest(connection: http.client.HTTPConnection, method: str, url: str, *args: Any, **kw: Any) -> Any:
        tap.see(f"http.client {method} {url}")
        return putrequest(connection, method, url, *args, **kw)

    def tapped_handle_request(pool: httpcore.ConnectionPool, request: httpcore.Request) -> Any:
        tap.see(f"httpcore {request.method!r} {request.url}")
        return handle_request(pool, request)

    monkeypatch.setattr(http.client.HTTPConnection, "putrequest", tapped_putrequest)
    monkeypatch.setattr(httpcore.ConnectionPool, "handle_request", tapped_handle_request)
    return tap


@dataclass
class Governors:
    """The governors the commands made, their sleeps recorded instead of slept: every Retry-After
    is honoured by the count, and the test never waits on the wall clock."""

    made: list[RateGovernor] = field(default_factory=list)
    slept: list[float] = field(default_factory=list)


@pytest.fixture
def governors(monkeypatch: pytest.MonkeyPatch) -> Governors:
    record = Governors()

    class RecordedGovernor(RateGovernor):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **{**kwargs, "sleep": record.slept.append})
            record.made.append(self)

    monkeypatch.setattr("conformance.runner.session.RateGovernor", RecordedGovernor)
    return record


@pytest.fixture
def suite_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith(("PHASE2_", "OTEL_")):
            monkeypatch.delenv(name)
    for name, value in suite_env().items():  # every client: primary, other tenant, read-only
        monkeypatch.setenv(name, value)


def test_the_tap_sees_a_request_that_leaves_another_way(tapped: WireTap, first_time_target: RunningProxy) -> None:
    """The check can fail: a plain client of either stack, sending around the governor, is caught."""
    httpx.get(first_time_target.base_url + "/healthz")
    requests.get(first_time_target.base_url + "/healthz", timeout=10)
    assert [line.split(" ")[0] for line in tapped.unstamped] == ["httpcore", "http.client"]
    assert tapped.stamped == 0


@pytest.mark.usefixtures("suite_environment")
def test_every_request_of_a_run_leaves_through_the_governor_and_every_429_is_honoured(
    tapped: WireTap, first_time_target: RunningProxy, governors: Governors, tmp_path: Path
) -> None:
    proxy = first_time_target
    report_dir = tmp_path / "report"
    code = main(
        ["run", "-q", "--report-dir", str(report_dir), "--base-url", proxy.base_url, "--profile", "quick", *UNCUT]
    )
    summary = json.loads((report_dir / "summary.json").read_text())
    failed = {rid: r["failures"][:1] for rid, r in summary["requirements"].items() if r["status"] == "failed"}
    assert code == 0 and summary["verdict"] == "pass", (failed, summary["errors"])
    [governor] = governors.made
    assert tapped.unstamped == []
    assert tapped.stamped == proxy.counts.received == governor.sent, "no request left the suite another way"
    # Every request was answered 429 the first time, and honoured: waited, sent again, never judged.
    assert proxy.counts.limited > 500
    assert governor.limited == governor.retries == proxy.counts.limited and governor.given_up == 0
    assert sorted(set(governors.slept) & {1.0}) == [1.0] and governor.waited == proxy.counts.limited * 1.0
    assert summary["counts"]["rate_limited"] == {
        "answers": proxy.counts.limited,
        "retries": proxy.counts.limited,
        "given_up": 0,
        "waited_seconds": float(proxy.counts.limited),
    }
    # Each 429 was judged as the answer it is (a problem document with Retry-After), and passed.
    assert summary["requirements"]["P2-PRO-012"]["status"] == "passed"
    # Every scenario ran to its end (no helper was blocked by a 429), the event stream's included.
    scenarios = [t for t in summary["tests"] if t["name"].startswith("test_scenario[")]
    assert scenarios and all(t["outcome"] in ("passed", "skipped") for t in scenarios)
    assert [t["outcome"] for t in scenarios if t["name"] == "test_scenario[check_event_stream]"] == ["passed"]
    assert summary["requirements"]["P2-SEM-018"]["status"] == "passed"
    skipped = {t["name"]: t.get("message") for t in scenarios if t["outcome"] == "skipped"}
    assert all("needs" in str(why) or "not selected" in str(why) for why in skipped.values()), skipped


@pytest.mark.usefixtures("suite_environment")
def test_the_doctor_leaves_through_the_governor_and_still_reports_the_429s(
    tapped: WireTap, first_time_target: RunningProxy, governors: Governors, capsys: pytest.CaptureFixture[str]
) -> None:
    proxy = first_time_target
    main(["doctor", "--base-url", proxy.base_url])
    lines = capsys.readouterr().out.splitlines()
    [governor] = governors.made
    assert tapped.unstamped == []
    assert tapped.stamped == proxy.counts.received == governor.sent > 10
    assert governor.limited == governor.retries == proxy.counts.limited > 0 and governor.given_up == 0
    # Honoured, not hidden: the doctor names the 429s it met, which a run would wait out.
    assert any(line.startswith("✗ rate limit:") and "429" in line for line in lines), lines
    for name in ("base path", "auth metadata", "token", "readyz", "metrics", "flags"):
        assert any(line.startswith(f"✓ {name}:") for line in lines), (name, lines)


@pytest.mark.usefixtures("suite_environment")
def test_a_replay_leaves_through_the_governor(
    run_suite: Callable[..., SuiteRun],
    tapped: WireTap,
    first_time_target: RunningProxy,
    governors: Governors,
    capsys: pytest.CaptureFixture[str],
) -> None:
    selection = ("--classes", "contract", "--requirement", "P2-CON-001", "--operation", "createWorld")
    run = run_suite("--reference", "--reference-fault", "create-answers-200", "--profile", "quick", *selection)
    [failure, *_] = run.summary["requirements"]["P2-CON-001"]["failures"]
    proxy = first_time_target
    code = main(["replay", failure["id"], "--report-dir", str(run.report_dir), "--base-url", proxy.base_url])
    out = capsys.readouterr().out
    assert code == 0 and f"{failure['id']}: no longer reproduces" in out, out
    [governor] = governors.made
    assert tapped.unstamped == []
    assert tapped.stamped == proxy.counts.received == governor.sent > 0
    assert governor.limited == governor.retries == proxy.counts.limited > 0 and governor.given_up == 0
