"""Allure: results written from the `RunResult`, for both faces, with allure-python-commons.

Three parts:

- **the results**: `AllureReporter` writes into `<report-dir>/allure-results/` one Allure test
  result per requirement × operation (the same cases as junit.xml) and one per run error, with
  allure-python-commons' own model (`allure_commons.model2`) and writer (`AllureFileLogger`), plus
  `environment.properties`, `categories.json` and the Allure history kept in
  `<history-dir>/allure-history`;
- **as Allure's users expect**: the Behaviors tab is epic = conformance class, feature =
  requirement, story = operation; a failure sits under the requirement it broke (whichever item
  saw it); failed steps are red, with the request, the response and the curl command attached
  (and a scenario's own steps when the failure carries them); parameters are plain text;
- **afterwards**, `python -m conformance.reporting.allure REPORT_DIR --history-dir DIR` builds the
  HTML site with Allure's command line (the tox environment `allure`) and saves the new history.

Severity, on report.html's scale (`results.Severity`): critical (an auth MUST) is Allure's
`critical`, major (any other MUST) Allure's middle rank `normal` (Allure has no "major"), minor
(a SHOULD) `minor`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import (
    Attachment,
    Label,
    Link,
    Parameter,
    StatusDetails,
    TestResult,
    TestStepResult,
)

from conformance import local_files
from conformance.contract.files import catalog_path
from conformance.reporting import ReportContext, write_atomically
from conformance.reporting.history import ALLURE_HISTORY
from conformance.reporting.junit import RUN_WIDE, cases_of, failure_text
from conformance.results import Failure, RecordedExchange, RequirementResult, RunResult, Severity, Status
from conformance.waivers import describe

RESULTS_DIR = "allure-results"
# Allure's own history folder holds a handful of small JSON files (trends, retries).
MAX_HISTORY_FILES = 1000
MAX_HISTORY_FILE_BYTES = 64 * 1024 * 1024
UNSELECTED = ("class ", "requirement not selected", "none of its operations")  # `outcome._unselected_reason`
SITE_DIR = "allure-report"
ALLURE_SEVERITY = {Severity.CRITICAL: "critical", Severity.MAJOR: "normal", Severity.MINOR: "minor"}
ALLURE_STATUS = {
    Status.PASSED: "passed",
    Status.FAILED: "failed",
    Status.WAIVED: "skipped",
    Status.SKIPPED: "skipped",
    Status.NOT_APPLICABLE: "skipped",
}

CATEGORIES = [
    {
        "name": "Waived nonconformance",
        "description": "Failures a waiver covers: reported, but they do not fail the gate until it expires.",
        "matchedStatuses": ["skipped"],
        "messageRegex": "(?s).*waived.*",
    },
    {
        "name": "Not applicable",
        "matchedStatuses": ["skipped"],
        "messageRegex": "(?s).*not applicable.*",
    },
    {
        "name": "Skipped: time budget exhausted",
        "matchedStatuses": ["skipped"],
        "messageRegex": "(?s).*time budget.*",
    },
    {
        "name": "Nonconformance: the target broke a requirement",
        "matchedStatuses": ["failed"],
        "messageRegex": "(?s).*nonconformance.*",
    },
    {
        "name": "Suite or target errors",
        "description": "The suite could not judge: a crash, a lost target, an unusable token.",
        "matchedStatuses": ["broken"],
    },
]


def catalog_link(requirement_id: str) -> str:
    return f"{catalog_path().resolve().as_uri()}#{requirement_id}"


def _exchange_texts(exchange: RecordedExchange) -> tuple[str, str]:
    request = "\n".join(
        [f"{exchange.method} {exchange.url}", *(f"{k}: {v}" for k, v in exchange.request_headers.items())]
    )
    if exchange.request_body:
        request += "\n\n" + exchange.request_body
    status = exchange.status if exchange.status is not None else "(no response)"
    response = "\n".join([str(status), *(f"{k}: {v}" for k, v in exchange.response_headers.items())])
    if exchange.response_body:
        response += "\n\n" + exchange.response_body
    return request, response


def failure_attachments(failure: Failure) -> list[tuple[str, str]]:
    """(name, text) of what a reader needs to see and replay one failure."""
    attachments = [("failure", f"{failure.requirement_id} {failure.title}\n\n{failure.message}")]
    if failure.exchange is not None:
        request, response = _exchange_texts(failure.exchange)
        attachments += [("request", request), ("response", response)]
    if failure.curl:
        attachments.append(("curl", failure.curl))
    return attachments


def properties_line(key: str, value: str) -> str:
    """One line of a Java properties file (ISO-8859-1 with escapes), as Allure reads it."""

    def escape(text: str, is_key: bool) -> str:
        out = []
        for index, char in enumerate(text):
            if char in "\\=:#!" or (char == " " and (is_key or index == 0)):
                out.append("\\" + char)
            elif char == "\n":
                out.append("\\n")
            elif char == "\r":
                out.append("\\r")
            elif char == "\t":
                out.append("\\t")
            elif ord(char) < 0x20 or ord(char) > 0x7E:
                # \uXXXX per UTF-16 unit: characters outside the BMP become a surrogate pair.
                units = char.encode("utf-16-be", errors="surrogatepass")
                out.extend(f"\\u{int.from_bytes(units[i : i + 2], 'big'):04x}" for i in range(0, len(units), 2))
            else:
                out.append(char)
        return "".join(out)

    return f"{escape(key, True)}={escape(value, False)}"


def environment(result: RunResult) -> dict[str, str]:
    return {
        "target": result.target + (" (embedded reference)" if result.reference else ""),
        "profile": result.profile,
        "seed": str(result.seed),
        "feature_flags": ",".join(result.feature_flags) or "(none)",
        "classes": ",".join(result.classes),
        "fail_on": result.fail_on,
        "contract_sha256": result.contract_sha256,
        "catalog_version": str(result.catalog_version),
        "suite_version": result.suite_version,
        "run_id": result.run_id,
        "verdict": result.verdict.value,
    }


def copy_history_in(history_dir: Path | None, results_dir: Path) -> bool:
    """`<history-dir>/allure-history` → `allure-results/history`, so the site shows trends."""
    if history_dir is None:
        return False
    target = results_dir / "history"
    if target.exists():
        shutil.rmtree(target)
    # Read as hostile: only regular files of the history dir's own folder, no link followed (their
    # content lands in the results, hence in a bundle a vendor shares), each and all bounded.
    copied = False
    for entry in local_files.files_inside(
        history_dir,
        ALLURE_HISTORY,
        max_files=MAX_HISTORY_FILES,
        max_bytes_each=MAX_HISTORY_FILE_BYTES,
        max_total=MAX_HISTORY_FILE_BYTES,
    ):
        target.mkdir(parents=True, exist_ok=True)
        (target / entry.name).write_bytes(entry.data)
        copied = True
    return copied


def save_history(site_dir: Path, history_dir: Path) -> bool:
    """`allure-report/history` → `<history-dir>/allure-history`, for the next run."""
    source = site_dir / "history"
    if not source.is_dir():
        return False
    target = history_dir / ALLURE_HISTORY
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target)
    return True


def _millis(timestamp: str) -> int:
    return int(datetime.fromisoformat(timestamp.replace("Z", "+00:00")).timestamp() * 1000)


def _digest(text: str) -> str:
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


class _Writer:
    """One run's Allure files: results and their attachments, through allure-python-commons."""

    def __init__(self, directory: Path) -> None:
        # allure-python-commons ships no type hints: its logger is typed here as what it is.
        self.logger: Any = AllureFileLogger(str(directory))  # type: ignore[no-untyped-call]

    def attach(self, name: str, text: str) -> Attachment:
        source = f"{uuid.uuid4()}-attachment.txt"
        self.logger.report_attached_data(body=text, file_name=source)
        return Attachment(name=name, source=source, type="text/plain")

    def report(self, result: TestResult) -> None:
        self.logger.report_result(result)


