"""`reporters()` and `write_reports`: every format registered, and one broken reporter costs only itself."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.cli import main
from conformance.reporting import ReportContext, reporters, write_reports
from conformance.reporting.html import HtmlReporter
from conformance.results import RunResult, Verdict

EXPECTED_FILES = {"summary.json", "junit.xml", "summary.md", "report.html", "manifest.json"}


class Broken:
    name = "broken"

    def write(self, result: RunResult, context: ReportContext) -> Path:
        raise RuntimeError("disk on fire")


def test_every_format_is_registered_and_the_manifest_comes_last() -> None:
    names = [reporter.name for reporter in reporters()]
    assert names == ["summary", "junit", "markdown", "html", "allure", "history", "manifest"]


def test_a_passing_run_writes_every_file(tmp_path: Path, passing_result: RunResult) -> None:
    assert passing_result.verdict is Verdict.PASS
    final = write_reports(passing_result, context=ReportContext(tmp_path / "report"))
    assert final == passing_result
    assert {p.name for p in (tmp_path / "report").iterdir()} >= EXPECTED_FILES
    assert not list((tmp_path / "report").rglob("*.partial"))


def test_a_broken_reporter_loses_only_its_own_output(tmp_path: Path, passing_result: RunResult) -> None:
    chosen = reporters()
    chosen.insert(2, Broken())
    directory = tmp_path / "report"
    final = write_reports(passing_result, context=ReportContext(directory), chosen=chosen)
    assert final.verdict is Verdict.ERROR
    assert final.exit_code == 1
    assert final.errors == ("the broken report could not be written: RuntimeError: disk on fire",)
    assert {p.name for p in directory.iterdir()} >= EXPECTED_FILES
    # Every file tells the amended verdict, the ones written before the failure included.
    summary = json.loads((directory / "summary.json").read_text(encoding="utf-8"))
    assert summary["verdict"] == "error"
    assert summary["errors"] == list(final.errors)
    assert "ERROR" in (directory / "summary.md").read_text(encoding="utf-8").splitlines()[0]


def test_a_failing_verdict_keeps_its_exit_code(tmp_path: Path, failing_result: RunResult) -> None:
    final = write_reports(failing_result, context=ReportContext(tmp_path), chosen=[Broken()])
    assert final.verdict is Verdict.FAIL
    assert final.exit_code == failing_result.exit_code == 1


def test_an_unwritable_report_dir_is_an_error(tmp_path: Path, passing_result: RunResult) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    final = write_reports(passing_result, context=ReportContext(blocker / "report"))
    assert final.verdict is Verdict.ERROR
    assert final.exit_code == 1


# In-process, the reference's stdout pipe is left for the garbage collector (target/reference.py).
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_real_run_with_a_broken_reporter_reports_the_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def explode(self: HtmlReporter, result: RunResult, context: ReportContext) -> Path:
        raise OSError("no space left on device")

    monkeypatch.setattr(HtmlReporter, "write", explode)
    for variable in ("PHASE2_BASE_URL", "PHASE2_CLIENT_ID", "PHASE2_CLIENT_SECRET", "PHASE2_REPORT_DIR"):
        monkeypatch.delenv(variable, raising=False)
    report = tmp_path / "report"
    code = main(
        [
            "run",
            "--reference",
            "--profile",
            "quick",
            "-q",
            "--requirement",
            "P2-HLT-001",
            "--report-dir",
            str(report),
        ]
    )
    out = capsys.readouterr().out
    assert code == 1
    summary = json.loads((report / "summary.json").read_text(encoding="utf-8"))
    assert "the html report could not be written: OSError: no space left on device" in summary["errors"]
    assert summary["requirements"]["P2-HLT-001"]["status"] == "passed"
    assert summary["errors"] == ["the html report could not be written: OSError: no space left on device"]
    assert summary["verdict"] == "error"
    assert summary["exit_code"] == 1
    assert "the html report could not be written" in out
    assert not (report / "report.html").exists()
    assert {"junit.xml", "summary.md", "manifest.json"} <= {p.name for p in report.iterdir()}


def test_failures_show_their_likely_causes_and_first_checks(tmp_path: Path, failing_result: RunResult) -> None:
    from conformance.contract import load_catalog

    first_checks = load_catalog().get("P2-CON-003").troubleshooting
    write_reports(failing_result, context=ReportContext(tmp_path))
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["requirements"]["P2-CON-003"]["troubleshooting"] == first_checks
    assert f"**Likely causes and first checks:** {first_checks}" in (tmp_path / "summary.md").read_text()
    assert "Likely causes and first checks: The body misses a required field" in (tmp_path / "report.html").read_text()
