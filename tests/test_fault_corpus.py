"""The fault corpus: every deliberately broken variant of the reference is caught by the suite.

Each fault of `phase2_reference.testing.faults` breaks exactly one requirement. The suite runs against the
reference started with that fault, selecting the fault's requirement, and must fail (exit 1) naming
that requirement. The clean reference passing the same selections is shown by the class tests
(`tests/conformance/classes/`) and by the full profile runs of `tests/proof/test_seeds.py`.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.contract import Level, load_catalog
from phase2_reference.testing.faults import REGISTRY
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
    # Boundary values (tick rate 0 and 241) come from the coverage phase of the standard profile.
    "clamp-tick-rate": ("--profile", "standard", "--operation", "createWorld"),
    # The stream's 429 shows only when the reference limits the run: one request a second.
    "stream-429-empty-body": ("--reference-option=--rate-limit=1", "--operation", "streamEvents"),
    # The preview must be missing while its flag is on.
    "flagged-operation-missing": ("--flags", "world-preview"),
}
# Rules no fault can break alone, and the fault that breaks them along with its own rule.
ALSO_BROKEN: dict[str, tuple[str, ...]] = {
    # A deployment that accepts an update without If-Match breaks both the 428 rule and the 4xx rule;
    # one that refuses with another 4xx breaks only the 428 rule, so the 4xx rule never fails alone.
    "if-match-optional": ("P2-CON-007",),
}


def arguments(name: str) -> tuple[str, ...]:
    fault = REGISTRY[name]
    catalog = load_catalog()
    requirement = catalog.get(fault.requirement)
    also = [catalog.get(rid) for rid in ALSO_BROKEN.get(name, ())]
    classes = ",".join(sorted({requirement.cls, *(r.cls for r in also)}))
    selection: tuple[str, ...] = ("--classes", classes, "--requirement", requirement.id)
    for other in also:
        selection += ("--requirement", other.id)
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
    for other in ALSO_BROKEN.get(name, ()):
        assert run.status(other) == "failed", f"{name} should also fail {other}"


def test_every_requirement_is_broken_by_some_fault() -> None:
    broken = {fault.requirement for fault in REGISTRY.values()} | {
        rid for others in ALSO_BROKEN.values() for rid in others
    }
    assert {r.id for r in load_catalog()} == broken


def test_every_requirement_class_has_faults() -> None:
    broken = {load_catalog().get(fault.requirement).cls for fault in REGISTRY.values()}
    assert broken == {"contract", "protocol", "semantic", "auth", "health", "telemetry"}
    assert len(REGISTRY) >= 30
