"""Sharding: a deterministic, cost-balanced part of the plan per CI machine, merged into one run
that is judged exactly as the unsharded one."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from conformance.checks import load_checks
from conformance.checks.registry import REGISTRY
from conformance.contract import load_catalog, load_contract
from conformance.errors import ConfigError
from conformance.runner.plan import build_plan
from conformance.runner.shard import shard_plan
from conformance.settings import load_settings
from conformance.shards import Shard, shard_from_ci
from tests.conftest import UNCUT, SuiteRun


def test_a_shard_is_spelled_i_of_n_or_read_from_the_ci() -> None:
    assert Shard.parse("2/3", "--shard") == Shard(2, 3)
    for wrong in ("0/3", "4/3", "3", "a/b", "1/0"):
        with pytest.raises(ConfigError, match="shard from --shard"):
            Shard.parse(wrong, "--shard")
    assert shard_from_ci({"CI_NODE_INDEX": "2", "CI_NODE_TOTAL": "4"}) == (Shard(2, 4), "CI_NODE_INDEX/CI_NODE_TOTAL")
    assert shard_from_ci({"BUILDKITE_PARALLEL_JOB": "0", "BUILDKITE_PARALLEL_JOB_COUNT": "3"})[0] == Shard(1, 3)  # type: ignore[index]
    assert shard_from_ci({"CIRCLE_NODE_INDEX": "2", "CIRCLE_NODE_TOTAL": "3"})[0] == Shard(3, 3)  # type: ignore[index]
    assert shard_from_ci({"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "1"}) is None
    assert shard_from_ci({}) is None
    with pytest.raises(ConfigError, match="CIRCLE_NODE_INDEX"):
        shard_from_ci({"CIRCLE_NODE_INDEX": "x", "CIRCLE_NODE_TOTAL": "3"})


def test_the_explicit_shard_beats_the_ci_variables(tmp_path: Path) -> None:
    ci = {"CI_NODE_INDEX": "1", "CI_NODE_TOTAL": "2"}
    assert load_settings({"reference": True, "report_dir": str(tmp_path)}, env=ci).shard == Shard(1, 2)
    explicit = load_settings({"reference": True, "report_dir": str(tmp_path), "shard": "3/3"}, env=ci)
    assert explicit.shard == Shard(3, 3)


def test_shards_split_the_plan_completely_disjointly_and_by_cost(tmp_path: Path) -> None:
    load_checks(())
    settings = load_settings({"reference": True, "report_dir": str(tmp_path), "profile": "standard"}, env={})
    plan = build_plan(settings, load_contract(), load_catalog(), REGISTRY.scenarios())
    parts = [shard_plan(plan, Shard(index, 3)) for index in (1, 2, 3)]
    keys = [item.key for part in parts for item in part]
    assert sorted(keys) == sorted(item.key for item in plan)
    assert len(keys) == len(set(keys))
    assert parts == [shard_plan(plan, Shard(index, 3)) for index in (1, 2, 3)], "not deterministic"
    loads = [part.cost for part in parts]
    assert max(loads) - min(loads) <= max(item.cost for item in plan)
    for part in parts:  # each part keeps the plan's order (scenarios first)
        order = [item.key for item in plan if item.key in {w.key for w in part}]
        assert [item.key for item in part] == order


def _merge(*arguments: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "conformance", "merge", *arguments]
    return subprocess.run(command, capture_output=True, text=True, timeout=300)


def _allure_cases(report_dir: Path) -> list[tuple[str, str]]:
    results = [json.loads(path.read_text()) for path in (report_dir / "allure-results").glob("*-result.json")]
    return sorted((result["fullName"], result["status"]) for result in results)


def _statuses(summary: dict[str, object]) -> dict[str, str]:
    requirements = summary["requirements"]
    assert isinstance(requirements, dict)
    return {rid: entry["status"] for rid, entry in requirements.items()}


@pytest.mark.parametrize("fault", [None, "problem-status-mismatch"], ids=["reference", "faulty-reference"])
def test_three_shards_merged_judge_as_the_unsharded_run(
    run_suite: Callable[..., SuiteRun], tmp_path: Path, fault: str | None
) -> None:
    arguments = ["--reference", "--profile", "quick", "--seed", "7", *UNCUT]
    if fault is not None:
        arguments += ["--reference-fault", fault]
    whole = run_suite(*arguments)
    shards = [run_suite(*arguments, "--shard", f"{index}/3") for index in (1, 2, 3)]
    merged_dir = tmp_path / "merged"
    merged = _merge(*(str(shard.report_dir) for shard in shards), "-o", str(merged_dir))
    assert merged.returncode == whole.exit_code == (0 if fault is None else 1), merged.stdout[-3000:] + merged.stderr
    merged_run = SuiteRun(merged.returncode, merged.stdout, merged.stderr, merged_dir)
    assert _statuses(merged_run.summary) == _statuses(whole.summary)
    assert merged_run.summary["verdict"] == whole.summary["verdict"]
    for name in ("summary.json", "junit.xml", "summary.md", "report.html", "manifest.json"):
        assert (merged_dir / name).is_file(), name
    # Allure's results are written from the merged result: one per requirement × operation, as unsharded.
    assert _allure_cases(merged_dir) == _allure_cases(whole.report_dir)
    assert len(merged_run.summary["tests"]) == len(whole.summary["tests"])
    if fault is None:
        # A missing shard is never a pass.
        partial = _merge(str(shards[0].report_dir), str(shards[2].report_dir), "-o", str(tmp_path / "partial"))
        assert "Verdict: ERROR" in partial.stdout and partial.returncode != 0
        assert "shard 2/3 is missing" in partial.stdout


def test_shards_of_different_runs_are_refused(run_suite: Callable[..., SuiteRun], tmp_path: Path) -> None:
    base = ["--reference", "--profile", "quick", "--classes", "health"]
    first = run_suite(*base, "--seed", "1", "--shard", "1/2")
    other_seed = run_suite(*base, "--seed", "2", "--shard", "2/2")
    refused = _merge(str(first.report_dir), str(other_seed.report_dir), "-o", str(tmp_path / "out"))
    assert refused.returncode == 2
    assert refused.stderr.count("\n") == 1 and "their seed differ" in refused.stderr
    twice = _merge(str(first.report_dir), str(first.report_dir), "-o", str(tmp_path / "twice"))
    assert twice.returncode == 2 and "both shard 1/2" in twice.stderr


def test_the_merge_applies_the_runs_waivers(run_suite: Callable[..., SuiteRun], tmp_path: Path) -> None:
    """A failure the run's waiver covers is waived in the merged run as in each shard, never failed."""
    waivers = tmp_path / "waivers.yaml"
    waivers.write_text(
        "waivers:\n  - requirement: P2-HLT-004\n    reason: the CDN adds caching\n    owner: ops\n"
        "    expires: '2999-01-01'\n",
        encoding="utf-8",
    )
    base = ["--reference", "--profile", "quick", "--classes", "health", "--seed", "3"]
    base += ["--reference-fault", "health-cacheable", "--waivers", str(waivers)]
    whole = run_suite(*base)
    assert whole.exit_code == 0 and whole.status("P2-HLT-004") == "waived", whole.stdout[-2000:]
    shards = [run_suite(*base, "--shard", f"{index}/2") for index in (1, 2)]
    merged = _merge(*(str(shard.report_dir) for shard in shards), "-o", str(tmp_path / "merged"))
    merged_run = SuiteRun(merged.returncode, merged.stdout, merged.stderr, tmp_path / "merged")
    assert merged.returncode == 0, merged.stdout[-2000:] + merged.stderr
    assert merged_run.status("P2-HLT-004") == "waived"
    assert "the CDN adds caching" in merged_run.summary["requirements"]["P2-HLT-004"]["reason"]
    assert _statuses(merged_run.summary) == _statuses(whole.summary)
    # Shards run with other waivers are shards of another run.
    other = run_suite(*base[:-2], "--shard", "2/2")
    refused = _merge(str(shards[0].report_dir), str(other.report_dir), "-o", str(tmp_path / "mixed"))
    assert refused.returncode == 2 and "their waivers differ" in refused.stderr
