"""The history directory (`--history-dir`): what a run keeps for the runs after it.

    <history-dir>/
      runs/<run-id>.json     summary.json of each earlier run (the HTML report's trend)
      allure-history/        Allure's own history folder (trends and retries in the Allure site)

Reading is forgiving: a file that is not an earlier summary is skipped with a warning, never
fatal. The history reporter runs after the HTML reporter, so the trend it draws is the earlier
runs plus the one being reported.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conformance.reporting import ReportContext, write_atomically
from conformance.reporting.summary import summary_document
from conformance.results import RunResult, Status

log = logging.getLogger("conformance.reporting")

RUNS = "runs"
ALLURE_HISTORY = "allure-history"
TREND_LENGTH = 30
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


@dataclass(frozen=True)
class TrendPoint:
    run_id: str
    finished_at: str
    verdict: str
    counts: dict[str, int]  # requirement status → count

    @classmethod
    def of_summary(cls, document: dict[str, Any]) -> TrendPoint:
        counts = document["counts"]["requirements"]
        return cls(
            run_id=str(document["run_id"]),
            finished_at=str(document.get("finished_at", "")),
            verdict=str(document["verdict"]),
            counts={status.value: int(counts.get(status.value, 0)) for status in Status},
        )

    @classmethod
    def of_result(cls, result: RunResult) -> TrendPoint:
        return cls(result.run_id, result.finished_at, result.verdict.value, result.counts)


def earlier_runs(history_dir: Path, exclude_run_id: str | None = None) -> list[TrendPoint]:
    """The runs kept in `<history-dir>/runs/`, oldest first."""
    directory = history_dir / RUNS
    if not directory.is_dir():
        return []
    points = []
    for path in sorted([*directory.glob("*.json"), *directory.glob("*/summary.json")]):
        try:
            point = TrendPoint.of_summary(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.warning("skipping %s in the history directory: not a run summary (%s)", path, exc)
            continue
        if point.run_id != exclude_run_id:
            points.append(point)
    unique = {p.run_id: p for p in points}
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
