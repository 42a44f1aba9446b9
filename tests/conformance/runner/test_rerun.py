"""`--rerun-failed DIR`: the earlier run's failed requirements, seed, profile and flags, unless given."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.errors import ConfigError
from conformance.local_files import SUMMARY
from conformance.reporting.summary import summary_document
from conformance.runner.rerun import rerun_values
from tests.conformance.reporting.builders import failing_run, passing_run


def _earlier(tmp_path: Path, document: object) -> Path:
    (tmp_path / "summary.json").write_text(json.dumps(document))
    return tmp_path


def test_only_what_failed_is_replayed_with_the_earlier_seed_and_profile(tmp_path: Path) -> None:
    earlier = summary_document(failing_run())
    values = rerun_values({"rerun_failed": str(_earlier(tmp_path, earlier)), "seed": None, "profile": None})
    failed = sorted(rid for rid, entry in earlier["requirements"].items() if entry["status"] == "failed")
    assert values["requirements"] == failed and failed
    assert (values["seed"], values["profile"]) == (earlier["seed"], earlier["profile"])


def test_what_the_user_gives_beats_the_earlier_run(tmp_path: Path) -> None:
    directory = _earlier(tmp_path, summary_document(failing_run()))
    values = rerun_values(
        {"rerun_failed": str(directory), "seed": 7, "profile": "quick", "requirements": ["P2-CON-003"]}
    )
    assert (values["seed"], values["profile"], values["requirements"]) == (7, "quick", ["P2-CON-003"])


def test_the_earlier_feature_flags_come_along(tmp_path: Path) -> None:
    document = summary_document(failing_run())
    document["feature_flags"] = ["beta-preview", "scheduler"]
    values = rerun_values({"rerun_failed": str(_earlier(tmp_path, document))})
    assert values["feature_flags"] == "beta-preview,scheduler"


def test_a_run_where_nothing_failed_is_a_usage_error(tmp_path: Path) -> None:
    directory = _earlier(tmp_path, summary_document(passing_run()))
    with pytest.raises(ConfigError, match="nothing failed in"):
        rerun_values({"rerun_failed": str(directory)})


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        json.dumps({"requirements": "all"}),
        json.dumps({**{"requirements": {}}, "feature_flags": [1, 2]}),
        json.dumps({"requirements": {}, "seed": "seven"}),
    ],
)
def test_a_file_that_is_not_a_summary_is_a_usage_error(tmp_path: Path, content: str) -> None:
    (tmp_path / "summary.json").write_text(content)
    with pytest.raises(ConfigError, match=r"^--rerun-failed: .*summary\.json: ") as raised:
        rerun_values({"rerun_failed": str(tmp_path)})
    assert "\n" not in str(raised.value)


def test_a_missing_or_oversized_summary_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        rerun_values({"rerun_failed": str(tmp_path / "nowhere")})
    (tmp_path / "summary.json").write_bytes(b" " * (SUMMARY.max_bytes + 1))
    with pytest.raises(ConfigError, match="over the limit of"):
        rerun_values({"rerun_failed": str(tmp_path)})
