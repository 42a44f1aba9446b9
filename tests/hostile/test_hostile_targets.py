"""Against a hostile target the run ends within its budget, with exit 1 or 3, one line, no traceback."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from benchmarks.clients import admin
from conformance.runner.budget import TimeBudget
from phase2_reference.config import Config
from phase2_reference.testing.launcher import serving as serving_reference
from tests.conftest import _clean_env, run_measuring_peak_rss
from tests.hostile import servers

BUDGET = 20.0
# Bounds from the engine's own accounting, not from the machine's speed: the run's own clock
# (summary.json's duration) stays within the budget plus how far items may run past it for their
# guaranteed share; the process may add start-up and teardown, which a saturated 2-core machine
# can stretch a lot, so that part only has to stay finite (a generous margin, never a race).
OVERRUN = TimeBudget(BUDGET, 0.0).overrun_limit
PROCESS_MARGIN = 90.0
MAX_RSS_MB = 400
CREDENTIALS = {"PHASE2_CLIENT_ID": "hostile-client", "PHASE2_CLIENT_SECRET": "hostile-secret-value-123"}
CLIENT_SECRET = admin().client_secret


@contextlib.contextmanager
def serving(handler: servers.Handler) -> Iterator[str]:
    with servers.HostileServer(handler) as server:
        yield server.url


def run_against(
    base_url: str, tmp_path: Path, extra_env: dict[str, str] | None = None
) -> tuple[int, str, float, float]:
    env = _clean_env({**CREDENTIALS, "PHASE2_BASE_URL": base_url + "/v2", **(extra_env or {})})
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
        # Output goes to a file so a full pipe cannot block the child.
        code, rss_mb = run_measuring_peak_rss(command, env=env, cwd=tmp_path, stdout=output, stderr=subprocess.STDOUT)
    elapsed = time.monotonic() - started
    return code, output_path.read_text(), elapsed, rss_mb


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


def assert_ended_in_budget(elapsed: float, report_dir: Path) -> None:
    summary = json.loads((report_dir / "summary.json").read_text())
    ran = float(summary["duration_seconds"])
    assert ran < BUDGET + OVERRUN, f"the run's own clock says {ran:.1f}s"
    assert elapsed < ran + PROCESS_MARGIN, f"the process took {elapsed:.1f}s for a {ran:.1f}s run"


@pytest.mark.parametrize("behaviour", list(HOSTILE))
def test_a_hostile_target_ends_the_run_cleanly(behaviour: str, tmp_path: Path) -> None:
    with HOSTILE[behaviour]() as url:
        code, output, elapsed, rss_mb = run_against(url, tmp_path)
    assert code in (1, 3), output
    assert_ended_in_budget(elapsed, tmp_path / "report")
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
    assert "Traceback" not in output
    assert_ended_in_budget(elapsed, tmp_path / "report")
    assert "hostile-secret-value-123" not in output


@pytest.fixture
def healthy_upstream() -> Iterator[str]:
    """The reference, in memory: the healthy half of a deployment that turns hostile mid-run."""
    with serving_reference(Config(data_dir=None)) as running:
        yield running.origin


def test_a_target_hanging_past_the_preflight_still_ends_on_time_with_a_verdict(
    healthy_upstream: str, tmp_path: Path
) -> None:
    """Health and auth answer, so the run starts; then every world request hangs for good."""
    handler = servers.hangs_past_preflight(healthy_upstream, ("/v2/worlds",))
    with serving(handler) as url:
        code, output, elapsed, rss_mb = run_against(
            url,
            tmp_path,
            {
                **admin().suite_env(),
                # The proxied reference names itself as issuer and token endpoint: the user trusts it.
                "PHASE2_TRUST_TOKEN_ORIGIN": healthy_upstream,
            },
        )
    assert code == 1, output
    assert_ended_in_budget(elapsed, tmp_path / "report")
    assert rss_mb < MAX_RSS_MB, f"peak RSS {rss_mb:.0f} MB"
    assert "Traceback" not in output and CLIENT_SECRET not in output
    assert "Verdict: FAIL (exit 1)" in output
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert summary["verdict"] in ("fail", "error") and summary["exit_code"] == 1
    # The hang fails the world operations, the stalled routes are named, and what they kept from
    # running is listed as not verified.
    assert summary["requirements"]["P2-CON-008"]["status"] == "failed"
    assert any(error.startswith("/v2/worlds timed out") for error in summary["errors"]), summary["errors"]
    assert summary["requirements"]["P2-SEM-001"]["status"] == "skipped"
    # A stalled route costs a few time-outs, not the budget: the rest was tested, and passed.
    assert not any("time budget" in error for error in summary["errors"]), summary["errors"]
    for untouched in ("P2-HLT-001", "P2-HLT-002", "P2-AUTH-001", "P2-TEL-001"):
        assert summary["requirements"][untouched]["status"] == "passed", untouched
