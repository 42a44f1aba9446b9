"""The gate: statuses, waivers, stale waivers, `--fail-on` and the verdict.

Hand-built recorders for the rules, then real runs against a reference whose HEAD on the health
endpoints is broken (P2-HLT-005, a SHOULD) to see the policy end to end in every report format.
"""

from __future__ import annotations

import json
import signal
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.errors import ExitCode
from conformance.reporting.console import render_summary
from conformance.results import Status, Verdict
from tests.conformance.reporting.builders import Scenario, waiver
from tests.conftest import SuiteRun

# Two requirements judged, the rest not selected: the verdict hangs on these alone.
HEALTH_HEAD = (
    "--reference",
    "--profile",
    "quick",
    "--requirement",
    "P2-HLT-005",
    "--requirement",
    "P2-HLT-001",
    "--reference-fault",
    "health-no-head",
)


def status_of(scenario: Scenario, requirement_id: str) -> Status:
    result = scenario.build()
    return next(r.status for r in result.requirements if r.id == requirement_id)


def test_a_clean_run_passes() -> None:
    result = Scenario().build()
    assert (result.verdict, result.exit_code, result.errors) == (Verdict.PASS, 0, ())


def test_a_must_failure_fails_the_gate() -> None:
    result = Scenario(failures=[("P2-CON-003", "GET /worlds/{world_id}", "bad body")]).build()
    assert (result.verdict, result.exit_code) == (Verdict.FAIL, ExitCode.NONCONFORMANCE)


def test_should_failures_fail_the_gate_only_with_fail_on_should() -> None:
    failures = [("P2-SEM-014", "GET /runtimes", "filter ignored")]
    default = Scenario(failures=failures).build()
    assert default.verdict is Verdict.PASS
    assert default.exit_code == 0
    assert next(r for r in default.requirements if r.id == "P2-SEM-014").status is Status.FAILED  # still reported
    strict = Scenario(failures=failures, fail_on="should").build()
    assert (strict.verdict, strict.exit_code, strict.fail_on) == (Verdict.FAIL, 1, "should")


def test_a_waived_failure_is_reported_waived_not_hidden() -> None:
    result = Scenario(
        failures=[("P2-PRO-004", "GET /engine", "no request id")],
        waivers=(waiver("P2-PRO-004", "GET /engine"),),
    ).build()
    requirement = next(r for r in result.requirements if r.id == "P2-PRO-004")
    assert requirement.status is Status.WAIVED
    assert [f.title for f in requirement.failures] == ["no request id"]
    assert requirement.waiver == waiver("P2-PRO-004", "GET /engine")
    assert (
        requirement.reason
        == "waived on GET /engine until 2026-06-30 by platform-team: known proxy bug <b>fix</b> in 2.3"
    )
    engine = next(o for o in result.operations if o.label == "GET /engine")
    assert engine.status is Status.WAIVED
    assert engine.requirements["P2-PRO-004"] is Status.WAIVED
    assert (result.verdict, result.stale_waivers) == (Verdict.PASS, ())
    assert "WAIVED P2-PRO-004" in render_summary(result, "reports/x")


def test_each_failure_needs_its_own_cover() -> None:
    failures = [("P2-CON-003", "GET /worlds", "a"), ("P2-CON-003", "GET /engine", "b")]
    both = Scenario(
        failures=failures, waivers=(waiver("P2-CON-003", "GET /worlds"), waiver("P2-CON-003", "GET /engine"))
    )
    result = both.build()
    assert next(r for r in result.requirements if r.id == "P2-CON-003").status is Status.WAIVED
    assert result.stale_waivers == ()
    one = Scenario(failures=failures, waivers=(waiver("P2-CON-003", "GET /engine"),)).build()
    requirement = next(r for r in one.requirements if r.id == "P2-CON-003")
    assert requirement.status is Status.FAILED
    assert requirement.reason == "1 of 2 failures waived; the others are not"
    assert one.verdict is Verdict.FAIL
    assert one.stale_waivers == ()  # it did cover a failure
    statuses = {o.label: o.requirements.get("P2-CON-003") for o in one.operations}
    assert statuses["GET /engine"] is Status.WAIVED
    assert statuses["GET /worlds"] is Status.FAILED


