"""No false alarms: the reference passes the suite on seeds other than the fixed one.

A CI-sized run of `benchmarks.seeds`: two seeds with the quick profile, side by side (the recorded
proof runs twenty with the standard profile; see the README).
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import seeds


def test_the_reference_passes_the_quick_profile_on_two_more_seeds(tmp_path: Path) -> None:
    results = seeds.run_seeds([7, 8], "quick", jobs=2, report_root=tmp_path)
    assert [result.seed for result in results] == [7, 8]
    assert all(result.ok for result in results), seeds.render(results, "quick")
    assert all(result.failed == 0 and result.requests > 0 for result in results)
