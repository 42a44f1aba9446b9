"""The console: failures first, whole counts, colour only on a terminal, JSON for scripts, no litter."""

from __future__ import annotations

import io
import json
import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest

from conformance.client.secrets import Redactor
from conformance.reporting.console import FAILURES_SHOWN, ConsoleProgress, Screen, render_summary, screen_for
from conformance.reporting.terminal import GuardedStream
from tests.conformance.reporting.builders import Scenario
from tests.conftest import _clean_env

SGR = re.compile(r"\x1b\[([0-9;]*)m")  # a colour or a style (bold, dim)


def colours(text: str) -> list[str]:
    """The SGR sequences that set a colour (30-49, 90-107); NO_COLOR leaves bold and dim alone."""
    return [
        match.group(0)
        for match in SGR.finditer(text)
        if any(p.isdigit() and (30 <= int(p) <= 49 or 90 <= int(p) <= 107) for p in match.group(1).split(";"))
    ]


ANY_ESCAPE = re.compile(r"\x1b")
# A quick run: one operation through Schemathesis, whose Hypothesis would write its files. Other
# contract rules go unevaluated (exit 1): what is printed is under test here, not the verdict.
QUICK_RUN = ("--reference", "--profile", "quick", "--classes", "contract", "--operation", "getEngineInfo")


def test_failures_lead_with_expected_vs_actual_then_errors_table_and_verdict() -> None:
    labels = ["GET /worlds", "GET /engine", "GET /runtimes", "GET /events", "GET /engine/plugins"]
    result = Scenario(
        failures=[("P2-PRO-004", label, f"No ETag on {label}") for label in labels],
        unevaluated=("P2-SEM-003",),
    ).build()
    text = render_summary(result, "reports/x")
    lines = text.splitlines()
    assert text.index("Failed requirements: 1") < text.index("Errors: ") < text.index("class ") < text.index("Verdict:")
    assert lines[-1].startswith("Verdict: FAIL (exit 1)")
    shown = [line for line in lines if line.startswith("         - GET ")]
    assert len(shown) == FAILURES_SHOWN
    for line in shown:  # expected and actual on the failure's own line
        assert re.match(r"         - (GET \S+): No ETag on \1: the target answered ", line), line
    more = next(line for line in lines if "more in report.html" in line)
    assert more == f"         - and {len(labels) - FAILURES_SHOWN} more in report.html", "the count is whole"
    assert "1 requirement not verified because not evaluated: no check reached it in this run: P2-SEM-003" in text


def test_every_reproduction_is_printed_whole() -> None:
    result = Scenario(failures=[("P2-CON-003", "GET /worlds", "bad")]).build()
    curl = next(f.curl for f in result.failures() if f.curl)
    assert curl is not None
    assert f"reproduce: {curl}" in render_summary(result, "x")


def test_plain_when_not_a_terminal_and_escaped_through_the_guard() -> None:
    sink = io.StringIO()
    guarded = GuardedStream(sink, Redactor(["s3cr3t-value-123456"]))
    screen = screen_for(guarded)
    assert not screen.console.is_terminal
    screen.line(("Verdict: PASS", "bold green"), " token s3cr3t-value-123456 \x1b]0;pwned\x07")
    written = sink.getvalue()
    assert not ANY_ESCAPE.search(written), repr(written)
    assert "s3cr3t-value-123456" not in written and "\\x1b]0;pwned\\x07" in written


def test_progress_counts_eta_and_budget_left() -> None:
    sink = io.StringIO()
    progress = ConsoleProgress(screen=Screen(screen_for(sink).console))
    progress.start(4)
    progress.item_done("test_contract[GET /worlds]", "passed", 0.5, 90.0)
    progress.item_done("test_scenario[check_etag]", "failed", 0.2, 89.0)
    status = progress.status()
    assert status.startswith("2/4 · 1 failed · ETA ")
    assert status.endswith(" · 89s of the budget left")
    eta = progress.eta()
    assert eta is not None and 0 <= eta <= 89.0
    assert "  [  2/4] FAIL  test_scenario[check_etag] (0.2s, 89s of the budget left)" in sink.getvalue()


def _in_a_terminal(command: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Run `command` with a pseudo-terminal as its stdout and stderr; its exit code and output."""
    controller, terminal = pty.openpty()
    process = subprocess.Popen(command, stdin=terminal, stdout=terminal, stderr=terminal, env=env, cwd=cwd)
    os.close(terminal)
    chunks = []
    while True:
        try:
            chunk = os.read(controller, 65536)
        except OSError:  # the terminal closed: the child is gone
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(controller)
    return process.wait(timeout=300), b"".join(chunks).decode("utf-8", "replace")


def _command(report_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "conformance", "run", *QUICK_RUN, "--report-dir", str(report_dir), *extra]


def test_colour_on_a_terminal_none_with_no_color(tmp_path: Path) -> None:
    env = {k: v for k, v in _clean_env(None).items() if k not in ("NO_COLOR", "FORCE_COLOR", "TERM")}
    code, coloured = _in_a_terminal(_command(tmp_path / "a"), {**env, "TERM": "xterm-256color"}, tmp_path)
    assert code in (0, 1), coloured[-3000:]
    assert colours(coloured), "colour on a terminal"
    assert "Verdict: " in coloured
    code, plain = _in_a_terminal(_command(tmp_path / "b"), {**env, "TERM": "xterm-256color", "NO_COLOR": "1"}, tmp_path)
    assert code in (0, 1), plain[-3000:]
    assert not colours(plain), "NO_COLOR: no colour, even on a terminal"
    assert "Verdict: " in plain


def test_json_for_scripts_plain_when_piped_and_nothing_left_behind(tmp_path: Path) -> None:
    started_in = tmp_path / "started-here"
    started_in.mkdir()
    report = tmp_path / "report"
    env = {k: v for k, v in _clean_env(None).items() if k not in ("NO_COLOR", "HYPOTHESIS_STORAGE_DIRECTORY")}
    completed = subprocess.run(
        _command(report, "--format", "json"), capture_output=True, text=True, timeout=300, env=env, cwd=started_in
    )
    assert completed.returncode in (0, 1), completed.stderr[-3000:]
    document = json.loads(completed.stdout)  # stdout holds the summary and nothing else
    assert document == json.loads((report / "summary.json").read_text(encoding="utf-8"))
    assert document["exit_code"] == completed.returncode
    assert f"Verdict: {document['verdict'].upper()}" in completed.stderr and "collected " in completed.stderr
    assert not ANY_ESCAPE.search(completed.stdout + completed.stderr), "piped: no colour, no cursor moves"
    assert sorted(os.listdir(started_in)) == [], "a run leaves nothing in the directory it was started from"


@pytest.mark.parametrize("value", ["text", "yaml"])
def test_format_flag(value: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from conformance.cli import build_parser

    if value == "text":
        assert build_parser().parse_args(["run"]).output_format == "text"
        return
    with pytest.raises(SystemExit) as exit_info:
        build_parser().parse_args(["run", "--format", value])
    assert exit_info.value.code == 2
    assert capsys.readouterr().err.count("\n") == 1