def test_an_expired_waiver_fails_the_gate_whatever_the_level() -> None:
    expired = waiver("P2-SEM-014", expires="2026-01-14")  # the day before the run
    result = Scenario(failures=[("P2-SEM-014", "GET /runtimes", "filter ignored")], waivers=(expired,)).build()
    requirement = next(r for r in result.requirements if r.id == "P2-SEM-014")
    assert requirement.status is Status.FAILED
    assert requirement.reason == "waiver expired on 2026-01-14 (owner platform-team): known proxy bug <b>fix</b> in 2.3"
    assert (result.verdict, result.exit_code) == (Verdict.FAIL, 1)
    assert "waiver for P2-SEM-014 expired on 2026-01-14" in result.errors
    assert [(s.waiver, s.reason) for s in result.stale_waivers] == [(expired, "expired")]


def test_a_waiver_expiring_today_still_holds() -> None:
    today = waiver("P2-SEM-014", expires="2026-01-15")
    assert status_of(Scenario(failures=[("P2-SEM-014", None, "x")], waivers=(today,)), "P2-SEM-014") is Status.WAIVED


def test_an_expired_waiver_nothing_needs_is_stale_but_harmless() -> None:
    expired = waiver("P2-CON-001", expires="2025-12-31")
    result = Scenario(waivers=(expired,)).build()
    assert result.verdict is Verdict.PASS
    assert [(s.waiver, s.reason) for s in result.stale_waivers] == [(expired, "expired")]


def test_a_waiver_matching_nothing_is_stale() -> None:
    unused = waiver("P2-CON-001", "GET /worlds")
    wrong_operation = waiver("P2-PRO-004", "GET /worlds")
    result = Scenario(failures=[("P2-PRO-004", "GET /engine", "x")], waivers=(unused, wrong_operation)).build()
    assert [(s.waiver, s.reason) for s in result.stale_waivers] == [
        (unused, "matches nothing"),
        (wrong_operation, "matches nothing"),
    ]
    assert result.verdict is Verdict.FAIL  # the waiver on the wrong operation covers nothing


def test_a_waiver_for_a_requirement_the_run_did_not_judge_is_not_stale() -> None:
    result = Scenario(classes=("contract", "protocol"), waivers=(waiver("P2-AUTH-003"),)).build()
    assert result.stale_waivers == ()


NO_SPANS = "no span reached the receiver: start the target with OTEL_EXPORTER_OTLP_ENDPOINT=..."
NO_FLAG = "no feature flag is enabled (enable one with --flags to verify it)"
UNVERIFIED = {"P2-TEL-007": NO_SPANS, "P2-SEM-020": NO_FLAG}


def test_a_run_that_evaluated_no_requirement_is_an_error_never_a_pass() -> None:
    result = Scenario(pass_everything_else=False).build()
    assert (result.verdict, result.exit_code) == (Verdict.ERROR, ExitCode.NONCONFORMANCE)
    assert "no requirement was evaluated: nothing this run selected was verified" in result.errors


def test_a_pass_with_unverified_musts_names_each_in_every_headline(tmp_path: Path) -> None:
    from conformance.reporting import ReportContext, write_reports

    result = Scenario(not_applicable=UNVERIFIED).build()
    assert (result.verdict, result.exit_code) == (Verdict.PASS, 0)
    expected = f"PASS with 2 MUSTs unverified: P2-SEM-020 ({NO_FLAG}); P2-TEL-007 ({NO_SPANS})"
    assert result.headline == expected
    write_reports(result, context=ReportContext(tmp_path))
    console = render_summary(result, str(tmp_path))
    assert f"Verdict: {expected} (exit 0)" in console
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["headline"] == expected
    assert summary["unverified"] == [
        {"requirement_id": "P2-SEM-020", "reason": NO_FLAG},
        {"requirement_id": "P2-TEL-007", "reason": NO_SPANS},
    ]
    markdown = (tmp_path / "summary.md").read_text().splitlines()[0]
    assert "the target conforms" not in markdown and "P2-TEL-007" in markdown and "P2-SEM-020" in markdown
    html_headline = (tmp_path / "report.html").read_text()
    assert "PASS with 2 MUSTs unverified: P2-SEM-020" in html_headline
    junit = ET.parse(tmp_path / "junit.xml").getroot()
    headline = [p.get("value") for p in junit.iter("property") if p.get("name") == "headline"]
    assert headline and headline[0] == expected