def _field(step: Any, *names: str) -> Any:
    """A field of a scenario step, whether the step is a dataclass or a mapping (read from JSON)."""
    for name in names:
        value = step.get(name) if isinstance(step, Mapping) else getattr(step, name, None)
        if value not in (None, ""):
            return value
    return None


def scenario_steps(writer: _Writer, failure: Failure, start: int) -> list[TestStepResult]:
    """The steps of a scenario failure (request, response, what was expected), when it carries them."""
    steps = []
    for index, step in enumerate(getattr(failure, "steps", None) or (), start=1):
        title = _field(step, "title", "name", "description") or f"step {index}"
        exchange = _field(step, "exchange")
        attachments = []
        if isinstance(exchange, RecordedExchange):
            request, response = _exchange_texts(exchange)
            attachments += [writer.attach("request", request), writer.attach("response", response)]
        for name in ("expected", "actual", "curl"):
            value = _field(step, name)
            if value is not None:
                attachments.append(writer.attach(name, str(value)))
        failed = _field(step, "failed") is True or _field(step, "passed") is False or _field(step, "ok") is False
        steps.append(
            TestStepResult(
                name=f"{index}. {title}",
                status="failed" if failed else "passed",
                statusDetails=StatusDetails(message=str(_field(step, "message", "expected") or "")) if failed else None,
                attachments=attachments,
                start=start,
                stop=start,
            )
        )
    return steps


