"""Against a hostile target the run ends within its budget, with exit 1 or 3, one line, no traceback."""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.hostile import servers

BUDGET = 20.0
GRACE = 15.0  # interpreter start-up and teardown on a loaded 2-core machine
MAX_RSS_MB = 400
CREDENTIALS = {"PHASE2_CLIENT_ID": "hostile-client", "PHASE2_CLIENT_SECRET": "hostile-secret-value-123"}


@contextlib.contextmanager
def serving(handler: servers.Handler) -> Iterator[str]:
    with servers.HostileServer(handler) as server:
        yield server.url


def run_against(
    base_url: str, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[int, str, float, float]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHASE2_", "OTEL_"))}
    env.update(CREDENTIALS, PHASE2_BASE_URL=base_url + "/v2", **(extra_env or {}))
    command = [
        sys.executable,
        "-m",
        "conformance",
        "run",
        "-q",
        "--profile",
        "quick",
        "--time-budget",
        str(BUDGET),
        "--request-timeout",
        "2",
        "--report-dir",
        str(tmp_path / "report"),
    ]
    output_path = tmp_path / "output.txt"
    started = time.monotonic()
    with output_path.open("w") as output:
        # os.wait4 gives the child's own peak RSS; output goes to a file so a full pipe cannot block it.
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, cwd=tmp_path)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.monotonic() - started
    return process.returncode, output_path.read_text(), elapsed, usage.ru_maxrss / 1024


HOSTILE: dict[str, Callable[[], contextlib.AbstractContextManager[str]]] = {
    "refuses connections": servers.refusing,
    "accepts and never answers": lambda: serving(servers.never_answers),
    "resets connections": lambda: serving(servers.resets),
    "answers non-HTTP bytes": lambda: serving(servers.not_http),
    "streams an endless body": lambda: serving(servers.endless_body),
    "drips one byte a second": lambda: serving(servers.drips),
    "redirects in a loop": lambda: serving(servers.redirect_loop),
    "answers HTML for everything": lambda: serving(servers.html_everywhere),
    "answers truncated JSON": lambda: serving(servers.truncated_json),
    "has no auth provider": lambda: serving(servers.healthy_but_no_auth_metadata),
}


@pytest.mark.parametrize("behaviour", list(HOSTILE))
def test_a_hostile_target_ends_the_run_cleanly(behaviour: str, tmp_path: Path) -> None:
    with HOSTILE[behaviour]() as url:
        code, output, elapsed, rss_mb = run_against(url, tmp_path)
    assert code in (1, 3), output
    assert elapsed < BUDGET + GRACE, f"took {elapsed:.1f}s"
    assert rss_mb < MAX_RSS_MB, f"peak RSS {rss_mb:.0f} MB"
    assert "Traceback" not in output
    error_lines = [line for line in output.splitlines() if "error:" in line]
    assert len(error_lines) == 1, output
    assert "hostile-secret-value-123" not in output
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["verdict"] == "error" and summary["exit_code"] == code
    assert summary["errors"], "the reason is in the report too"


@pytest.mark.parametrize("provider", ["down", "garbage"])
def test_a_broken_auth_provider_ends_the_run_with_exit_3(provider: str, tmp_path: Path) -> None:
    provider_cm = servers.refusing() if provider == "down" else serving(servers.garbage_provider)
    with serving(servers.healthy_but_no_auth_metadata) as target, provider_cm as provider_url:
        code, output, elapsed, _ = run_against(target, tmp_path, {"PHASE2_AUTH_PROVIDER": provider_url})
    assert code == 3, output
    assert "auth provider" in output or "token endpoint" in output, output
    assert "Traceback" not in output and elapsed < BUDGET + GRACE
    assert "hostile-secret-value-123" not in output
