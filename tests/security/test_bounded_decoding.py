"""Every body the suite reads, from every peer, is bounded after decoding and in parsing work.

Each case is a hostile peer on a loopback socket; the run must end with a clear failure (or exit 3
when nothing can be tested), one line and no traceback, a written report, on time, and with the
child's peak RSS (from `wait4`, through a small interpreter so that pytest's own does not count)
under 1 GiB.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.hostile.servers import free_port
from tests.security import bombs
from tests.security.hostile import MAX_RSS_MB, CliRun, HostileDeployment, Reply, Request, deployment, run_against

# The quick profile's budget, and how far past it items may still start (runner/budget.py): a run
# ends within both, plus 10 s, by its own clock (issue 23), however busy the machine is.
QUICK_BUDGET_SECONDS = 120.0
OWN_CLOCK_LIMIT_SECONDS = QUICK_BUDGET_SECONDS + max(60.0, QUICK_BUDGET_SECONDS) + 10.0
# Only a hang guard: wall time on a saturated 2-core machine says nothing about the run.
HANG_SECONDS = 900.0


def compressed(body: bytes, encoding: str, content_type: str = "application/json") -> Reply:
    return Reply(200, body, [("Content-Type", content_type), ("Content-Encoding", encoding)])


def after_login(path: str, reply: Callable[[], Reply]) -> Callable[[HostileDeployment, Request], Reply | None]:
    """Answer `path` with `reply` once the run has its token (so the preflight passes)."""
    reply()  # built now, not while the run waits for the answer

    def answer(hostile: HostileDeployment, request: Request) -> Reply | None:
        if request.path.split("?", 1)[0] == path and hostile.tokens:
            return reply()
        return None

    return answer


def assert_bounded(run: CliRun, elapsed: float) -> None:
    assert "Traceback" not in run.stdout + run.stderr, run.stderr
    assert run.peak_rss_mb < MAX_RSS_MB, f"peak RSS {run.peak_rss_mb:.0f} MB"
    assert elapsed < HANG_SECONDS, f"took {elapsed:.0f}s"
    assert (run.report_dir / "summary.json").is_file(), "a report is written"
    own = run.summary["duration_seconds"]
    assert isinstance(own, int | float), own
    assert own <= OWN_CLOCK_LIMIT_SECONDS, f"the run's own clock says {own:.0f}s"
    print(f"exit {run.exit_code}, peak RSS {run.peak_rss_mb:.0f} MB, {elapsed:.1f}s")


def timed_run(answer: Callable[[HostileDeployment, Request], Reply | None], tmp_path: Path, *extra: str) -> CliRun:
    with deployment(answer) as hostile:
        started = time.monotonic()
        run = run_against(hostile, tmp_path, *extra)
        assert_bounded(run, time.monotonic() - started)
    return run


def run_text(run: CliRun) -> str:
    return json.dumps(run.summary)


RESPONSES: dict[str, tuple[Callable[[], Reply], str]] = {
    "stacked gzip, gzip bomb": (
        lambda: compressed(bombs.stacked_gzip_bomb(), "gzip, gzip"),
        "decodes to more than",
    ),
    "gzip bomb": (lambda: compressed(bombs.gzip_bomb(), "gzip"), "decodes to more than"),
    "JSON a million levels deep": (lambda: compressed(bombs.deep_json(), "gzip"), "JSON nested deeper than"),
}


@pytest.mark.parametrize("hostility", list(RESPONSES))
def test_a_hostile_response_is_cut_off_in_both_clients(hostility: str, tmp_path: Path) -> None:
    """The suite's own client (health scenarios) and Schemathesis' session (contract) meet it."""
    reply, reason = RESPONSES[hostility]
    run = timed_run(
        after_login("/v2/healthz", reply), tmp_path, "--classes", "health,contract", "--operation", "getLiveness"
    )
    assert run.exit_code == 1, run.stderr
    assert run.summary["verdict"] != "pass"
    assert reason in run_text(run)
    assert "Verdict: PASS" not in run.stdout


@pytest.mark.parametrize("hostility", ["stacked gzip, gzip bomb", "JSON a million levels deep"])
def test_hostile_provider_metadata_is_exit_3_in_one_line(hostility: str, tmp_path: Path) -> None:
    reply, reason = RESPONSES[hostility]
    reply()  # built before the run starts

    def answer(hostile: HostileDeployment, request: Request) -> Reply | None:
        return reply() if request.path.startswith("/.well-known/") else None

    run = timed_run(answer, tmp_path, "--classes", "health")
    assert run.exit_code == 3, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and "auth provider" in lines[0] and reason in lines[0], run.stderr
    assert run.summary["verdict"] == "error"


def test_a_hostile_jwks_fails_the_metadata_check(tmp_path: Path) -> None:
    reply, reason = RESPONSES["stacked gzip, gzip bomb"]
    run = timed_run(after_login("/.well-known/jwks.json", reply), tmp_path, "--requirement", "P2-AUTH-018")
    # P2-AUTH-018 is a SHOULD: failed, it does not fail the default (MUST) gate.
    assert run.exit_code in (0, 1), run.stderr
    entry: Any = run.summary["requirements"]["P2-AUTH-018"]
    assert entry["status"] == "failed" and reason in json.dumps(entry), entry


def test_a_million_sse_events_end_in_a_clear_failure(tmp_path: Path) -> None:
    reply = lambda: compressed(bombs.many_sse_events(), "gzip", "text/event-stream")  # noqa: E731
    run = timed_run(after_login("/v2/events/stream", reply), tmp_path, "--requirement", "P2-SEM-017")
    assert run.exit_code == 1, run.stderr
    entry: Any = run.summary["requirements"]["P2-SEM-017"]
    assert entry["status"] == "failed" and "more than 10000 messages" in json.dumps(entry), entry


@pytest.mark.parametrize(
    ("series", "reason"),
    [
        (lambda: compressed(bombs.ten_million_series(), "gzip", "text/plain; version=0.0.4"), "decodes to more than"),
        (lambda: Reply(200, bombs.a_million_short_series(), [("Content-Type", "text/plain")]), "more than"),
    ],
    ids=["ten million series", "a million series under the body cap"],
)
def test_metrics_with_millions_of_series_fail_the_exposition_check(
    series: Callable[[], Reply], reason: str, tmp_path: Path
) -> None:
    run = timed_run(after_login("/v2/metrics", series), tmp_path, "--requirement", "P2-TEL-001")
    assert run.exit_code == 1, run.stderr
    entry: Any = run.summary["requirements"]["P2-TEL-001"]
    assert entry["status"] != "passed"
    assert reason in json.dumps(entry)


def endless_pages(loop: bool) -> Callable[[HostileDeployment, Request], Reply | None]:
    """World pages whose next_cursor never ends (or comes back to an earlier one)."""
    counter = itertools.count()

    def answer(hostile: HostileDeployment, request: Request) -> Reply | None:
        if not (request.method == "GET" and request.path.split("?", 1)[0] == "/v2/worlds" and hostile.tokens):
            return None
        number = next(counter)
        cursor = f"c{number % 2 if loop else number}"
        item = {"id": f"00000000-0000-4000-8000-{number:012d}", "name": f"w{number}"}
        body = json.dumps({"items": [item], "next_cursor": cursor}).encode()
        return Reply(200, body, [("Content-Type", "application/json")])

    return answer


@pytest.mark.parametrize("loop", [False, True], ids=["never ends", "loops"])
def test_pagination_that_never_ends_or_loops_is_a_clear_failure(loop: bool, tmp_path: Path) -> None:
    run = timed_run(endless_pages(loop), tmp_path, "--requirement", "P2-SEM-008", "--time-budget", "60")
    assert run.exit_code == 1, run.stderr
    entry: Any = run.summary["requirements"]["P2-SEM-008"]
    assert entry["status"] != "passed", entry


def post_exports(port: int, bodies: list[bytes]) -> Callable[[HostileDeployment, Request], Reply | None]:
    """On the first scrape of /metrics, the deployment posts hostile exports to the suite's receiver."""
    sent = threading.Event()

    def answer(hostile: HostileDeployment, request: Request) -> Reply | None:
        if request.path.startswith("/v2/metrics") and not sent.is_set():
            sent.set()
            for body in bodies:
                post = urllib.request.Request(
                    f"http://127.0.0.1:{port}/v1/traces",
                    data=body,
                    headers={"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
                )
                # Refused (413) is what the receiver should answer.
                with contextlib.suppress(OSError):
                    urllib.request.urlopen(post, timeout=30).close()
        return None

    return answer


def test_hostile_otlp_exports_are_refused_and_the_run_cannot_pass(tmp_path: Path) -> None:
    port = free_port()
    bombs.otlp_export_bomb(), bombs.otlp_export_of_many_spans()  # built before the run starts
    answer = post_exports(port, [bombs.otlp_export_bomb(), bombs.otlp_export_of_many_spans()])
    run = timed_run(answer, tmp_path, "--requirement", "P2-TEL-001", "--otlp-receiver-port", str(port))
    assert run.exit_code == 1, run.stderr
    assert run.summary["verdict"] != "pass"
    errors = " ".join(str(error) for error in run.summary["errors"])  # type: ignore[attr-defined]
    assert "OTLP receiver refused an export" in errors and "decodes to more than" in errors, errors
    assert "spans (at most" in errors, errors
