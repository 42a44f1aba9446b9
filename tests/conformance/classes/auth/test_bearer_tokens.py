"""The auth class as a whole: a clean reference run, faults it must catch, and issuer rules left not
applicable (never passed) when the target does not trust the issuer."""

from __future__ import annotations

import re
from collections.abc import Callable

from tests.conformance.classes.conftest import PlainTarget
from tests.conftest import SuiteRun

AUTH = tuple(f"P2-AUTH-{number:03d}" for number in range(1, 23))
ISSUER_RULES = tuple(f"P2-AUTH-{number:03d}" for number in range(3, 11))
OTHER_CLIENT_RULES = ("P2-AUTH-019", "P2-AUTH-020", "P2-AUTH-021", "P2-AUTH-022")


def test_the_reference_passes_the_auth_class(run_suite: Callable[..., SuiteRun]) -> None:
    run = run_suite("--reference", "--classes", "auth", "--profile", "quick")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert {requirement: run.status(requirement) for requirement in AUTH} == dict.fromkeys(AUTH, "passed")


def test_a_broken_reference_fails_the_auth_class(run_suite: Callable[..., SuiteRun]) -> None:
    # Three faults in one server, each breaking one rule: each rule fails, and nothing else does.
    # Without WWW-Authenticate, a refusal still says invalid_token in its problem: P2-AUTH-002 holds.
    faults = ("no-www-authenticate", "alg-confusion", "tenant-leak-write")
    broken = {"P2-AUTH-001", "P2-AUTH-008", "P2-AUTH-020"}
    run = run_suite(
        "--reference",
        *(argument for fault in faults for argument in ("--reference-fault", fault)),
        *("--classes", "auth", "--profile", "quick"),
        *(argument for requirement in sorted(broken) for argument in ("--requirement", requirement)),
        *("--requirement", "P2-AUTH-002", "--requirement", "P2-AUTH-009", "--requirement", "P2-AUTH-019"),
    )
    assert run.exit_code == 1, run.stdout + run.stderr
    assert run.failed_requirements() == broken
    for requirement in ("P2-AUTH-002", "P2-AUTH-009", "P2-AUTH-019"):
        assert run.status(requirement) == "passed"
    # No token, secret or Authorization header reaches the report.
    report = (run.report_dir / "summary.json").read_text()
    assert "test-only-secret" not in report
    assert not re.search(r"eyJ[A-Za-z0-9_-]{10,}\.", report)


def test_rules_a_plain_deployment_cannot_support_are_not_applicable(
    run_suite: Callable[..., SuiteRun], plain_reference: PlainTarget
) -> None:
    # Started without --trust-issuer, and run with the primary client only.
    run = run_suite(
        *("--base-url", plain_reference.base_url, "--test-issuer-trusted"),
        *("--classes", "auth", "--profile", "quick"),
        *(
            argument
            for requirement in ("P2-AUTH-001", *ISSUER_RULES, *OTHER_CLIENT_RULES)
            for argument in ("--requirement", requirement)
        ),
        env=plain_reference.env,
    )
    assert run.exit_code == 0, run.stdout + run.stderr
    requirements = run.summary["requirements"]
    assert requirements["P2-AUTH-001"]["status"] == "passed"  # a run that verified nothing is an error
    # Never "the target conforms": every MUST left unverified is named, with its reason.
    unverified = {u["requirement_id"] for u in run.summary["unverified"]}
    musts = {r for r in (*ISSUER_RULES, *OTHER_CLIENT_RULES) if requirements[r]["level"] == "MUST"}
    assert unverified == musts
    assert run.summary["headline"].startswith(f"PASS with {len(musts)} MUSTs unverified: ")
    for requirement in ISSUER_RULES:
        assert requirements[requirement]["status"] == "not-applicable"
        assert "refused a valid token of the suite's test issuer" in requirements[requirement]["reason"]
    for requirement in OTHER_CLIENT_RULES:
        assert requirements[requirement]["status"] == "not-applicable"
        assert "client" in requirements[requirement]["reason"]
