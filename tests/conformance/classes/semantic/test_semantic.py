"""The semantic class: a clean reference passes it, and faults that break its rules are caught.

Faults that do not disturb each other's scenarios share one server, to keep the runs few.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest

from conformance.checks import load_checks
from conformance.checks.registry import REGISTRY
from conformance.contract import load_catalog
from tests.conftest import SuiteRun

SEMANTIC = tuple(requirement.id for requirement in load_catalog() if requirement.cls == "semantic")
SEMANTIC_PACKAGE = "conformance.classes.semantic."
# The contract exerciser may run beside the class; one example per operation keeps it short.
QUICK = ("--reference", "--profile", "quick", "--max-examples", "1", "--classes", "semantic")
FLAGS = ("--flags", "world-preview")  # engine-v2 stays off


def _requirements(*requirement_ids: str) -> list[str]:
    return [argument for requirement_id in requirement_ids for argument in ("--requirement", requirement_id)]


def _faults(*names: str) -> list[str]:
    return [argument for name in names for argument in ("--reference-fault", name)]


def test_every_semantic_requirement_has_a_scenario_check() -> None:
    load_checks()
    covered = {
        requirement_id
        for spec in REGISTRY.scenarios()
        if spec.func.__module__.startswith(SEMANTIC_PACKAGE)
        for requirement_id in spec.verifies
    }
    assert covered == set(SEMANTIC)


def test_the_reference_passes_the_semantic_class(run_suite: Callable[..., SuiteRun]) -> None:
    # One flag on and one off, so both flag rules have an operation to judge.
    run = run_suite(*QUICK, *FLAGS, "--fail-on", "should")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert {requirement_id: run.status(requirement_id) for requirement_id in SEMANTIC} == dict.fromkeys(
        SEMANTIC, "passed"
    )


@pytest.mark.parametrize(
    ("faults", "broken"),
    [
        pytest.param(
            ("ignore-if-match", "delete-running-runtime", "sse-ignores-last-event-id", "single-plugin"),
            ("P2-SEM-004", "P2-SEM-013", "P2-SEM-018", "P2-SEM-022"),
            id="state-runtimes-stream-engine",
        ),
        pytest.param(
            # A timestamp without a zone breaks the schema of the operation whose flag is on. Items
            # the repeating cursor shows twice only add to these failures; they block none of them.
            (
                "duplicate-events",
                "event-filter-ignored",
                "flag-always-on",
                "naive-timestamps",
                "pagination-repeats",
            ),
            ("P2-SEM-009", "P2-SEM-015", "P2-SEM-016", "P2-SEM-019", "P2-SEM-020"),
            id="events-pagination-flags",
        ),
    ],
)
def test_a_broken_reference_fails_the_semantic_class(
    run_suite: Callable[..., SuiteRun], faults: tuple[str, ...], broken: tuple[str, ...]
) -> None:
    run = run_suite(*QUICK, *FLAGS, *_faults(*faults), *_requirements(*broken))
    assert run.exit_code == 1, run.stdout + run.stderr
    assert {requirement_id: run.status(requirement_id) for requirement_id in broken} == dict.fromkeys(broken, "failed")


RUNTIME_PATHS = ("P2-SEM-010", "P2-SEM-011", "P2-SEM-012", "P2-SEM-015")


def test_a_runtime_failing_straight_from_pending_conforms(run_suite: Callable[..., SuiteRun]) -> None:
    # The contract: a runtime goes pending → starting → running, "or ends in failed"; failing before
    # it ever starts is one of the paths it allows, so a deployment doing so passes.
    run = run_suite(*QUICK, "--reference-option=--fail-from-pending", *_requirements(*RUNTIME_PATHS))
    assert run.exit_code == 0, run.stdout + run.stderr
    assert {rid: run.status(rid) for rid in RUNTIME_PATHS} == dict.fromkeys(RUNTIME_PATHS, "passed")


def test_a_change_the_lifecycle_does_not_allow_still_fails(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite(*QUICK, *_faults("failed-after-running"), *_requirements("P2-SEM-015"))
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.status("P2-SEM-015") == "failed"
    assert "from running to failed" in json.dumps(run.summary["requirements"]["P2-SEM-015"])
