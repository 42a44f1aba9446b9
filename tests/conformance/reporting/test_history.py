"""The run history: each run appends its summary; the trend reads them back, oldest first."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from conformance.reporting import ReportContext
from conformance.reporting.history import RUNS, TREND_LENGTH, HistoryReporter, TrendPoint, earlier_runs, trend
from tests.conformance.reporting.builders import failing_run, passing_run


def test_a_run_appends_its_summary_and_the_trend_ends_with_it(tmp_path: Path) -> None:
    first, second = passing_run(), failing_run()
    second = dataclasses.replace(second, run_id="run/../2", finished_at="2099-01-01T00:00:00Z")
    for result in (first, second):
        HistoryReporter().write(result, ReportContext(tmp_path / "reports", history_dir=tmp_path))
    written = sorted(path.name for path in (tmp_path / RUNS).iterdir())
    assert "run_.._2.json" in written  # a run id never names a path outside runs/
    points = trend(second, tmp_path)
    assert [point.run_id for point in points] == [first.run_id, second.run_id]
    assert points[-1] == TrendPoint.of_result(second)
    assert points[0].verdict == first.verdict.value


def test_no_history_dir_no_history(tmp_path: Path) -> None:
    assert HistoryReporter().write(passing_run(), ReportContext(tmp_path)) is None
    assert trend(passing_run(), None) == []
    assert earlier_runs(tmp_path) == []


def test_a_file_that_is_not_a_summary_is_skipped(tmp_path: Path) -> None:
    (tmp_path / RUNS).mkdir()
    (tmp_path / RUNS / "garbage.json").write_text("{not json")
    (tmp_path / RUNS / "other.json").write_text(json.dumps({"run_id": "x"}))
    assert earlier_runs(tmp_path) == []


def test_the_trend_keeps_the_last_runs_only(tmp_path: Path) -> None:
    result = passing_run()
    reporter = HistoryReporter()
    for number in range(TREND_LENGTH + 5):
        earlier = dataclasses.replace(result, run_id=f"run-{number:03d}", finished_at=f"2026-01-01T00:{number:02d}:00Z")
        reporter.write(earlier, ReportContext(tmp_path / "reports", history_dir=tmp_path))
    latest = dataclasses.replace(result, run_id="latest", finished_at="2026-01-02T00:00:00Z")
    points = trend(latest, tmp_path)
    assert len(points) == TREND_LENGTH and points[-1].run_id == "latest"
    assert points[0].run_id == f"run-{6:03d}"
