"""Fixtures for the reporter tests: hand-built runs, and real runs against the reference."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conformance.reporting import ReportContext, write_reports
from conformance.results import RunResult
from tests.conformance.reporting.builders import failing_run, passing_run
from tests.conftest import SuiteRun, _clean_env

SCHEMA = Path(__file__).resolve().parents[3] / "conformance" / "reporting" / "summary.schema.json"


@pytest.fixture
def failing_result() -> RunResult:
    return failing_run()


@pytest.fixture
def passing_result() -> RunResult:
    return passing_run()


@pytest.fixture
def failing_reports(tmp_path: Path, failing_result: RunResult) -> Path:
    """Every report of a hand-built failing run, written by `write_reports`."""
    directory = tmp_path / "report"
    written = write_reports(failing_result, context=ReportContext(directory, tmp_path / "history"))
    assert written.errors == failing_result.errors
    return directory


def _cli_run(report_dir: Path, *args: str) -> SuiteRun:
    command = [sys.executable, "-m", "conformance", "run", "-q", "--report-dir", str(report_dir), *args]
    completed = subprocess.run(
        command, capture_output=True, text=True, timeout=600, env=_clean_env(None), cwd=report_dir.parent
    )
    return SuiteRun(completed.returncode, completed.stdout, completed.stderr, report_dir)


@pytest.fixture(scope="session")
def reference_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """One quick run against the embedded reference, shared by the tests of real output."""
    base = tmp_path_factory.mktemp("reference-run")
    return _cli_run(base / "report", "--reference", "--profile", "quick", "--history-dir", str(base / "history"))


@pytest.fixture(scope="session")
def broken_reference_run(tmp_path_factory: pytest.TempPathFactory) -> SuiteRun:
    """A quick run against a reference that breaks three rules, so failures with exchanges exist, and
    errors that share one cause (scenarios that need the missing ETag cannot run)."""
    base = tmp_path_factory.mktemp("broken-reference-run")
    return _cli_run(
        base / "report",
        "--reference",
        "--profile",
        "quick",
        "--reference-fault",
        "token-cacheable",
        "--reference-fault",
        "plain-text-errors",
        "--reference-fault",
        "no-etag-on-get",
    )
