"""The `smoke` profile: read-only by construction, proven by the server's own request counter.

A smoke run against a real reference must send no POST, PUT, PATCH or DELETE to the API (the one
POST allowed is the client-credentials grant at the provider's token endpoint), pass, and finish
under its cap; anything that would write is refused in one line with exit 2.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from benchmarks.clients import admin
from conformance.errors import ConfigError
from conformance.profiles import PROFILES
from conformance.settings import load_settings
from conformance.smoke import SMOKE_MAX_RATE, SMOKE_REQUIREMENTS, read_only_operations
from phase2_reference.config import Config
from phase2_reference.testing.launcher import serving
from tests.conftest import SuiteRun, _clean_env
from tests.hostile.servers import free_port

CLIENT = admin().suite_env()
WRITES = {"POST", "PUT", "PATCH", "DELETE"}
TOKEN_ROUTE = "/oauth2/token"
CAP = PROFILES["smoke"].time_budget


def requests_by_method_and_route(origin: str) -> Counter[tuple[str, str]]:
    """The reference's own counter of answered requests, read with the real Prometheus parser."""
    text = httpx.get(origin + "/v2/metrics", timeout=10).text
    counts: Counter[tuple[str, str]] = Counter()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "phase2_http_requests_total":
                counts[(sample.labels["method"], sample.labels["route"])] += int(sample.value)
    return counts


def test_a_smoke_run_sends_no_write(run_suite: Callable[..., SuiteRun]) -> None:
    otlp_port = free_port()  # spans go to the run's receiver, as from a deployment set up for it
    config = Config(data_dir=None, log_level="error", otlp_endpoint=f"http://127.0.0.1:{otlp_port}")
    with serving(config) as running:
        before = requests_by_method_and_route(running.origin)
        env = {"PHASE2_BASE_URL": running.base_url, **CLIENT}
        run = run_suite("--profile", "smoke", "--otlp-receiver-port", str(otlp_port), env=env, timeout=120)
        after = requests_by_method_and_route(running.origin)
    sent = after - before
    sent[("GET", "/metrics")] -= 1  # this test's own read of the counter
    writes = {key: count for key, count in sent.items() if key[0] in WRITES and key[1] != TOKEN_ROUTE}
    assert run.exit_code == 0, run.stdout[-3000:] + run.stderr
    assert writes == {}, f"the smoke profile wrote: {writes}"
    assert sum(sent.values()) > 20, sent  # it did test something: every read operation and the health routes
    assert {route for method, route in sent if method == "GET"} >= {"/healthz", "/readyz", "/metrics", "/worlds"}
    summary = run.summary
    assert summary["verdict"] == "pass" and summary["profile"] == "smoke"
    assert summary["duration_seconds"] < CAP
    passed = {rid for rid, r in summary["requirements"].items() if r["status"] == "passed"}
    assert passed <= SMOKE_REQUIREMENTS and {"P2-HLT-002", "P2-TEL-001", "P2-TEL-007", "P2-CON-003"} <= passed


def test_a_smoke_run_against_the_embedded_reference_passes_under_its_cap(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite("--profile", "smoke", "--reference", timeout=120)
    assert run.exit_code == 0, run.stdout[-3000:] + run.stderr
    summary = run.summary
    assert summary["verdict"] == "pass" and summary["duration_seconds"] < CAP
    assert summary["requirements"]["P2-SEM-001"]["status"] == "skipped"  # a write: not selected


@pytest.mark.parametrize(
    "arguments",
    [
        ("--classes", "semantic"),
        ("--classes", "health,auth"),
        ("--reference-fault", "ignore-if-match"),
        ("--operation", "createWorld"),
        ("--requirement", "P2-SEM-001"),
        ("--test-issuer-trusted",),
        ("--checks-module", "json"),
        ("--time-budget", str(CAP * 10)),
        ("--max-examples", "50"),
        ("--max-rate", "100"),
        ("--outage-start", "true", "--outage-end", "true"),
    ],
)
def test_anything_that_would_write_is_refused_in_one_line(arguments: tuple[str, ...], tmp_path: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "conformance", "run", "--profile", "smoke", "--reference", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
        env=_clean_env(None),
        cwd=tmp_path,
    )
    assert completed.returncode == 2, completed.stdout + completed.stderr
    lines = completed.stderr.splitlines()
    assert len(lines) == 1 and "the smoke profile is read-only and refuses" in lines[0], completed.stderr


@pytest.mark.parametrize(
    ("values", "config", "named"),
    [
        ({"reference_faults": "ignore-if-match"}, "", "--reference-fault (a deliberately broken reference)"),
        ({}, 'reference-faults = ["ignore-if-match"]', "config key 'reference-faults' in "),
        ({"test_issuer_trusted": True}, "", "--test-issuer-trusted (forged tokens)"),
    ],
)
def test_a_refused_setting_is_named_as_the_user_gave_it(
    values: dict[str, object], config: str, named: str, tmp_path: Path
) -> None:
    if config:
        (tmp_path / "run.toml").write_text(config, encoding="utf-8")
        values = {**values, "config": str(tmp_path / "run.toml")}
    with pytest.raises(ConfigError) as raised:
        load_settings({**values, "reference": True, "profile": "smoke"}, env={})
    assert f"read-only and refuses {named}" in str(raised.value)


def test_the_environment_selects_smoke_too() -> None:
    with pytest.raises(ConfigError, match="refuses class semantic"):
        load_settings({"reference": True, "classes": "semantic"}, env={"PHASE2_PROFILE": "smoke"})
    settings = load_settings({"reference": True}, env={"PHASE2_PROFILE": "smoke"})
    assert settings.operation_filter == read_only_operations()
    assert not settings.test_issuer_trusted and not settings.reference_controls
    assert "auth" not in settings.classes and "semantic" not in settings.classes
    assert settings.max_rate == SMOKE_MAX_RATE, "a probe of production is paced whatever the user gave"


def test_other_profiles_are_left_alone() -> None:
    settings = load_settings({"reference": True, "classes": "semantic", "profile": "quick"}, env={})
    assert settings.classes == frozenset({"semantic"}) and not settings.operation_filter
