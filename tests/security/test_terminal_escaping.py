"""Output that cannot lie: target text reaches a terminal escaped, and reports stay well-formed.

A target (or its provider) that puts escape sequences, bare carriage returns and line breaks in
what the suite prints cannot retitle the terminal, clear it, or print a fake green verdict: every
C0/C1 control is shown (`\\x1b`), and a forged line stays inside the line that carries it. The file
reports keep escaping the same text: report.html under its strict CSP, summary.md, junit.xml.
"""

from __future__ import annotations

import dataclasses
import html
import io
import json
import re
import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

from conformance.client.secrets import Redactor
from conformance.reporting.console import render_summary
from conformance.reporting.terminal import GuardedStream, escape_controls, escape_line
from tests.conformance.reporting.builders import failing_run
from tests.conftest import _clean_env
from tests.security.hostile import CREDENTIALS, HostileDeployment, Reply, Request, deployment, problem, run_against

FAKE_VERDICT = "\x1b[32mVerdict: PASS (exit 0)\x1b[0m"
HOSTILE_TEXT = f"\x1b]0;pwned\x07\x1b[2J\x1b[H\r\n{FAKE_VERDICT}\x9b2J\u202eevil"
RAW_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202e]")


def assert_terminal_safe(stream: str) -> None:
    assert not RAW_CONTROLS.search(stream), repr(stream[:400])
    assert not any(line.lstrip().startswith("Verdict: PASS") for line in stream.splitlines()), stream


def token_endpoint_echoing_hostile_text(hostile: HostileDeployment, request: Request) -> Reply | None:
    if request.path.startswith("/oauth2/token"):
        body = json.dumps({"error": HOSTILE_TEXT}).encode()
        return Reply(400, body, [("Content-Type", "application/json")])
    return None


def test_a_token_endpoint_error_cannot_drive_the_terminal(tmp_path: Path) -> None:
    with deployment(token_endpoint_echoing_hostile_text) as hostile:
        run = run_against(hostile, tmp_path, "--classes", "health")
    assert run.exit_code == 3, run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in lines[0], "shown, not executed"
    assert_terminal_safe(run.stdout + run.stderr)


def test_a_redirecting_preflight_cannot_drive_the_terminal(tmp_path: Path) -> None:
    # HTTP header values may carry C1 controls (obs-text): \x9b is CSI on an 8-bit terminal.
    location = "http://x.example/\x9b2J\x9b1;1H"

    def answer(hostile: HostileDeployment, request: Request) -> Reply | None:
        return Reply(302, b"", [("Location", location)]) if request.path.startswith("/v2/healthz") else None

    with deployment(answer) as hostile:
        run = run_against(hostile, tmp_path, "--classes", "health")
    assert run.exit_code == 3, run.stderr
    assert "\\x9b2J" in run.stderr
    assert_terminal_safe(run.stdout + run.stderr)


def test_the_console_summary_escapes_every_target_string() -> None:
    result = failing_run()
    index = next(i for i, r in enumerate(result.requirements) if r.failures)
    failing = result.requirements[index]
    hostile_failure = dataclasses.replace(failing.failures[0], title=HOSTILE_TEXT, curl=f"curl {HOSTILE_TEXT}")
    requirements = list(result.requirements)
    requirements[index] = dataclasses.replace(failing, failures=(hostile_failure,))
    hostile = dataclasses.replace(result, requirements=tuple(requirements), errors=(HOSTILE_TEXT,), target=HOSTILE_TEXT)
    rendered = render_summary(hostile, "reports")
    assert_terminal_safe(rendered)
    verdict_lines = [line for line in rendered.splitlines() if line.startswith("Verdict:")]
    assert len(verdict_lines) == 1 and verdict_lines[0].startswith("Verdict: FAIL"), verdict_lines
    assert "\\x1b]0;pwned" in rendered


def test_the_cli_streams_escape_and_mask_whatever_is_written() -> None:
    sink = io.StringIO()
    stream = GuardedStream(sink, Redactor(["secret-value-1234"]))
    stream.write(f"progress {HOSTILE_TEXT} secret-value-1234\n")
    written = sink.getvalue()
    assert written.endswith("\n") and "secret-value-1234" not in written
    assert not RAW_CONTROLS.search(written)
    assert escape_controls("a\tb\n") == "a\tb\n" and escape_line("a\nb") == "a\\x0ab"


def reflect_markup(hostile: HostileDeployment, request: Request) -> Reply | None:
    if request.path.startswith("/v2/health") and hostile.tokens:
        markup = "<script>alert(1)</script> ]]> | --- | **bold** \x00\x1b[31m &amp; \u202e"
        return problem(500, markup, **{"X-Markup": "<img src=x onerror=alert(2)>"})
    return None


def test_the_file_reports_escape_hostile_text(tmp_path: Path) -> None:
    with deployment(reflect_markup) as hostile:
        run = run_against(hostile, tmp_path, "--classes", "health")
    assert run.exit_code == 1, run.stderr
    assert_terminal_safe(run.stdout + run.stderr)
    report = run.report_dir
    assert "<script>alert(1)" in json.dumps(run.summary) or "\\u003cscript" in json.dumps(run.summary)
    ElementTree.parse(report / "junit.xml")  # well-formed despite ]]>, NUL and ESC
    page = (report / "report.html").read_text()
    policy = html.unescape(page.split('http-equiv="Content-Security-Policy" content="', 1)[1].split('"', 1)[0])
    assert "default-src 'none'" in policy and "script-src 'sha256-" in policy
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    markdown = (report / "summary.md").read_text()
    assert "<script>alert(1)" not in markdown and "\x1b" not in markdown and "\x00" not in markdown


def test_the_pytest_face_shows_the_same_error_escaped(tmp_path: Path) -> None:
    # `pytest --pyargs conformance.suite` prints through pytest's terminal, not the CLI's guarded
    # streams: the plugin escapes what it hands pytest to show.
    with deployment(token_endpoint_echoing_hostile_text) as hostile:
        target = ("--phase2-base-url", hostile.url + "/v2", "--phase2-classes", "health")
        completed = subprocess.run(
            [sys.executable, "-m", "pytest", "--pyargs", "conformance.suite", "-p", "no:cacheprovider", *target],
            capture_output=True,
            text=True,
            timeout=120,
            env=_clean_env(CREDENTIALS),
            cwd=tmp_path,
        )
    assert completed.returncode == 3, completed.stdout + completed.stderr
    output = completed.stdout + completed.stderr
    assert "\\x1b]0;pwned\\x07\\x1b[2J" in output, "shown, not executed"
    assert_terminal_safe(output)
