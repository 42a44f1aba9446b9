"""The run history: each run appends its summary; the trend reads them back, oldest first."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from conformance.errors import ConfigError
from conformance.reporting import ReportContext
from conformance.reporting.history import RUNS, TREND_LENGTH, HistoryReporter, TrendPoint, earlier_runs, trend
from conformance.reporting.summary import summary_document
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


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "garbage.json: is not JSON"),
        (json.dumps({"run_id": "x"}), 'garbage.json: (top level): "schema_version" is a required property'),
    ],
)
def test_a_file_that_is_not_a_summary_is_refused_naming_it(tmp_path: Path, content: str, message: str) -> None:
    # The history dir may come from a CI cache: a file that is not a summary is not believed.
    (tmp_path / RUNS).mkdir()
    (tmp_path / RUNS / "garbage.json").write_text(content)
    with pytest.raises(ConfigError) as raised:
        earlier_runs(tmp_path)
    assert message in str(raised.value)


def test_links_out_of_the_history_dir_are_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "run.json").write_text(json.dumps(summary_document(passing_run())))
    history = tmp_path / "history"
    (history / RUNS).mkdir(parents=True)
    (history / RUNS / "run.json").symlink_to(outside / "run.json")
    with pytest.raises(ConfigError, match=r"run\.json: is a symbolic link"):
        earlier_runs(history)
    (history / RUNS / "run.json").unlink()
    (history / RUNS).rmdir()
    (history / RUNS).symlink_to(outside)
    with pytest.raises(ConfigError, match="runs: is a symbolic link"):
        earlier_runs(history)


def test_only_the_newest_runs_are_read(tmp_path: Path) -> None:
    (tmp_path / RUNS).mkdir()
    (tmp_path / RUNS / "0-oldest.json").write_text("{not json")  # older than the trend reaches
    for number in range(TREND_LENGTH + 1):
        run = dataclasses.replace(passing_run(), run_id=f"run-{number:03d}")
        (tmp_path / RUNS / f"run-{number:03d}.json").write_text(json.dumps(summary_document(run)))
    assert len(earlier_runs(tmp_path)) == TREND_LENGTH + 1


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