def failure_step(writer: _Writer, failure: Failure, waived: bool, start: int) -> TestStepResult:
    """One failure as a step: red (or skipped when waived), what was wrong, how to reproduce it."""
    prefix = "waived: " if waived else ""
    parameters = [Parameter(name="check", value=failure.check)]
    if failure.test_id:
        parameters.append(Parameter(name="found by", value=failure.test_id))
    return TestStepResult(
        name=f"{prefix}{failure.requirement_id} {failure.operation or RUN_WIDE}: {failure.title}",
        status="skipped" if waived else "failed",
        statusDetails=StatusDetails(message=failure.message),
        attachments=[writer.attach(name, text) for name, text in failure_attachments(failure)],
        parameters=parameters,
        steps=scenario_steps(writer, failure, start),
        start=start,
        stop=start,
    )


def _status_details(requirement: RequirementResult, status: Status, failures: list[Failure]) -> StatusDetails | None:
    if status is Status.FAILED and failures:
        titles = "; ".join(dict.fromkeys(f.title for f in failures))
        return StatusDetails(message=f"nonconformance: {titles}", trace=failure_text(requirement, failures))
    if status is Status.WAIVED:
        # `describe` reads "waived on GET /x until ... by ...: reason".
        waiver = describe(requirement.waiver) if requirement.waiver else f"waived: {requirement.reason or ''}"
        return StatusDetails(message=waiver, trace=failure_text(requirement, failures))
    if status is Status.NOT_APPLICABLE:
        return StatusDetails(message=f"not applicable: {requirement.reason or ''}")
    if status is Status.SKIPPED:
        return StatusDetails(message=requirement.reason or "skipped")
    return None


def case_result(
    writer: _Writer, run: RunResult, requirement: RequirementResult, label: str, status: Status
) -> TestResult:
    """The Allure result of one requirement on one operation (or run-wide)."""
    rule = requirement.requirement
    start, stop = _millis(run.started_at), _millis(run.finished_at)
    failures = [f for f in requirement.failures if (f.operation or RUN_WIDE) == label]
    full_name = f"phase2.{rule.cls}.{rule.id}[{label}]"
    labels = [
        Label(name="epic", value=rule.cls),
        Label(name="feature", value=f"{rule.id} {rule.statement}"),
        Label(name="story", value=label),
        Label(name="severity", value=ALLURE_SEVERITY[Severity.of(rule)]),
        Label(name="tag", value=rule.level.value),
        Label(name="parentSuite", value="phase2-conformance"),
        Label(name="suite", value=rule.cls),
        Label(name="subSuite", value=rule.id),
        Label(name="class", value=rule.cls),
        Label(name="requirement", value=rule.id),
        Label(name="framework", value="phase2-conformance"),
    ]
    return TestResult(
        uuid=str(uuid.uuid4()),
        name=f"{rule.id} {label}",
        fullName=full_name,
        historyId=_digest(full_name),
        testCaseId=_digest(f"phase2.{rule.cls}.{rule.id}"),
        description=f"{rule.level.value}: {rule.statement}",
        status=ALLURE_STATUS[status],
        statusDetails=_status_details(requirement, status, failures),
        stage="finished",
        labels=labels,
        links=[Link(type="link", url=catalog_link(rule.id), name=rule.id)],
        parameters=[Parameter(name="operation", value=label)],
        steps=[failure_step(writer, f, status is Status.WAIVED, start) for f in failures],
        start=start,
        stop=stop,
    )


