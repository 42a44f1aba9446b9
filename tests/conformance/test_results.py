"""Results are data: severities from the catalog, the headline every reporter shows, counts."""

from __future__ import annotations

import dataclasses

import pytest

from conformance.contract import load_catalog
from conformance.results import Failure, RunResult, Severity, Status, Unverified, Verdict
from tests.conformance.reporting.builders import failing_run, passing_run


def test_severity_follows_the_level_and_the_class() -> None:
    catalog = load_catalog()
    for requirement in catalog:
        severity = Severity.of(requirement)
        if requirement.level.value == "SHOULD":
            assert severity is Severity.MINOR
        elif requirement.cls == "auth":
            assert severity is Severity.CRITICAL, requirement.id
        else:
            assert severity is Severity.MAJOR, requirement.id


def test_a_failure_s_fingerprint_ignores_where_and_when_it_was_seen() -> None:
    failure = Failure("P2-PRO-001", "title", "message", Severity.MAJOR, "check_x", "GET /worlds", test_id="a")
    again = dataclasses.replace(failure, message="other message", test_id="b", curl="curl ...")
    assert failure.fingerprint == again.fingerprint == ("P2-PRO-001", "GET /worlds", "check_x", "title")
    assert dataclasses.replace(failure, operation=None).fingerprint != failure.fingerprint


def test_counts_cover_every_status() -> None:
    result = failing_run()
    assert set(result.counts) == {status.value for status in Status}
    assert sum(result.counts.values()) == len(result.requirements)
    assert result.count(Status.FAILED) == sum(1 for r in result.requirements if r.status is Status.FAILED) > 0
    assert {failure.requirement_id for failure in result.failures()} >= {"P2-CON-003"}


def _with(result: RunResult, **changes: object) -> RunResult:
    return dataclasses.replace(result, **changes)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("verdict", "unverified", "require_all", "headline"),
    [
        (Verdict.PASS, (), False, "PASS"),
        (Verdict.PASS, (Unverified("P2-AUTH-003", "no test issuer"),), False,
         "PASS with 1 MUST unverified: P2-AUTH-003 (no test issuer)"),
        (Verdict.FAIL, (Unverified("P2-AUTH-003", "a"), Unverified("P2-HLT-003", "b")), True,
         "FAIL: 2 MUSTs unverified under --require-all: P2-AUTH-003 (a); P2-HLT-003 (b)"),
        (Verdict.FAIL, (Unverified("P2-AUTH-003", "a"),), False, "FAIL"),
        (Verdict.ERROR, (), False, "ERROR"),
    ],
)  # fmt: skip
def test_the_headline_never_says_pass_alone_while_a_must_went_unverified(
    verdict: Verdict, unverified: tuple[Unverified, ...], require_all: bool, headline: str
) -> None:
    result = _with(passing_run(), verdict=verdict, unverified=unverified, require_all=require_all)
    assert result.headline == headline


def test_an_interrupted_run_has_no_verdict_in_its_headline() -> None:
    result = _with(passing_run(), verdict=Verdict.INTERRUPTED, interrupted_by="SIGTERM")
    assert result.headline == "INTERRUPTED by SIGTERM: partial results, no verdict"
    assert _with(result, interrupted_by=None).headline.startswith("INTERRUPTED by a signal")
