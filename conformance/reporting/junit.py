"""`junit.xml`: one testcase per requirement × operation, for the test views of CI servers.

Layout (valid against Jenkins' `junit-10.xsd`, read by GitLab, GitHub actions and junitparser):

    <testsuites name="phase2-conformance">
      <testsuite name="phase2.<class>">              one per conformance class
        <properties>                                 seed, profile, contract sha, ...
        <testcase classname="phase2.<class>" name="<class>.<requirement>[<operation label>]" time>
          <failure message type>                     statement, messages, the curl reproduction
          <error message>                            a selected MUST the run could not verify: why
          <skipped message>                          skipped, not applicable, or waived (with the waiver)
      <testsuite name="phase2.run">                  errors not tied to one requirement

Names are stable from run to run whatever happened, so a CI server can follow each case's history:
`<class>.<requirement>[<operation label>]`, or `<class>.<requirement>` for a rule judged run-wide or
not judged at all; the reason never goes in the name. `time` is the time the run spent judging the
case (`RequirementResult.seconds`).

Every string comes from a target or a human: characters XML 1.0 cannot carry are escaped.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from pathlib import Path

from conformance.contract.catalog import CLASSES
from conformance.reporting import ReportContext, write_atomically
from conformance.reporting.causes import NOT_VERIFIED
from conformance.results import Failure, RequirementResult, RunResult, Status
from conformance.waivers import describe

FILENAME = "junit.xml"
RUN_WIDE = "(run)"
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def xml_text(value: object) -> str:
    """Text XML 1.0 can hold: illegal characters become visible escapes instead of breaking the file."""
    return _XML_ILLEGAL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(value))


def properties(result: RunResult) -> dict[str, str]:
    return {
        "run_id": result.run_id,
        "suite_version": result.suite_version,
        "target": result.target,
        "reference": str(result.reference).lower(),
        "profile": result.profile,
        "seed": str(result.seed),
        "feature_flags": ",".join(result.feature_flags),
        "classes": ",".join(result.classes),
        "fail_on": result.fail_on,
        "contract_sha256": result.contract_sha256,
        "catalog_version": str(result.catalog_version),
        "verdict": result.verdict.value,
        "headline": result.headline,
        "exit_code": str(result.exit_code),
        "started_at": result.started_at,
        "finished_at": result.finished_at,
    }


def _operation_statuses(result: RunResult) -> dict[tuple[str, str], Status]:
    return {
        (requirement_id, operation.label): status
        for operation in result.operations
        for requirement_id, status in operation.requirements.items()
    }


def cases_of(requirement: RequirementResult, statuses: dict[tuple[str, str], Status]) -> list[tuple[str, Status]]:
    """(operation label or "(run)", status) for each testcase of one requirement."""
    if requirement.status not in (Status.PASSED, Status.FAILED, Status.WAIVED):
        return [(RUN_WIDE, requirement.status)]
    failed_on = {f.operation or RUN_WIDE for f in requirement.failures}
    labels = sorted(set(requirement.operations) | failed_on)
    cases = []
    for label in labels or [RUN_WIDE]:
        if label not in failed_on:
            cases.append((label, Status.PASSED))
        elif requirement.status is Status.WAIVED:
            cases.append((label, Status.WAIVED))
        else:
            # A requirement can be waived on one operation and fail on another.
            cases.append((label, statuses.get((requirement.id, label), Status.FAILED)))
    return cases


def failure_text(requirement: RequirementResult, failures: list[Failure]) -> str:
    lines = [
        f"{requirement.id} ({requirement.requirement.level.value}): {requirement.requirement.statement}",
        "",
    ]
    for failure in failures:
        lines.append(f"- {failure.title} [{failure.severity.value}, check {failure.check}]")
        lines.append(f"  {failure.message}")
        if failure.exchange is not None and failure.exchange.status is not None:
            lines.append(f"  response: {failure.exchange.status} to {failure.exchange.method} {failure.exchange.url}")
        if failure.curl:
            lines.append(f"  reproduce: {failure.curl}")
        lines.append("")
    return "\n".join(lines)


def case_name(requirement: RequirementResult, label: str) -> str:
    """`<class>.<requirement>[<operation>]`, the same in every run whatever the outcome."""
    name = f"{requirement.requirement.cls}.{requirement.id}"
    return name if label == RUN_WIDE else f"{name}[{label}]"


def case_seconds(requirement: RequirementResult, label: str) -> float:
    return requirement.seconds.get("" if label == RUN_WIDE else label, 0.0)


def _testcase(
    parent: ET.Element, requirement: RequirementResult, label: str, status: Status, unverified: dict[str, str]
) -> ET.Element:
    case = ET.SubElement(
        parent,
        "testcase",
        classname=xml_text(f"phase2.{requirement.requirement.cls}"),
        name=xml_text(case_name(requirement, label)),
        # Microseconds: one scenario judging a hundred pairs in 50 ms gives each a sliver, not a 0.
        time=f"{case_seconds(requirement, label):.6f}",
    )
    if status is Status.FAILED:
        failures = [f for f in requirement.failures if (f.operation or RUN_WIDE) == label]
        first = failures[0]
        more = f" (+{len(failures) - 1} more)" if len(failures) > 1 else ""
        element = ET.SubElement(
            case,
            "failure",
            message=xml_text(first.title + more),
            type=f"{requirement.id} {first.severity.value}",
        )
        element.text = xml_text(failure_text(requirement, failures))
    elif status is Status.WAIVED:
        waiver = describe(requirement.waiver) if requirement.waiver else requirement.reason or "waived"
        failures = [f for f in requirement.failures if (f.operation or RUN_WIDE) == label]
        element = ET.SubElement(case, "skipped", message=xml_text(waiver))
        element.text = xml_text(failure_text(requirement, failures))
    elif requirement.id in unverified and status is Status.SKIPPED:
        # A selected MUST the run could not verify is not a skip a CI view may hide: it keeps the
        # run from a verdict, so it is an error, named by its ID, with the reason as the message.
        ET.SubElement(case, "error", message=xml_text(unverified[requirement.id]), type="not-verified")
    elif status in (Status.SKIPPED, Status.NOT_APPLICABLE):
        reason = requirement.reason or status.value
        prefix = "not applicable: " if status is Status.NOT_APPLICABLE else ""
        ET.SubElement(case, "skipped", message=xml_text(prefix + reason))
    return case


def _run_error_name(error: str) -> str:
    """A stable name for an error of the run: its subject (up to the first colon), not its detail."""
    subject = error.split(":", 1)[0].strip()
    return f"run.{' '.join(subject.split())[:120] or 'error'}"


def _count(suite: ET.Element) -> None:
    cases = suite.findall("testcase")
    suite.set("tests", str(len(cases)))
    suite.set("time", f"{sum(float(c.get('time', '0')) for c in cases):.6f}")
    suite.set("failures", str(sum(1 for c in cases if c.find("failure") is not None)))
    suite.set("errors", str(sum(1 for c in cases if c.find("error") is not None)))
    suite.set("skipped", str(sum(1 for c in cases if c.find("skipped") is not None)))


def _not_verified(result: RunResult) -> dict[str, str]:
    """Requirement → the reason of its `… was not verified: …` run error."""
    reasons: dict[str, str] = {}
    for error in result.errors:
        match = NOT_VERIFIED.match(error)
        if match is not None:
            reasons.setdefault(match.group("requirement"), match.group("reason"))
    return reasons


def junit_document(result: RunResult) -> ET.Element:
    root = ET.Element("testsuites", name="phase2-conformance", time=f"{max(result.duration_seconds, 0):.3f}")
    statuses = _operation_statuses(result)
    unverified = _not_verified(result)
    by_class: dict[str, list[RequirementResult]] = defaultdict(list)
    for requirement in result.requirements:
        by_class[requirement.requirement.cls].append(requirement)
    suites = []
    for cls in [c for c in CLASSES if c in by_class] + sorted(set(by_class) - set(CLASSES)):
        suite = ET.SubElement(root, "testsuite", name=f"phase2.{cls}", timestamp=result.started_at, id=cls)
        props = ET.SubElement(suite, "properties")
        for name, value in properties(result).items():
            ET.SubElement(props, "property", name=name, value=xml_text(value))
        for requirement in by_class[cls]:
            for label, status in cases_of(requirement, statuses):
                _testcase(suite, requirement, label, status, unverified)
        suites.append(suite)
    # An error about one requirement is its own testcase's error (above); the rest are the run's.
    run_errors = [e for e in result.errors if not NOT_VERIFIED.match(e)]
    if run_errors or result.stale_waivers:
        suite = ET.SubElement(root, "testsuite", name="phase2.run", timestamp=result.started_at, id="run")
        seen: Counter[str] = Counter()
        for error in run_errors:
            name = _run_error_name(error)
            seen[name] += 1
            if seen[name] > 1:
                name = f"{name} #{seen[name]}"
            case = ET.SubElement(suite, "testcase", classname="phase2.run", name=xml_text(name), time="0.000")
            ET.SubElement(case, "error", message=xml_text(error), type="run-error")
        if result.stale_waivers:
            out = ET.SubElement(suite, "system-out")
            out.text = xml_text(
                "\n".join(f"stale waiver ({s.reason}): {describe(s.waiver)}" for s in result.stale_waivers)
            )
        suites.append(suite)
    for suite in suites:
        _count(suite)
    for attribute in ("tests", "failures", "errors"):
        root.set(attribute, str(sum(int(s.get(attribute, "0")) for s in suites)))
    return root


class JUnitReporter:
    name = "junit"

    def write(self, result: RunResult, context: ReportContext) -> Path:
        root = junit_document(result)
        ET.indent(root)
        data = ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"
        return write_atomically(context.directory / FILENAME, data)
