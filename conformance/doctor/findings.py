"""What the doctor found: one `Finding` per line, and the exit code they add up to.

    ✓ base path: http://127.0.0.1:8080/v2/healthz answered 200
    ✗ test issuer: a valid token of the suite's test issuer was refused (401) → fix: ...

A finding is fatal when the target is unusable (exit 3); any other ✗ means a full run could not
verify every MUST requirement (exit 1); all ✓ is exit 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from conformance.client.secrets import Redactor
from conformance.errors import ExitCode
from conformance.reporting.terminal import escape_line

OK_MARK = "✓"
FAIL_MARK = "✗"
MAX_LINE = 400  # characters of one item's text: a hostile target must not flood the terminal


@dataclass(frozen=True)
class Finding:
    name: str
    ok: bool
    detail: str
    fix: str = ""
    fatal: bool = False  # the target is unusable: nothing after it can be judged
    requirements: tuple[str, ...] = ()  # what a full run could not verify because of it


def ok(name: str, detail: str) -> Finding:
    return Finding(name, True, detail)


def failed(name: str, detail: str, fix: str, requirements: Iterable[str] = (), *, fatal: bool = False) -> Finding:
    return Finding(name, False, detail, fix, fatal, tuple(requirements))


def printable(text: str) -> str:
    """One line, with control characters shown as escapes rather than acted on, and bounded."""
    # The console's own escaping: a terminal must not act on the target's control characters.
    escaped = escape_line(" ".join(text.split()))
    return escaped if len(escaped) <= MAX_LINE else escaped[: MAX_LINE - 1] + "…"


def render(finding: Finding, redactor: Redactor) -> str:
    text = f"{finding.name}: {finding.detail}"
    if not finding.ok and finding.fix:
        text += f" → fix: {finding.fix}"
    return f"{OK_MARK if finding.ok else FAIL_MARK} {printable(redactor.text(text))}"


def exit_code(findings: Iterable[Finding]) -> ExitCode:
    findings = list(findings)
    if any(f.fatal for f in findings):
        return ExitCode.TARGET
    if any(not f.ok for f in findings):
        return ExitCode.NONCONFORMANCE
    return ExitCode.CONFORMS
