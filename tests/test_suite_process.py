"""The tests' way of running the CLI (tests/suite_process.py) behaves as `python -m conformance` does."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.clients import admin
from tests.conftest import _clean_env
from tests.suite_process import run_cli

CASES = [
    pytest.param(["--version"], {}, id="version"),
    pytest.param(["run", "--profile", "nope"], {}, id="usage-error-from-a-flag"),
    pytest.param(["run"], {"PHASE2_PROFILE": "nope"}, id="usage-error-from-the-environment"),
    pytest.param(["run", "--help"], {"COLUMNS": "100"}, id="help"),
]


@pytest.mark.parametrize(("arguments", "extra_env"), CASES)
def test_a_forked_run_answers_as_a_fresh_interpreter_does(
    arguments: list[str], extra_env: dict[str, str], tmp_path: Path
) -> None:
    env = _clean_env(extra_env)
    forked = run_cli(arguments, cwd=tmp_path, env=env, timeout=120)
    plain = subprocess.run(
        [sys.executable, "-m", "conformance", *arguments],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert (forked.returncode, forked.stdout, forked.stderr) == (plain.returncode, plain.stdout, plain.stderr)


def test_each_run_gets_exactly_its_own_environment(tmp_path: Path) -> None:
    # The variable given to one run is gone in the next: the fork server's environment is not the run's.
    given = run_cli(
        ["run", "--reference", "--classes", "nope"],
        cwd=tmp_path,
        env=_clean_env({"PHASE2_PROFILE": "nope"}),
        timeout=120,
    )
    later = run_cli(["run", "--reference", "--classes", "nope"], cwd=tmp_path, env=_clean_env(None), timeout=120)
    assert given.returncode == later.returncode == 2
    assert "PHASE2_PROFILE" in given.stderr
    assert "PHASE2_PROFILE" not in later.stderr and "nope" in later.stderr, later.stderr


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Accepts connections and never answers."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield f"http://127.0.0.1:{server.getsockname()[1]}/v2"


def test_a_run_past_its_timeout_is_killed_and_reported(tmp_path: Path, silent_server: str) -> None:
    with pytest.raises(subprocess.TimeoutExpired):
        run_cli(["run", "--base-url", silent_server], cwd=tmp_path, env=_clean_env(admin().suite_env()), timeout=2)
