"""Shared fixtures: run the suite's CLI as a user would, and read what it wrote."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
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


def _clean_env(extra: dict[str, str] | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHASE2_", "OTEL_"))}
    env.update(extra or {})
    return env


@pytest.fixture
def run_suite(tmp_path: Path) -> Callable[..., SuiteRun]:
    """`phase2-conformance run ...` in a subprocess, reports in a fresh directory."""
    counter = iter(range(1000))

    def run(*args: str, env: dict[str, str] | None = None, timeout: float = 600) -> SuiteRun:
        report_dir = tmp_path / f"report-{next(counter)}"
        command: Sequence[str] = [
            sys.executable,
            "-m",
            "conformance",
            "run",
            "-q",
            "--report-dir",
            str(report_dir),
            *args,
        ]
        completed = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=_clean_env(env), cwd=tmp_path
        )
        return SuiteRun(completed.returncode, completed.stdout, completed.stderr, report_dir)

    return run
