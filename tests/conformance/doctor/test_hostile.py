"""The doctor against hostile targets: a verdict in bounded time, one fatal ✗ naming the step."""

from __future__ import annotations

import time

import pytest

from conformance.doctor import diagnose
from conformance.errors import ExitCode
from conformance.settings import load_settings
from tests.hostile.servers import (
    Handler,
    HostileServer,
    drips,
    healthy_but_no_auth_metadata,
    html_everywhere,
    never_answers,
    not_http,
)

CLIENT = {"PHASE2_CLIENT_ID": "ci", "PHASE2_CLIENT_SECRET": "test-only-secret-for-hostile-targets"}
TIMEOUT = 2.0  # --request-timeout: every wait of the doctor is bounded by it


@pytest.mark.parametrize(
    ("handler", "fatal"),
    [
        (never_answers, "base path"),
        (drips, "base path"),
        (not_http, "base path"),
        (html_everywhere, "base path"),
        (healthy_but_no_auth_metadata, "auth metadata"),
    ],
)
def test_a_hostile_target_is_unusable_in_bounded_time(handler: Handler, fatal: str) -> None:
    with HostileServer(handler) as server:
        settings = load_settings({"base_url": server.url + "/v2", "request_timeout": TIMEOUT}, env=CLIENT)
        lines: list[str] = []
        started = time.monotonic()
        code = diagnose(settings, out=lines.append)
        elapsed = time.monotonic() - started
    assert code == ExitCode.TARGET, lines
    crosses = [line for line in lines if line.startswith("✗")]
    assert len(crosses) == 1 and crosses[0].startswith(f"✗ {fatal}:"), lines
    assert "the rest is not checked" in lines[-1]
    # A handful of bounded requests (the base path and the root it suggests), never a hang.
    assert elapsed < 10 * TIMEOUT, elapsed
    assert CLIENT["PHASE2_CLIENT_SECRET"] not in "\n".join(lines)
