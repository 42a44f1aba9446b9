"""Shards merged into one run: judged by the one decider, mixed or missing shards never a pass."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import pytest

from conformance.client.secrets import Redactor
from conformance.contract import load_catalog, load_contract
from conformance.errors import ConfigError
from conformance.recorder import Recorder
from conformance.results import Status, Verdict
from conformance.runner.merge import BLOB, FORMAT, merge


def _verdicts(passed: tuple[str, ...] = (), failed: tuple[str, ...] = ()) -> dict[str, Any]:
    recorder = Recorder(load_catalog(), Redactor())
    for requirement_id in passed:
        recorder.passed(requirement_id, "GET /healthz")
    for requirement_id in failed:
        recorder.failed(requirement_id, "broken", "detail", check="check_x", operation="GET /healthz")
    return recorder.export()


def _shard(root: Path, number: int, total: int, verdicts: dict[str, Any], **changes: Any) -> Path:
    directory = root / f"shard-{number}"
    directory.mkdir()
    document = {
        "format": FORMAT,
        "index": number,
        "total": total,
        "seed": 20261126,
        "profile": "quick",
        "contract_sha256": load_contract().sha256,
        "target": "http://127.0.0.1:9/v2",
        "base_url": "http://127.0.0.1:9/v2",
        "reference": False,
        "selection": {
            "classes": ["health"],
            "requirements": [],
            "operations": [],
            "feature_flags": [],
            "reference_faults": [],
            "fail_on": "must",
            "require_all": False,
        },
        "started_at": f"2026-01-15T10:0{number}:00Z",
        "finished_at": f"2026-01-15T10:1{number}:00Z",
        "target_lost": False,
        "interrupted_by": None,
        "rate_limits": {"answers": 1, "retries": 1, "given_up": 0, "waited_seconds": 0.5},
        "tests": [
            {
                "test_id": f"t{number}",
                "name": f"t{number}",
                "outcome": "passed",
                "duration": 1.0,
                "requirements": [],
                "message": None,
            }
        ],
        "recorder": verdicts,
        "waivers": [],
        **changes,
    }
    (directory / BLOB).write_text(json.dumps(document))
    return directory


HEALTH = tuple(requirement.id for requirement in load_catalog() if requirement.cls == "health")


def test_two_shards_make_one_run_judged_as_a_whole(tmp_path: Path) -> None:
    first = _shard(tmp_path, 1, 2, _verdicts(passed=HEALTH[:2]))
    second = _shard(tmp_path, 2, 2, _verdicts(passed=HEALTH[2:]))
    result = merge([first, second], tmp_path / "merged")
    statuses = {r.id: r.status for r in result.requirements if r.id in HEALTH}
    assert statuses == dict.fromkeys(HEALTH, Status.PASSED)
    assert result.verdict is Verdict.PASS and result.exit_code == 0
    assert {test.test_id for test in result.tests} == {"t1", "t2"}
    assert result.rate_limits.answers == 2 and result.rate_limits.waited_seconds == 1.0
    assert result.started_at.startswith("2026-01-15T10:01") and result.finished_at.startswith("2026-01-15T10:12")
    assert (tmp_path / "merged" / "summary.json").is_file()


def test_a_failure_in_one_shard_fails_the_merged_run(tmp_path: Path) -> None:
    first = _shard(tmp_path, 1, 2, _verdicts(passed=HEALTH))
    second = _shard(tmp_path, 2, 2, _verdicts(failed=HEALTH[:1]))
    result = merge([first, second], tmp_path / "merged")
    assert result.verdict is Verdict.FAIL and result.exit_code == 1


def test_a_missing_shard_is_a_run_error_never_a_pass(tmp_path: Path) -> None:
    first = _shard(tmp_path, 1, 3, _verdicts(passed=HEALTH))
    second = _shard(tmp_path, 2, 3, _verdicts(passed=HEALTH))
    result = merge([first, second], tmp_path / "merged")
    assert result.verdict is not Verdict.PASS and result.exit_code != 0
    assert any("shard 3/3 is missing" in error for error in result.errors)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seed": 1}, "are shards of different runs: their seed differ"),
        ({"profile": "standard"}, "their profile differ"),
        ({"index": 1}, "are both shard 1/2"),
        ({"index": 5}, "names shard 5 of 2"),
    ],
)
def test_shards_of_different_runs_are_refused(tmp_path: Path, changes: dict[str, Any], message: str) -> None:
    first = _shard(tmp_path, 1, 2, _verdicts())
    other = _shard(tmp_path, 2, 2, _verdicts(), **changes)
    with pytest.raises(ConfigError, match=message):
        merge([first, other], tmp_path / "merged")


def test_shards_of_another_contract_are_refused(tmp_path: Path) -> None:
    shard = _shard(tmp_path, 1, 1, _verdicts(), contract_sha256="0" * 64)
    with pytest.raises(ConfigError, match="tested another contract"):
        merge([shard], tmp_path / "merged")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "shard.json: no such file"),
        (b"{not json", "shard.json: is not JSON"),
        (b'{"format": 99}', r"shard.json: \(top level\): .* is a required property"),
        (json.dumps({"format": FORMAT}).encode(), "is a required property"),
    ],
)
def test_a_directory_that_holds_no_shard_is_refused(tmp_path: Path, content: bytes | None, message: str) -> None:
    if content is not None:
        (tmp_path / BLOB).write_bytes(content)
    with pytest.raises(ConfigError, match=message):
        merge([tmp_path], tmp_path / "merged")


def test_a_fifo_in_place_of_a_shard_is_refused_without_reading_it(tmp_path: Path) -> None:
    # Opening a FIFO for reading blocks until a writer comes: the merge would hang.
    os.mkfifo(tmp_path / BLOB)
    with pytest.raises(ConfigError, match="is a FIFO, not a regular file"):
        merge([tmp_path], tmp_path / "merged")


def test_malformed_verdicts_are_refused(tmp_path: Path) -> None:
    verdicts = _verdicts()
    verdicts["evaluations"] = {"P2-HLT-001": {"": "many"}}
    shard = _shard(tmp_path, 1, 1, verdicts)
    with pytest.raises(ConfigError, match=r'shard.json: /recorder/evaluations/P2-HLT-001\S*: "many" is not of type'):
        merge([shard], tmp_path / "merged")


WAIVER = {"requirement_id": "P2-HLT-004", "operation": None, "reason": "r", "owner": "o", "expires": "2999-01-01"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"waivers": [{**WAIVER, "expires": 2999}]}, "/waivers/0/expires: 2999 is not of type"),
        ({"waivers": [{"requirement_id": "P2-HLT-004"}]}, '/waivers/0: "operation" is a required property'),
        ({"waivers": [{**WAIVER, "requirement_id": "P2-HLT-999"}]}, "/waivers/0/requirement_id: P2-HLT-999 is not a"),
        ({"index": 10**9}, "/index: 1000000000 is greater than the maximum of 256"),
        ({"started_at": "2026-01-15T10:01:00+02:00"}, "/started_at: "),
        ({"started_at": "2026-02-30T10:01:00Z"}, '/started_at: "2026-02-30T10:01:00Z" is not a "date-time"'),
        ({"started_at": "2026-01-15T23:59:60Z"}, "/started_at: second must be in 0..59"),
        ({"finished_at": "2026-01-15T09:00:00Z"}, "/finished_at: is before started_at"),
    ],
)
def test_a_shard_that_breaks_its_schema_is_refused_naming_the_field(
    tmp_path: Path, changes: dict[str, Any], message: str
) -> None:
    shard = _shard(tmp_path, 1, 1, _verdicts(), **changes)
    with pytest.raises(ConfigError, match=re.escape(message)) as raised:
        merge([shard], tmp_path / "merged")
    assert str(raised.value).startswith(f"merge: {shard / BLOB}: ")


def test_nothing_to_merge_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="give the shards' report directories"):
        merge([], tmp_path)
