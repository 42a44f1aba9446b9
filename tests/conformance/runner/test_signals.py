"""SIGINT, SIGTERM and SIGHUP end a run alike: partial reports marked interrupted, no orphans.

A real `phase2-conformance run --reference` in a child process; the signal is sent once its
progress shows tests running (read from its output, not a fixed sleep).
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import _clean_env

PROGRESS = re.compile(r"^\s+\[\s*\d+/\d+\]")
REPORTS = ("summary.json", "junit.xml", "summary.md", "report.html", "manifest.json")


def _children(pid: int) -> list[tuple[int, str]]:
    """(pid, command line) of every live child of `pid`, from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            status = (entry / "status").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{pid}$", status, re.MULTILINE):
            found.append((int(entry.name), command))
    return found


def _gone(pid: int) -> bool:
    try:
        state = re.search(r"^State:\s+(\S)", Path(f"/proc/{pid}/status").read_text(), re.MULTILINE)
    except OSError:
        return True
    return state is not None and state.group(1) == "Z"


@pytest.mark.parametrize(("signum", "code"), [(signal.SIGINT, 130), (signal.SIGTERM, 143), (signal.SIGHUP, 129)])
def test_a_signal_writes_partial_reports_and_stops_every_helper(signum: int, code: int, tmp_path: Path) -> None:
    report_dir = tmp_path / "report"
    temp = tmp_path / "tmp"
    temp.mkdir()
    command = [sys.executable, "-m", "conformance", "run", "--reference", "--report-dir", str(report_dir)]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_clean_env({"TMPDIR": str(temp)}),
        cwd=tmp_path,
    )
    try:
        assert process.stdout is not None
        seen = []
        for line in process.stdout:
            seen.append(line)
            if PROGRESS.match(line):
                break
        else:
            pytest.fail("the run ended before any test ran:\n" + "".join(seen))
        references = [pid for pid, cmd in _children(process.pid) if "phase2_reference" in cmd]
        assert len(references) == 1, _children(process.pid)
        process.send_signal(signum)
        rest, stderr = process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    output = "".join(seen) + rest
    assert process.returncode == code, output + stderr
    name = signal.Signals(signum).name
    assert f"Verdict: INTERRUPTED by {name}: partial results, no verdict (exit {code})" in output
    assert "Traceback" not in output + stderr

    for report in REPORTS:
        assert (report_dir / report).is_file(), report
    summary = json.loads((report_dir / "summary.json").read_text())
    assert (summary["verdict"], summary["exit_code"]) == ("interrupted", code)
    assert f"the run was interrupted by {name}" in summary["errors"]
    junit = ET.parse(report_dir / "junit.xml").getroot()
    assert {p.get("name"): p.get("value") for p in junit.iter("property")}["verdict"] == "interrupted"
    assert "INTERRUPTED" in (report_dir / "summary.md").read_text().splitlines()[0]
    assert 'data-verdict="interrupted"' in (report_dir / "report.html").read_text()

    # The embedded reference is stopped, not orphaned, and its data directory is gone.
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in references) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in references), references
    assert list(temp.iterdir()) == []


def test_the_pytest_face_ends_the_same_way_on_sigterm(tmp_path: Path) -> None:
    report_dir = tmp_path / "report"
    temp = tmp_path / "tmp"
    temp.mkdir()
    command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-v"]
    command += ["--pyargs", "conformance.suite", "--phase2-reference", "--phase2-report-dir", str(report_dir)]
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=_clean_env({"TMPDIR": str(temp)}), cwd=tmp_path,
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if " PASSED" in line or " FAILED" in line:
                break
        references = [pid for pid, cmd in _children(process.pid) if "phase2_reference" in cmd]
        assert len(references) == 1
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=180)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 143
    summary = json.loads((report_dir / "summary.json").read_text())
    assert (summary["verdict"], summary["exit_code"]) == ("interrupted", 143)
    deadline = time.monotonic() + 30
    while not all(_gone(pid) for pid in references) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert all(_gone(pid) for pid in references), references
    assert list(temp.iterdir()) == []


ENDLESS_CHECK = """
import os
import time
from pathlib import Path

from conformance.checks.registry import check

LOG = Path(os.environ["ENDLESS_LOG"])


@check("P2-HLT-001", kind="scenario")
def check_endless_polling(ctx):
    while True:
        ctx.api.call("getLiveness")
        with LOG.open("a") as out:
            out.write("polled\\n")
        time.sleep(0.02)
"""


def test_a_signal_stops_and_joins_the_worker_threads_before_the_reports(tmp_path: Path) -> None:
    """An item still running in a worker thread ends at its next request; the reports come after it."""
    import os

    (tmp_path / "endless_check.py").write_text(ENDLESS_CHECK, encoding="utf-8")
    log = tmp_path / "polled.log"
    report_dir = tmp_path / "report"
    command = [sys.executable, "-m", "conformance", "run", "-q", "--reference", "--classes", "health"]
    command += ["--workers", "2", "--checks-module", "endless_check", "--report-dir", str(report_dir)]
    python_path = os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    env = _clean_env({"PYTHONPATH": python_path, "ENDLESS_LOG": str(log)})
    process = subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path
    )
    try:
        deadline = time.monotonic() + 120
        while not log.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert log.exists(), "the endless item never ran"
        process.send_signal(signal.SIGTERM)
        output, stderr = process.communicate(timeout=120)  # a thread left polling would keep it alive
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 143, output + stderr
    summary = report_dir / "summary.json"
    assert json.loads(summary.read_text())["verdict"] == "interrupted"
    # The item's last request came before the reports were written, not beside or after them.
    assert log.stat().st_mtime_ns <= summary.stat().st_mtime_ns
    assert "Traceback" not in stderr