def test_a_clean_pass_still_says_it_conforms(tmp_path: Path) -> None:
    from conformance.reporting.markdown import render_markdown

    result = Scenario().build()
    assert (result.headline, result.unverified) == ("PASS", ())
    assert render_markdown(result).splitlines()[0] == "## Phase 2 conformance: ✅ PASS — the target conforms"


def test_require_all_fails_the_gate_for_every_unverified_must() -> None:
    result = Scenario(not_applicable=UNVERIFIED, require_all=True).build()
    assert (result.verdict, result.exit_code) == (Verdict.FAIL, ExitCode.NONCONFORMANCE)
    assert result.headline == (
        f"FAIL: 2 MUSTs unverified under --require-all: P2-SEM-020 ({NO_FLAG}); P2-TEL-007 ({NO_SPANS})"
    )
    # A SHOULD that is not applicable is not a MUST: it does not fail a certification run.
    should = Scenario(not_applicable={"P2-SEM-014": "no filterable runtimes"}, require_all=True).build()
    assert (should.verdict, should.unverified) == (Verdict.PASS, ())


def test_require_all_fails_a_must_that_was_never_evaluated() -> None:
    unreached = "not evaluated: no check reached it in this run"
    plain = Scenario(unevaluated=("P2-SEM-001",)).build()
    assert (plain.verdict, plain.exit_code) == (Verdict.ERROR, ExitCode.NONCONFORMANCE)
    certification = Scenario(unevaluated=("P2-SEM-001",), require_all=True).build()
    assert (certification.verdict, certification.exit_code) == (Verdict.FAIL, ExitCode.NONCONFORMANCE)
    assert certification.headline == f"FAIL: 1 MUST unverified under --require-all: P2-SEM-001 ({unreached})"


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_an_interrupted_run_is_never_a_verdict(signum: int, code: int) -> None:
    result = Scenario(interrupted_by=signum).build()
    assert (result.verdict, result.exit_code) == (Verdict.INTERRUPTED, code)
    name = signal.Signals(signum).name
    assert result.headline == f"INTERRUPTED by {name}: partial results, no verdict"
    assert f"the run was interrupted by {name}" in result.errors


