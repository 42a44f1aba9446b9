"""The fault corpus: every deliberately broken variant of the reference is caught by the suite.

Each fault of `phase2_reference.faults` breaks exactly one requirement. The suite runs against the
reference started with that fault, selecting the fault's requirement, and must fail (exit 1) naming
that requirement. The clean reference passing the same selections is shown by the class tests and
by tests/test_reference_passes.py.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.contract import Level, load_catalog
from phase2_reference.faults import REGISTRY
from tests.conftest import SuiteRun

# Faults whose rule only shows under particular traffic: the extra arguments that produce it.
NEEDS: dict[str, tuple[str, ...]] = {
    # Stateful sequences (create → delete → get) are in the standard profile only.
    "not-deleted": (
        "--profile",
        "standard",
        "--operation",
        "createWorld",
        "--operation",
        "deleteWorld",
        "--operation",
        "getWorld",
        "--operation",
        "listWorlds",
    ),
    # A name outside ASCII comes from fuzzing the create operation for long enough.
    "server-error-on-unicode-name": ("--operation", "createWorld", "--max-examples", "60"),
    "reject-valid-labels": ("--operation", "createWorld", "--max-examples", "30"),
}


def arguments(name: str) -> tuple[str, ...]:
    fault = REGISTRY[name]
    requirement = load_catalog().get(fault.requirement)
    selection = ("--classes", requirement.cls, "--requirement", requirement.id)
    if requirement.level is Level.SHOULD:
        # A SHOULD failure fails the gate only when asked to; the corpus proves it is caught.
        selection += ("--fail-on", "should")
    return ("--reference", "--reference-fault", name, "--profile", "quick", *selection, *NEEDS.get(name, ()))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_suite_catches_the_fault(name: str, run_suite: Callable[..., SuiteRun]) -> None:
    requirement_id = REGISTRY[name].requirement
    run = run_suite(*arguments(name))
    assert run.exit_code == 1, f"{name}: exit {run.exit_code}\n{run.stdout[-3000:]}\n{run.stderr[-2000:]}"
    assert run.status(requirement_id) == "failed", (
        f"{name} should fail {requirement_id}; failed: {sorted(run.failed_requirements())}\n{run.stdout[-3000:]}"
    )
    failures = run.summary["requirements"][requirement_id]["failures"]
    assert failures and all(f["requirement_id"] == requirement_id for f in failures)


def test_every_requirement_class_has_faults() -> None:
    broken = {load_catalog().get(fault.requirement).cls for fault in REGISTRY.values()}
    assert broken == {"contract", "protocol", "semantic", "auth", "health", "telemetry"}
    assert len(REGISTRY) >= 30
