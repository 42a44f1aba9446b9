"""Shared fixtures: run the suite's CLI as a user would, and read what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.suite_process import run_cli

# Each test process holds Schemathesis and Hypothesis (about 120 MB, before the runs it starts): on a big
# CI machine more than this adds memory, not speed (the longest proofs take about 50 s each).
MAX_TEST_PROCESSES = 12


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """`-n auto`: two test processes per core. Most tests wait on loopback servers, time-outs and
    rate limits rather than compute (with one process per core the whole suite kept two cores about
    a quarter busy), so two per core finish sooner; on a busy machine they only share what is left."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    return min(2 * max(1, cores), MAX_TEST_PROCESSES)


REPO = Path(__file__).resolve().parent.parent
# For runs a test compares with each other (shards with the whole run, 1 worker with 4, a seed
# replayed): a budget no busy machine exhausts. The profile's own (quick: 120 s) is divided among
# the items, so on saturated cores one item's depth may be cut in one run and not in the other
# (seen: POST /auth/login cut at 5 s in a 23 s run), and the runs would differ for that alone.
UNCUT = ("--time-budget", "3600")
pytest_plugins = ("pytester",)


@dataclass
class SuiteRun:
    exit_code: int
    stdout: str
    stderr: str
    report_dir: Path

    @property
    def summary(self) -> dict[str, Any]:
        return json.loads((self.report_dir / "summary.json").read_text())

    def status(self, requirement_id: str) -> str:
        return str(self.summary["requirements"][requirement_id]["status"])

    def failed_requirements(self) -> set[str]:
        return {rid for rid, r in self.summary["requirements"].items() if r["status"] == "failed"}


# A child started from this (large) pytest process gets this process's peak RSS as its own
# `ru_maxrss` when it execs (Linux keeps the high-water mark of the memory map it leaves), so wait4
# on a direct child measures pytest as much as the child. A small interpreter in between starts
# the command from its own small memory map: the peak it reports is the command's alone.
_PEAK_RSS_WRAPPER = """
import os, subprocess, sys
process = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(process.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measuring_peak_rss(
    command: Sequence[str], *, env: dict[str, str], cwd: Path, stdout: Any, stderr: Any
) -> tuple[int, float]:
    """Run `command` to its end; its exit code and its own peak RSS in MB."""
    handle, rss_path = tempfile.mkstemp(prefix="peak-rss-")
    os.close(handle)
    try:
        completed = subprocess.run(
            [sys.executable, "-c", _PEAK_RSS_WRAPPER, rss_path, *command],
            env=env,
            cwd=cwd,
            stdout=stdout,
            stderr=stderr,
            check=False,
        )
        return completed.returncode, int(Path(rss_path).read_text() or 0) / 1024
    finally:
        os.unlink(rss_path)


def _clean_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHASE2_", "OTEL_"))}
    env.update(extra or {})
    return env


def suite_run(
    workdir: Path, report_dir: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 600
) -> SuiteRun:
    """`phase2-conformance run -q --report-dir REPORT_DIR ARGS...` as its own process, started in `workdir`."""
    arguments = ["run", "-q", "--report-dir", str(report_dir), *args]
    completed = run_cli(arguments, cwd=workdir, env=_clean_env(env), timeout=timeout)
    return SuiteRun(completed.returncode, completed.stdout, completed.stderr, report_dir)


@pytest.fixture
def run_suite(tmp_path: Path) -> Callable[..., SuiteRun]:
    """`phase2-conformance run ...` as its own process (tests/suite_process.py), reports in a fresh directory."""
    counter = iter(range(1000))

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> SuiteRun:
        return suite_run(tmp_path, tmp_path / f"report-{next(counter)}", *args, env=env, timeout=timeout)

    return run


def reference_session(classes: str, *, prepared: bool = True) -> Any:
    """A module-scoped `session` fixture: a `RunSession` of `classes` against the embedded reference,
    prepared (token, helpers) or only its target started; in-process, so a test reaches the real
    parts of a run without a subprocess."""
    from conformance.runner.session import RunSession
    from conformance.settings import load_settings

    @pytest.fixture(scope="module")
    def session(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunSession]:
        report_dir = tmp_path_factory.mktemp("reports")
        settings = load_settings({"reference": True, "report_dir": str(report_dir), "classes": classes}, env={})
        with RunSession(settings) as session:
            if prepared:
                session.prepare()
            else:
                session.start_target()
            yield session

    return session
