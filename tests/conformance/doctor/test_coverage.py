"""Which MUSTs a full run would leave unverified, from the doctor's findings and the run's needs."""

from __future__ import annotations

from conformance.contract import load_catalog
from conformance.contract.catalog import Level
from conformance.doctor.coverage import FIX_OF_NEED, capability, requirements_needing, unverified
from conformance.doctor.findings import failed, ok

MUSTS = [requirement.id for requirement in load_catalog() if requirement.level is Level.MUST]


def test_the_forged_token_rules_need_the_test_issuer() -> None:
    needing = requirements_needing("test-issuer")
    assert {f"P2-AUTH-{n:03d}" for n in range(3, 11)} <= set(needing)
    assert all(rid.startswith("P2-AUTH-") for rid in needing)
    assert "P2-PRO-012" in requirements_needing("outage")  # fed by an outage, judged by a response check


def test_every_need_has_a_fix_to_name() -> None:
    from conformance.checks.registry import NEEDS

    assert set(FIX_OF_NEED) == NEEDS - {"controls"}


def test_a_full_run_can_verify_everything_when_nothing_is_missing() -> None:
    finding = unverified([ok("network", "reached")], load_catalog(), {"outage": True})
    assert finding.ok and finding.detail == f"a full run can verify all {len(MUSTS)} MUST requirements"


def test_a_missing_need_names_each_must_left_unverified() -> None:
    finding = unverified([ok("network", "reached")], load_catalog(), {"test-issuer": False})
    assert not finding.ok
    blocked = [rid for rid in MUSTS if rid in requirements_needing("test-issuer")]
    assert finding.detail.startswith(f"a full run could not verify {len(blocked)} of {len(MUSTS)} MUST")
    assert finding.detail.endswith(", ".join(blocked))


def test_a_failed_finding_puts_its_own_requirements_at_risk() -> None:
    findings = [failed("metrics", "404 at /metrics", "serve /metrics", ["P2-TEL-001"])]
    finding = unverified(findings, load_catalog(), {})
    assert not finding.ok and "P2-TEL-001" in finding.detail


def test_a_failed_finding_without_requirements_still_fails_coverage() -> None:
    finding = unverified([failed("rate limits", "429 at 5/s", "raise the limit")], load_catalog(), {})
    assert not finding.ok and "would fail or throttle a run" in finding.detail


def test_a_capability_line_names_what_its_absence_costs() -> None:
    assert capability("outage", True, "commands given", "outage").ok
    missing = capability("outage", False, "no outage commands", "outage")
    assert not missing.ok and missing.fix == FIX_OF_NEED["outage"]
    assert missing.requirements == requirements_needing("outage") and missing.requirements
