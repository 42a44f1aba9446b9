"""junit.xml: valid against Jenkins' junit-10.xsd, read by junitparser, a case per requirement × operation."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from conformance import results
from conformance.reporting import ReportContext
from conformance.reporting.junit import JUnitReporter, xml_text
from conformance.results import RunResult
from tests.conformance.reporting.builders import Scenario, waiver
from tests.conftest import SuiteRun

junitparser = pytest.importorskip("junitparser", reason="junitparser is a test dependency (tox installs it)")
xmlschema = pytest.importorskip("xmlschema", reason="xmlschema is a test dependency (tox installs it)")

XSD = Path(__file__).parent / "data" / "junit-10.xsd"


def write(result: RunResult, directory: Path) -> Path:
    return JUnitReporter().write(result, ReportContext(directory))


def cases(path: Path) -> dict[str, ET.Element]:
    root = ET.parse(path).getroot()
    named = {c.get("name", ""): c for c in root.iter("testcase")}
    assert len(named) == len(list(root.iter("testcase"))), "every testcase name is unique"
    return named


def test_validates_against_the_jenkins_schema(tmp_path: Path, failing_result: RunResult) -> None:
    path = write(failing_result, tmp_path)
    xmlschema.XMLSchema(str(XSD)).validate(str(path))


def test_junitparser_reads_counts_properties_and_failures(tmp_path: Path, failing_result: RunResult) -> None:
    xml = junitparser.JUnitXml.fromfile(str(write(failing_result, tmp_path)))
    suites = {suite.name: suite for suite in xml}
    assert set(suites) >= {"phase2.contract", "phase2.protocol", "phase2.semantic", "phase2.telemetry"}
    contract = suites["phase2.contract"]
    properties = {p.name: p.value for p in contract.properties()}
    assert properties["seed"] == str(failing_result.seed)
    assert properties["profile"] == "quick"
    assert properties["contract_sha256"] == failing_result.contract_sha256
    assert properties["verdict"] == "fail"
    failed = [case for suite in xml for case in suite if not case.is_passed and not case.is_skipped]
    assert {(c.classname, c.name) for c in failed} == {
        ("phase2.contract", "contract.P2-CON-003[GET /worlds/{world_id}]"),
        ("phase2.semantic", "semantic.P2-SEM-014[GET /worlds]"),
    }
    assert sum(s.failures for s in xml) == 2


def test_failure_carries_message_statement_and_masked_curl(tmp_path: Path, failing_result: RunResult) -> None:
    case = cases(write(failing_result, tmp_path))["contract.P2-CON-003[GET /worlds/{world_id}]"]
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "Response violates schema <World>"
    assert failure.get("type") == "P2-CON-003 major"
    text = failure.text or ""
    assert "Every response body validates against the schema the contract declares for it." in text
    assert 'reproduce: curl -sS -X GET -H "Authorization: Bearer $PHASE2_TOKEN"' in text
    assert "eyJ" not in text
    # The hostile body survives as text: escaped markup, control characters made visible.
    assert "</script><script>" in text
    assert "\\x1b[31m" in text
    assert "\\x00" in text


def test_waived_skipped_and_not_applicable_are_skipped_with_a_reason(tmp_path: Path, failing_result: RunResult) -> None:
    by_key = cases(write(failing_result, tmp_path))
    waived = by_key["protocol.P2-PRO-004[GET /engine]"].find("skipped")
    assert waived is not None
    assert waived.get("message") == (
        "waived on GET /engine until 2026-06-30 by platform-team: known proxy bug <b>fix</b> in 2.3"
    )
    assert "X-Request-ID missing" in (waived.text or "")  # the waived failure itself is not hidden
    not_applicable = by_key["telemetry.P2-TEL-002"].find("skipped")
    assert not_applicable is not None
    assert (
        not_applicable.get("message") == "not applicable: the target exports no traces (OTLP endpoint not configured)"
    )


def test_one_testcase_per_requirement_and_operation(tmp_path: Path) -> None:
    result = Scenario(
        failures=[("P2-CON-003", "GET /worlds", "bad list"), ("P2-CON-003", "GET /engine", "bad engine")],
        waivers=(waiver("P2-CON-003", "GET /engine"),),
    ).build()
    by_key = cases(write(result, tmp_path))
    names = sorted(name for name in by_key if name.startswith("contract.P2-CON-003"))
    assert names == ["contract.P2-CON-003[GET /engine]", "contract.P2-CON-003[GET /worlds]"]
    assert by_key["contract.P2-CON-003[GET /worlds]"].find("failure") is not None
    # Waived on one operation, failed on the other.
    assert by_key["contract.P2-CON-003[GET /engine]"].find("skipped") is not None


def test_unselected_requirements_are_skipped_run_wide(tmp_path: Path) -> None:
    result = Scenario(classes=("contract",)).build()
    case = cases(write(result, tmp_path))["auth.P2-AUTH-001"]
    skipped = case.find("skipped")
    assert skipped is not None
    assert skipped.get("message") == "class auth not selected"


def test_run_errors_and_stale_waivers_are_reported(tmp_path: Path) -> None:
    result = Scenario(pass_everything_else=False, waivers=(waiver("P2-CON-001", expires="2025-12-31"),)).build()
    path = write(result, tmp_path)
    xmlschema.XMLSchema(str(XSD)).validate(str(path))
    root = ET.parse(path).getroot()
    run_suite = next(s for s in root.iter("testsuite") if s.get("name") == "phase2.run")
    # The run's own error here; each unverified requirement's on its own testcase.
    assert int(root.get("errors", "0")) == len(result.errors) > 1
    assert int(run_suite.get("errors", "0")) == 1
    names = [case.get("name") for case in run_suite.iter("testcase")]
    assert names == ["run.no requirement was evaluated"], "named by subject, not by the whole sentence"
    assert "stale waiver (expired)" in (run_suite.findtext("system-out") or "")


def test_xml_text_escapes_what_xml_cannot_hold() -> None:
    assert xml_text("a\x00b\x1bc\ufffe") == "a\\x00b\\x1bc\\xfffe"
    assert xml_text("tab\tnewline\n") == "tab\tnewline\n"


@pytest.mark.parametrize("fixture", ["reference_run", "broken_reference_run"])
def test_real_runs_validate_and_parse(fixture: str, request: pytest.FixtureRequest) -> None:
    run: SuiteRun = request.getfixturevalue(fixture)
    path = run.report_dir / "junit.xml"
    xmlschema.XMLSchema(str(XSD)).validate(str(path))
    xml = junitparser.JUnitXml.fromfile(str(path))
    total = sum(suite.tests for suite in xml)
    assert total >= len(run.summary["requirements"])
    failed = {
        case.name.split(".", 1)[1].split("[", 1)[0]
        for suite in xml
        for case in suite
        if case.result and any(isinstance(r, junitparser.Failure) for r in case.result)
    }
    assert failed == run.failed_requirements()


CASE_NAME = re.compile(r"^(contract|protocol|semantic|auth|health|telemetry)\.P2-[A-Z]+-\d{3}(\[[A-Z]+ /[^\]]*\])?$")


def test_every_outcome_has_a_stable_name_and_unverified_musts_are_errors(tmp_path: Path) -> None:
    result = Scenario(
        failures=[("P2-CON-003", "GET /worlds", "bad list")],
        waivers=(waiver("P2-PRO-004", "GET /engine"),),
        not_applicable={"P2-TEL-002": "no traces"},
        unevaluated=("P2-SEM-003",),
        classes=("contract", "protocol", "semantic", "telemetry"),
    ).build()
    assert any(e.startswith("P2-SEM-003 (MUST) was not verified") for e in result.errors)
    by_name = cases(write(result, tmp_path))
    outcomes = {"passed": 0, "failure": 0, "error": 0, "skipped": 0}
    for name, case in by_name.items():
        assert CASE_NAME.match(name), name
        kind = next((child.tag for child in case if child.tag in outcomes), "passed")
        outcomes[kind] += 1
    assert all(outcomes.values()), outcomes  # every outcome is there, and named the same way
    unverified = by_name["semantic.P2-SEM-003"].find("error")
    assert unverified is not None
    assert unverified.get("message") == "not evaluated: no check reached it in this run"
    assert not [
        c
        for c in ET.parse(tmp_path / "junit.xml").getroot().iter("testcase")
        if "was not verified" in c.get("name", "")
    ]


def test_times_are_the_items_durations_shared_among_what_they_judged(tmp_path: Path) -> None:
    item = "test_contract.py::test_contract"
    result = Scenario(
        failures=[
            ("P2-CON-003", "GET /worlds", "a"),
            ("P2-CON-003", "GET /engine", "b"),
            ("P2-SEM-014", "GET /worlds", "c"),
        ],
        tests=(results.TestOutcome(item, "test_contract", "failed", 6.0),),
    ).build()
    by_name = cases(write(result, tmp_path))
    times = {name: float(case.get("time", "0")) for name, case in by_name.items()}
    assert times["contract.P2-CON-003[GET /worlds]"] == pytest.approx(2.0)
    assert times["contract.P2-CON-003[GET /engine]"] == pytest.approx(2.0)
    assert times["semantic.P2-SEM-014[GET /worlds]"] == pytest.approx(2.0)
    assert sum(times.values()) == pytest.approx(6.0)
    root = ET.parse(tmp_path / "junit.xml").getroot()
    suite = next(s for s in root.iter("testsuite") if s.get("name") == "phase2.contract")
    assert float(suite.get("time", "0")) == pytest.approx(4.0)


def test_a_real_run_has_real_times(reference_run: SuiteRun) -> None:
    root = ET.parse(reference_run.report_dir / "junit.xml").getroot()
    judged = [c for c in root.iter("testcase") if c.find("skipped") is None and c.find("error") is None]
    timed = [c for c in judged if float(c.get("time", "0")) > 0]
    assert len(timed) >= 0.9 * len(judged), f"{len(timed)} of {len(judged)} judged cases have a time"
    total = sum(float(c.get("time", "0")) for c in root.iter("testcase"))
    items = sum(t["duration"] for t in reference_run.summary["tests"])
    assert total == pytest.approx(items, rel=0.05, abs=0.05), "the items' time is shared, not multiplied"
