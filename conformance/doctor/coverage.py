"""Which MUST requirements a full run would leave unverified, from what the doctor found.

A scenario check declares what it needs from the run (`needs` in `checks/registry.py`); a need the
deployment or the settings cannot meet leaves every requirement of that check unverified. Other
findings name the requirements they put at risk themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from conformance.checks import load_checks
from conformance.checks.registry import REGISTRY
from conformance.contract.catalog import Level, RequirementCatalog
from conformance.doctor.findings import Finding, failed, ok

FIX_OF_NEED = {
    "test-issuer": "see the test issuer line above",
    "otlp": "see the spans line above",
    "outage": "pass --outage-start CMD and --outage-end CMD (PHASE2_OUTAGE_START/_END): shell commands that "
    "take a component of the deployment away and bring it back",
    "other-tenant": "see the other-tenant client line above",
    "read-only": "see the read-only client line above",
}


def requirements_needing(need: str, check_modules: Iterable[str] = ()) -> tuple[str, ...]:
    """Every requirement verified only by checks that need `need`."""
    load_checks(tuple(check_modules))
    return tuple(sorted({rid for spec in REGISTRY.scenarios() if need in spec.needs for rid in spec.requirements}))


def capability(name: str, available: bool, detail: str, need: str) -> Finding:
    """A line for a need no other finding covers (a way to cause an outage)."""
    if available:
        return ok(name, detail)
    return failed(name, detail, FIX_OF_NEED[need], requirements_needing(need))


def unverified(findings: Sequence[Finding], catalog: RequirementCatalog, needs: Mapping[str, bool]) -> Finding:
    at_risk = {rid for finding in findings if not finding.ok for rid in finding.requirements}
    for need, available in needs.items():
        if not available:
            at_risk.update(requirements_needing(need))
    musts = [r.id for r in catalog if r.level is Level.MUST]
    blocked = [rid for rid in musts if rid in at_risk]
    if blocked:
        return failed(
            "coverage",
            f"a full run could not verify {len(blocked)} of {len(musts)} MUST requirements: {', '.join(blocked)}",
            "fix the ✗ lines above",
        )
    if any(not finding.ok for finding in findings):
        return failed(
            "coverage",
            f"all {len(musts)} MUST requirements can be reached, but the ✗ lines above would fail or throttle a run",
            "fix the ✗ lines above",
        )
    return ok("coverage", f"a full run can verify all {len(musts)} MUST requirements")
