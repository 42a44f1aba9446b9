"""The reference under a mixed concurrent load, and under SIGKILL in the middle of one.

CI-sized runs of `benchmarks.load` (the full run is 50 clients for 60 s): real uvicorn
processes on loopback, a SQLite file in a temporary directory, two tenants, and every check of the
script — no 5xx, nothing acknowledged lost, one event per change and none without, consistent
pagination, tails of /events that are prefixes of the final log.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from benchmarks import load


def run(config: load.LoadConfig) -> load.LoadReport:
    report = asyncio.run(load.run(config))
    assert report.ok, report.render()
    return report


def test_a_mixed_load_breaks_no_rule(tmp_path: Path) -> None:
    report = run(load.LoadConfig(clients=8, duration=3.0, seed=11, data_dir=tmp_path))
    # The mix really ran: writes of every kind were acknowledged and their events checked.
    for operation, status in [
        ("create_world", 201),
        ("update_world", 200),
        ("delete_world", 204),
        ("start_runtime", 202),
        ("stop_runtime", 202),
        ("list_events", 200),
        ("stream_events", 200),
        ("foreign_world", 404),
    ]:
        assert report.acknowledged(operation, status) > 0, (operation, report.render())
    assert report.verified_changes > report.acknowledged("create_world", 201)
    assert report.tail_events > 0
    assert report.transport_errors.total() == 0


def test_a_sigkill_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    report = run(load.LoadConfig(clients=6, duration=4.0, kill_after=2.0, seed=12, data_dir=tmp_path))
    assert report.kills == 1
    # Load went on against the restarted server on the same file.
    assert report.acknowledged("login", 200) >= 2 * 6
    assert sum(report.final_counts[tenant]["worlds"] for tenant in report.final_counts) > 0


def test_the_checks_fail_on_a_broken_reference(tmp_path: Path) -> None:
    # The same code against a reference serving two faults: every world.updated event written twice,
    # and deleted worlds kept in the list. A checker that passes this is checking nothing.
    config = load.LoadConfig(
        clients=4, duration=1.5, seed=13, data_dir=tmp_path, faults=("duplicate-events", "soft-delete-visible")
    )
    report = asyncio.run(load.run(config))
    assert not report.ok
    assert report.violations.counts["duplicate or missing event"] > 0, report.render()
    assert report.violations.counts["event without change"] > 0, report.render()
