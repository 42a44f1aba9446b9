"""docs/runbook.md is executable: every `bash` block runs, in order, as one terminal session would.

Sybil (a documentation-testing library) finds the fenced blocks; each ```bash block runs in
`bash -euo pipefail` from the repository root, with the environment the blocks before it exported
(as in a reader's terminal), so a flag or endpoint that changed breaks the build. Each ```json
block right after a bash block is the response that command prints: its shape (keys and value
types, recursively) must be the shape of the real response, so a changed payload breaks it too.
Servers a block starts in the background live until the end of the document, then are stopped.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser

REPO = Path(__file__).resolve().parents[2]
RUNBOOK = REPO / "docs" / "runbook.md"
BLOCK_TIMEOUT = 180.0  # seconds one block may take: the longest runs the smoke profile and the doctor


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Terminal:
    """The reader's shell: its environment carries over from block to block."""

    env: dict[str, str]
    workdir: Path
    groups: list[int] = field(default_factory=list)  # process groups of the blocks, stopped at the end
    last_output: str = ""
    blocks: int = 0

    def run(self, source: str, line: int) -> None:
        state = self.workdir / "env.json"
        dump = f"python3 -c \"import json, os; json.dump(dict(os.environ), open({str(state)!r}, 'w'))\""
        script = f"set -euo pipefail\n{source}\n{dump}\n"
        process = subprocess.Popen(
            ["bash", "-c", script],
            cwd=REPO,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # background servers it starts stay in this group
        )
        self.groups.append(process.pid)
        try:
            output, _ = process.communicate(timeout=BLOCK_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            raise AssertionError(f"runbook.md line {line}: the block did not finish in {BLOCK_TIMEOUT:g}s") from None
        self.blocks += 1
        if process.returncode != 0:
            raise AssertionError(
                f"runbook.md line {line}: the block exited {process.returncode}\n{source}\n"
                f"--- output ---\n{output[-4000:]}"
            )
        self.env = json.loads(state.read_text())
        self.last_output = output

    def close(self) -> None:
        for group in self.groups:
            try:
                os.killpg(group, signal.SIGTERM)
            except ProcessLookupError:
                continue


def _shape(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _shape(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    if value is None:
        return None
    return type(value).__name__


def _same_shape(documented: Any, actual: Any, where: str = "$") -> list[str]:
    if documented is None or actual is None:
        return []  # a null is a value whose type the example cannot show (e.g. next_cursor at the end)
    if isinstance(documented, dict) and isinstance(actual, dict):
        problems = [f"{where}: documented keys {sorted(documented)} but the server sent {sorted(actual)}"]
        if set(documented) != set(actual):
            return problems
        return [p for key in documented for p in _same_shape(documented[key], actual[key], f"{where}.{key}")]
    if isinstance(documented, list) and isinstance(actual, list):
        if not documented or not actual:
            return []
        return _same_shape(documented[0], actual[0], f"{where}[0]")
    if documented != actual and {documented, actual} != {"int", "float"}:
        return [f"{where}: documented a {documented}, the server sent a {actual}"]
    return []


def _last_json(output: str) -> Any:
    for line in reversed(output.strip().splitlines()):
        try:
            return json.loads(line)
        except ValueError:
            continue
    raise AssertionError(f"the command before this response printed no JSON:\n{output[-2000:]}")


def evaluate_bash(example: Example) -> None:
    terminal: Terminal = example.namespace["terminal"]
    terminal.run(example.parsed, example.line)


def evaluate_json(example: Example) -> None:
    terminal: Terminal = example.namespace["terminal"]
    documented = _shape(json.loads(example.parsed))
    actual = _shape(_last_json(terminal.last_output))
    problems = _same_shape(documented, actual)
    assert not problems, f"runbook.md line {example.line}: " + "; ".join(problems)


RUNBOOK_SYBIL = Sybil(parsers=[CodeBlockParser("bash", evaluate_bash), CodeBlockParser("json", evaluate_json)])


@pytest.fixture
def terminal(tmp_path: Path) -> Any:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PHASE2_", "OTEL_"))}
    # The console scripts of this interpreter's environment, activated or not.
    env["PATH"] = os.pathsep.join((str(Path(sys.executable).parent), env.get("PATH", "")))
    # The reader picks their ports; the test takes free ones so it runs beside anything else.
    env.update(PORT=str(free_port()), ISSUER_PORT=str(free_port()), OTLP_PORT=str(free_port()))
    env["REPORTS"] = str(tmp_path / "reports")
    shell = Terminal(env, tmp_path)
    yield shell
    shell.close()


def test_every_example_of_the_runbook_runs(terminal: Terminal) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed to run the runbook's examples (.ci/run installs it)")
    document = RUNBOOK_SYBIL.parse(RUNBOOK)
    document.namespace["terminal"] = terminal
    examples = list(document.examples())
    assert examples, "runbook.md has no examples"
    for example in examples:
        example.evaluate()
    assert terminal.blocks >= 10, "fewer bash blocks ran than the runbook should have"


def _evaluate(markdown: str, tmp_path: Path, terminal: Terminal) -> None:
    page = tmp_path / "page.md"
    page.write_text(markdown, encoding="utf-8")
    document = RUNBOOK_SYBIL.parse(page)
    document.namespace["terminal"] = terminal
    for example in document.examples():
        example.evaluate()


def test_a_changed_flag_breaks_the_build(tmp_path: Path, terminal: Terminal) -> None:
    with pytest.raises(AssertionError, match="exited 2"):
        _evaluate("```bash\nphase2-conformance run --profile smoke --no-such-flag\n```\n", tmp_path, terminal)


def test_a_changed_payload_breaks_the_build(tmp_path: Path, terminal: Terminal) -> None:
    page = '```bash\necho \'{"status": "ok", "uptime_seconds": 3}\'\n```\n\n```json\n{{}}\n```\n'
    _evaluate(page.replace("{{}}", '{"status": "ok", "uptime_seconds": 1.5}'), tmp_path, terminal)
    with pytest.raises(AssertionError, match="documented keys"):
        _evaluate(page.replace("{{}}", '{"status": "ok", "uptime": 1}'), tmp_path, terminal)
    with pytest.raises(AssertionError, match="documented a str"):
        _evaluate(page.replace("{{}}", '{"status": "ok", "uptime_seconds": "3"}'), tmp_path, terminal)


def test_exports_carry_over_from_block_to_block(tmp_path: Path, terminal: Terminal) -> None:
    _evaluate('```bash\nexport GREETING=hello\n```\n\n```bash\ntest "$GREETING" = hello\n```\n', tmp_path, terminal)
    assert terminal.env["GREETING"] == "hello"