def error_result(run: RunResult, error: str) -> TestResult:
    """A run error (the suite could not judge something): broken, under the epic `run`."""
    start, stop = _millis(run.started_at), _millis(run.finished_at)
    full_name = f"phase2.run.error[{error}]"
    return TestResult(
        uuid=str(uuid.uuid4()),
        name=error if len(error) <= 120 else error[:119] + "…",
        fullName=full_name,
        historyId=_digest(full_name),
        status="broken",
        statusDetails=StatusDetails(message=error),
        stage="finished",
        labels=[
            Label(name="epic", value="run"),
            Label(name="feature", value="errors that kept the run from a clean verdict"),
            Label(name="parentSuite", value="phase2-conformance"),
            Label(name="suite", value="run"),
            Label(name="framework", value="phase2-conformance"),
        ],
        start=start,
        stop=stop,
    )


def operation_statuses(result: RunResult) -> dict[tuple[str, str], Status]:
    return {
        (requirement_id, operation.label): status
        for operation in result.operations
        for requirement_id, status in operation.requirements.items()
    }


def results_of(result: RunResult, directory: Path) -> int:
    """Write every Allure result of `result` into `directory`; returns how many."""
    writer = _Writer(directory)
    statuses = operation_statuses(result)
    written = 0
    for requirement in result.requirements:
        if requirement.status is Status.SKIPPED and (requirement.reason or "").startswith(UNSELECTED):
            continue  # not asked for in this run: not a test of it
        for label, status in cases_of(requirement, statuses):
            writer.report(case_result(writer, result, requirement, label, status))
            written += 1
    for error in result.errors:
        writer.report(error_result(result, error))
        written += 1
    return written


class AllureReporter:
    name = "allure"

    def write(self, result: RunResult, context: ReportContext) -> Path:
        directory = context.directory / RESULTS_DIR
        # The run's results only: an earlier run's (or an earlier write's) would count twice.
        if directory.is_dir() and not directory.is_symlink():
            shutil.rmtree(directory)
        directory.mkdir(parents=True, exist_ok=True)
        results_of(result, directory)
        lines = [properties_line(k, v) for k, v in environment(result).items()]
        write_atomically(directory / "environment.properties", "\n".join(lines) + "\n")
        write_atomically(directory / "categories.json", json.dumps(CATEGORIES, indent=2) + "\n")
        copy_history_in(context.history_dir, directory)
        return directory


# --- afterwards: the Allure site -------------------------------------------------------------------


def find_allure(explicit: str | None = None) -> list[str] | None:
    if explicit:
        return [explicit]
    found = shutil.which("allure")
    return [found] if found else None


def build_site(report_dir: Path, history_dir: Path | None, allure: list[str]) -> Path:
    """Run `allure generate` on a report dir's results; keep its history for the next run."""
    results = report_dir / RESULTS_DIR
    if not results.is_dir():
        raise FileNotFoundError(f"no {RESULTS_DIR} in {report_dir}: run the suite with this report dir first")
    copy_history_in(history_dir, results)
    site = report_dir / SITE_DIR
    subprocess.run([*allure, "generate", "--clean", str(results), "-o", str(site)], check=True)
    if history_dir is not None:
        save_history(site, history_dir)
    return site


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m conformance.reporting.allure", description="Build the Allure HTML site of a run."
    )
    parser.add_argument("report_dir", type=Path, help="a run's report dir (holding allure-results/)")
    parser.add_argument("--history-dir", type=Path, help="where Allure's history is kept between runs")
    parser.add_argument("--allure", help="the allure command (default: `allure` on PATH)")
    args = parser.parse_args(argv)
    allure = find_allure(args.allure)
    if allure is None:
        print(
            "allure: command not found; install it with `npm install allure-commandline` (needs Java)",
            file=sys.stderr,
        )
        return 2
    try:
        site = build_site(args.report_dir, args.history_dir, allure)
    except FileNotFoundError as exc:
        print(f"allure: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"allure: `allure generate` failed with exit code {exc.returncode}", file=sys.stderr)
        return 1
    print(f"Allure site: {site / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
