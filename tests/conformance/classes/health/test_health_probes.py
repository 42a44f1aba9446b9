"""The health class: its helpers, a clean reference run, and faults it must catch."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable

from conformance.classes.health.health_probes import cache_directives, p95
from tests.conformance.classes.conftest import PlainTarget
from tests.conftest import SuiteRun

HEALTH = ("P2-HLT-001", "P2-HLT-002", "P2-HLT-003", "P2-HLT-004", "P2-HLT-005", "P2-HLT-006")


def test_cache_directives_are_names_only() -> None:
    assert cache_directives("no-store") == {"no-store"}
    assert cache_directives("Private, max-age=300 , NO-STORE") == {"private", "max-age", "no-store"}
    assert "no-store" not in cache_directives("public, max-age=30")
    assert cache_directives("") == set()


def test_p95_is_the_nearest_rank() -> None:
    assert p95([5.0]) == 5.0
    assert p95([float(n) for n in range(1, 21)]) == 19.0  # rank ceil(0.95 * 20) = 19
    assert p95([1.0] * 19 + [300.0]) == 1.0
    assert p95([1.0] * 18 + [300.0, 300.0]) == 300.0


def test_the_reference_passes_the_health_class(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite("--reference", "--classes", "health", "--profile", "quick")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert {requirement: run.status(requirement) for requirement in HEALTH} == dict.fromkeys(HEALTH, "passed")


def test_a_broken_reference_fails_the_health_class(run_suite: Callable[..., SuiteRun]) -> None:
    # Two faults in one server, each breaking one rule: each rule fails, and nothing else does.
    run = run_suite(
        "--reference",
        *("--reference-fault", "readyz-always-ready", "--reference-fault", "health-no-head"),
        *("--classes", "health", "--profile", "quick"),
        *("--requirement", "P2-HLT-003", "--requirement", "P2-HLT-005", "--requirement", "P2-HLT-004"),
        *("--fail-on", "should"),  # P2-HLT-005 is a SHOULD: it fails the gate only when asked to
    )
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.failed_requirements() == {"P2-HLT-003", "P2-HLT-005"}
    assert run.status("P2-HLT-004") == "passed"


OUTAGE_RULES = ("P2-HLT-003", "P2-PRO-012")
OUTAGE_SELECTION = ("--classes", "health,protocol", "--profile", "quick", "--max-examples", "1")


def _store_command(available: bool) -> str:
    """A vendor's outage command: here it calls the reference's control endpoint (the target's URL
    comes in PHASE2_BASE_URL, the only setting the suite passes to it)."""
    code = (
        "import os, httpx; origin = os.environ['PHASE2_BASE_URL'].removesuffix('/v2'); "
        f"httpx.post(origin + '/_reference/store', json={{'available': {available}}}).raise_for_status()"
    )
    return shlex.join([sys.executable, "-c", code])


def _requirements(*requirement_ids: str) -> list[str]:
    return [argument for requirement_id in requirement_ids for argument in ("--requirement", requirement_id)]


def test_outage_rules_are_not_applicable_without_a_way_to_make_an_outage(
    run_suite: Callable[..., SuiteRun], plain_reference: PlainTarget
) -> None:
    run = run_suite(
        *("--base-url", plain_reference.base_url, *OUTAGE_SELECTION, *_requirements(*OUTAGE_RULES)),
        env=plain_reference.env,
    )
    for requirement in OUTAGE_RULES:
        result = run.summary["requirements"][requirement]
        assert result["status"] == "not-applicable", run.stdout
        assert "--outage-start CMD and --outage-end CMD" in result["reason"]


def test_outage_commands_verify_the_outage_rules_on_any_deployment(
    run_suite: Callable[..., SuiteRun], reference_with_controls: PlainTarget
) -> None:
    run = run_suite(
        *("--base-url", reference_with_controls.base_url, *OUTAGE_SELECTION, *_requirements(*OUTAGE_RULES)),
        *("--outage-start", _store_command(False), "--outage-end", _store_command(True)),
        env=reference_with_controls.env,
    )
    assert run.exit_code == 0, run.stdout + run.stderr
    assert {requirement: run.status(requirement) for requirement in OUTAGE_RULES} == dict.fromkeys(
        OUTAGE_RULES, "passed"
    )


def test_a_broken_outage_end_command_is_an_error_never_a_pass(
    run_suite: Callable[..., SuiteRun], reference_with_controls: PlainTarget
) -> None:
    broken_end = shlex.join([sys.executable, "-c", "import sys; sys.exit('cannot reach the database host')"])
    run = run_suite(
        *("--base-url", reference_with_controls.base_url, *OUTAGE_SELECTION, *_requirements("P2-HLT-003")),
        *("--outage-start", _store_command(False), "--outage-end", broken_end),
        env=reference_with_controls.env,
    )
    assert run.exit_code != 0, run.stdout
    assert run.summary["verdict"] == "error"
    result = run.summary["requirements"]["P2-HLT-003"]
    assert result["status"] != "passed"
    assert "--outage-end command exited with code 1" in result["reason"]
    assert "cannot reach the database host" in result["reason"]
    assert any("bringing the component back" in error for error in run.summary["errors"])
