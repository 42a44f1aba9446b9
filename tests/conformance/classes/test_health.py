"""The health class: its helpers, a clean reference run, and faults it must catch."""

from __future__ import annotations

from collections.abc import Callable

from conformance.classes.health import cache_directives, p95
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