def write_waivers(path: Path, *entries: dict[str, str]) -> Path:
    lines = ["waivers:"]
    for entry in entries:
        lines.append(f"  - requirement: {entry['requirement']}")
        lines += [f"    {key}: {value}" for key, value in entry.items() if key != "requirement"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_real_run_should_failure_and_fail_on(run_suite: Callable[..., SuiteRun]) -> None:
    default = run_suite(*HEALTH_HEAD)
    assert default.exit_code == 0, default.stdout + default.stderr
    assert default.summary["verdict"] == "pass"
    assert default.status("P2-HLT-005") == "failed"
    strict = run_suite(*HEALTH_HEAD, "--fail-on", "should")
    assert strict.exit_code == 1
    assert strict.summary["verdict"] == "fail"
    assert strict.summary["fail_on"] == "should"


def test_real_run_waivers_in_every_format(tmp_path: Path, run_suite: Callable[..., SuiteRun]) -> None:
    waivers = write_waivers(
        tmp_path / "waivers.yaml",
        {
            "requirement": "P2-HLT-005",
            "operation": "headLiveness",
            "reason": "load balancer eats HEAD",
            "owner": "ops",
            "expires": "2999-12-31",
        },
        {
            "requirement": "P2-HLT-005",
            "operation": "HEAD /readyz",
            "reason": "load balancer eats HEAD",
            "owner": "ops",
            "expires": "2999-12-31",
        },
        {"requirement": "P2-HLT-001", "reason": "no longer needed", "owner": "ops", "expires": "2999-12-31"},
    )
    run = run_suite(*HEALTH_HEAD, "--fail-on", "should", "--waivers", str(waivers))
    assert run.exit_code == 0, run.stdout + run.stderr
    summary = run.summary
    assert summary["verdict"] == "pass"
    waived = summary["requirements"]["P2-HLT-005"]
    assert waived["status"] == "waived"
    assert waived["failures"]  # reported, not hidden
    assert waived["waiver"]["owner"] == "ops"
    assert [(s["requirement_id"], s["reason"]) for s in summary["stale_waivers"]] == [("P2-HLT-001", "matches nothing")]
    assert "WAIVED P2-HLT-005" in run.stdout
    assert "waiver for P2-HLT-001 is stale: matches nothing" in run.stdout
    report = run.report_dir
    junit = ET.parse(report / "junit.xml").getroot()
    skipped = [
        case.find("skipped")
        for case in junit.iter("testcase")
        if case.get("name") in ("health.P2-HLT-005[HEAD /healthz]", "health.P2-HLT-005[HEAD /readyz]")
    ]
    assert len(skipped) == 2
    assert all(s is not None and "load balancer eats HEAD" in (s.get("message") or "") for s in skipped)
    markdown = (report / "summary.md").read_text(encoding="utf-8")
    assert "### Waived (1)" in markdown
    assert "### Stale waivers (1)" in markdown
    html = (report / "report.html").read_text(encoding="utf-8")
    assert 'data-status="waived" data-class="health"' in html
    assert "load balancer eats HEAD" in html
    allure_results = [json.loads(p.read_text()) for p in (report / "allure-results").glob("*-result.json")]
    head = [r for r in allure_results if {"name": "requirement", "value": "P2-HLT-005"} in r["labels"]]
    assert {r["status"] for r in head} == {"skipped"} and len(head) == 2
    assert all(r["statusDetails"]["message"].startswith("waived ") for r in head)


def test_real_run_expired_waiver_fails_the_gate(tmp_path: Path, run_suite: Callable[..., SuiteRun]) -> None:
    waivers = write_waivers(
        tmp_path / "waivers.yaml",
        {"requirement": "P2-HLT-005", "reason": "was accepted", "owner": "ops", "expires": "2020-01-01"},
    )
    run = run_suite(*HEALTH_HEAD, "--waivers", str(waivers))
    assert run.exit_code == 1, run.stdout + run.stderr
    summary = run.summary
    assert summary["verdict"] == "fail"
    assert summary["requirements"]["P2-HLT-005"]["status"] == "failed"
    assert "waiver for P2-HLT-005 expired on 2020-01-01" in summary["errors"]
    assert [s["reason"] for s in summary["stale_waivers"]] == ["expired"]


def test_real_run_a_lower_case_requirement_is_evaluated_not_skipped(run_suite: Callable[..., SuiteRun]) -> None:
    # Before: every requirement skipped, and the run said PASS with exit 0.
    run = run_suite("--reference", "--profile", "quick", "--classes", "health", "--requirement", "p2-hlt-001")
    assert run.exit_code == 0, run.stdout + run.stderr
    assert run.status("P2-HLT-001") == "passed"
    assert run.summary["requirements"]["P2-HLT-001"]["evaluations"] > 0


def test_real_run_an_unverified_must_is_named_and_fails_require_all(run_suite: Callable[..., SuiteRun]) -> None:
    # Without a flag enabled, P2-SEM-020 cannot be verified against any deployment.
    selection = ("--reference", "--profile", "quick", "--classes", "semantic")
    selection += ("--requirement", "P2-SEM-019", "--requirement", "P2-SEM-020")
    reason = "no feature flag is enabled (enable one with --flags to verify it)"
    lenient = run_suite(*selection)
    assert (lenient.exit_code, lenient.summary["verdict"]) == (0, "pass"), lenient.stdout + lenient.stderr
    assert f"Verdict: PASS with 1 MUST unverified: P2-SEM-020 ({reason}) (exit 0)" in lenient.stdout
    certification = run_suite(*selection, "--require-all")
    assert (certification.exit_code, certification.summary["verdict"]) == (1, "fail")
    assert certification.summary["unverified"] == [{"requirement_id": "P2-SEM-020", "reason": reason}]
    assert f"Verdict: FAIL: 1 MUST unverified under --require-all: P2-SEM-020 ({reason}) (exit 1)" in (
        certification.stdout
    )
