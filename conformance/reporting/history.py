"""The history directory (`--history-dir`): what a run keeps for the runs after it.

    <history-dir>/
      runs/<run-id>.json     summary.json of each earlier run (the HTML report's trend)
      allure-history/        Allure's own history folder (trends and retries in the Allure site)

A history dir may come from a CI cache or another machine, so it is read as hostile: only the
newest runs by name, each validated against summary.json's schema; a file that is not a summary
stops the run before it starts (exit 2, naming the file and field). The history reporter runs after
the HTML reporter, so the trend it draws is the earlier runs plus the one being reported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance import local_files
from conformance.reporting import ReportContext, write_atomically
from conformance.reporting.summary import summary_document
from conformance.results import RunResult, Status

RUNS = local_files.HISTORY_RUNS
ALLURE_HISTORY = "allure-history"
TREND_LENGTH = local_files.HISTORY_NEWEST - 1  # the newest runs read, but the one being reported
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class TrendPoint:
    run_id: str
    finished_at: str
    verdict: str
    counts: dict[str, int]  # requirement status → count

    @classmethod
    def of_summary(cls, document: dict[str, Any]) -> TrendPoint:
        counts = document["counts"]["requirements"]  # validated: every status, an integer
        return cls(
            run_id=document["run_id"],
            finished_at=document["finished_at"],
            verdict=document["verdict"],
            counts={status.value: counts[status.value] for status in Status},
        )

    @classmethod
    def of_result(cls, result: RunResult) -> TrendPoint:
        return cls(result.run_id, result.finished_at, result.verdict.value, result.counts)


def earlier_runs(history_dir: Path, exclude_run_id: str | None = None) -> list[TrendPoint]:
    """The newest runs kept in `<history-dir>/runs/`, oldest first.

    Each file is read as hostile, through the one door for local files: inside the history dir with
    no link followed, bounded, validated against summary.json's schema. A file that is not a summary
    is `ConfigError` (exit 2): settings check the dir before the run starts (`parsers.history_dir`)."""
    points = [TrendPoint.of_summary(document) for document in local_files.history_summaries(history_dir)]
    unique = {p.run_id: p for p in points if p.run_id != exclude_run_id}
    return sorted(unique.values(), key=lambda p: (p.finished_at, p.run_id))


def trend(result: RunResult, history_dir: Path | None) -> list[TrendPoint]:
    """Earlier runs and this one, the last `TREND_LENGTH` of them; empty without a history dir."""
    if history_dir is None:
        return []
    return [*earlier_runs(history_dir, result.run_id), TrendPoint.of_result(result)][-TREND_LENGTH:]


class HistoryReporter:
    """Appends this run's summary to `<history-dir>/runs/`."""

    name = "history"

    def write(self, result: RunResult, context: ReportContext) -> Path | None:
        if context.history_dir is None:
            return None
        directory = context.history_dir / RUNS
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{_SAFE_NAME.sub('_', result.run_id)}.json"
        return write_atomically(path, json.dumps(summary_document(result), indent=2) + "\n")
