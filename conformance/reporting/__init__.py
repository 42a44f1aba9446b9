"""Reporters: one module per format, one protocol, fed only with a `RunResult`.

A reporter never calls the target and never sees settings beyond where to write. Adding a
format is adding a module and one line to `reporters()`.

The order of `reporters()` matters twice: the HTML trend reads the history directory before the
history reporter appends this run to it, and the manifest comes last because it hashes every
file the others wrote.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from conformance.errors import ExitCode
from conformance.results import RunResult, Verdict

if TYPE_CHECKING:
    from conformance.client.secrets import Redactor
    from conformance.settings import Settings

log = logging.getLogger("conformance.reporting")


@dataclass(frozen=True)
class ReportContext:
    directory: Path
    history_dir: Path | None = None
    # Where readers of summary.md find this run's files (a CI run's artifacts), when known: a PR
    # reader cannot open a path on the runner's disk.
    artifacts_url: str | None = None


def ci_artifacts_url(environ: Mapping[str, str]) -> str | None:
    """The GitHub Actions run page holding the run's artifacts, from the variables GitHub sets."""
    server = environ.get("GITHUB_SERVER_URL", "")
    repository = environ.get("GITHUB_REPOSITORY", "")
    run_id = environ.get("GITHUB_RUN_ID", "")
    if not (
        re.fullmatch(r"https://[A-Za-z0-9.-]+(:\d+)?", server)
        and re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository)
        and run_id.isdigit()
    ):
        return None
    return f"{server}/{repository}/actions/runs/{run_id}#artifacts"


class Reporter(Protocol):
    name: str

    def write(self, result: RunResult, context: ReportContext) -> Path | None: ...


def reporters() -> list[Reporter]:
    from conformance.reporting.allure import AllureReporter
    from conformance.reporting.history import HistoryReporter
    from conformance.reporting.html import HtmlReporter
    from conformance.reporting.junit import JUnitReporter
    from conformance.reporting.manifest import ManifestReporter
    from conformance.reporting.markdown import MarkdownReporter
    from conformance.reporting.summary import SummaryReporter

    return [
        SummaryReporter(),
        JUnitReporter(),
        MarkdownReporter(),
        HtmlReporter(),
        AllureReporter(),
        HistoryReporter(),
        ManifestReporter(),
    ]


def with_report_errors(result: RunResult, broken: dict[str, str]) -> RunResult:
    """The result of a run some of whose reports could not be written: never a pass."""
    errors = tuple(f"the {name} report could not be written: {reason}" for name, reason in broken.items())
    new_errors = tuple(e for e in errors if e not in result.errors)
    if not new_errors:
        return result
    return replace(
        result,
        errors=result.errors + new_errors,
        verdict=Verdict.ERROR if result.verdict is Verdict.PASS else result.verdict,
        exit_code=int(ExitCode.NONCONFORMANCE) if result.exit_code == ExitCode.CONFORMS else result.exit_code,
    )


def write_reports(
    result: RunResult,
    settings: Settings | None = None,
    *,
    context: ReportContext | None = None,
    chosen: list[Reporter] | None = None,
    redactor: Redactor | None = None,
) -> RunResult:
    """Write every report; returns the run's result, turned into an error if a reporter broke.

    A broken reporter costs only its own file: the others still write. Once one has failed, the
    ones that succeeded write again with the amended result, so every file that exists tells
    the same verdict and names the missing report. With a `redactor`, every file in the directory
    passes it before the manifest hashes them (`guard`).
    """
    if context is None:
        assert settings is not None, "give settings or a report context"
        context = ReportContext(settings.report_dir, settings.history_dir, ci_artifacts_url(os.environ))
    chosen = reporters() if chosen is None else chosen
    broken: dict[str, str] = {}
    try:
        context.directory.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.error("cannot create the report directory %s: %s", context.directory, exc)
        return with_report_errors(result, {"report directory": f"{context.directory}: {exc.strerror}"})
    for _ in range(len(chosen) + 1):
        known = len(broken)
        for reporter in chosen:
            if reporter.name in broken:
                continue
            if reporter.name == "manifest" and redactor is not None:
                from conformance.reporting.guard import scrub_directory

                scrub_directory(context.directory, redactor)
            try:
                reporter.write(result, context)
            except Exception as exc:
                log.error("the %s reporter failed", reporter.name, exc_info=True)
                broken[reporter.name] = " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
        if len(broken) == known:
            break
        result = with_report_errors(result, broken)
    if redactor is not None and all(reporter.name != "manifest" for reporter in chosen):
        from conformance.reporting.guard import scrub_directory

        scrub_directory(context.directory, redactor)
    return result


def write_atomically(path: Path, data: str | bytes) -> Path:
    """Write a whole file or nothing: a reporter that breaks half-way leaves no torn file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    if isinstance(data, str):
        partial.write_text(data, encoding="utf-8")
    else:
        partial.write_bytes(data)
    partial.replace(path)
    return path
