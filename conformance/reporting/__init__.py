"""Reporters: one module per format, one protocol, fed only with a `RunResult`.

A reporter never calls the target and never sees settings beyond where to write. Adding a
format is adding a module and one line to `REPORTERS`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from conformance.results import RunResult
from conformance.settings import Settings

log = logging.getLogger("conformance.reporting")


@dataclass(frozen=True)
class ReportContext:
    directory: Path
    history_dir: Path | None = None


class Reporter(Protocol):
    name: str

    def write(self, result: RunResult, context: ReportContext) -> Path | None: ...


def reporters() -> list[Reporter]:
    from conformance.reporting.summary import SummaryReporter

    return [SummaryReporter()]


def write_reports(result: RunResult, settings: Settings) -> list[Path]:
    context = ReportContext(settings.report_dir, settings.history_dir)
    context.directory.mkdir(parents=True, exist_ok=True)
    written = []
    for reporter in reporters():
        path = reporter.write(result, context)
        if path is not None:
            written.append(path)
    return written
