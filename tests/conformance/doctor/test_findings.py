"""A doctor line: one line, escaped for the terminal, bounded, secrets masked; the exit code of a list."""

from __future__ import annotations

from conformance.client.secrets import Redactor
from conformance.doctor.findings import MAX_LINE, exit_code, failed, ok, render
from conformance.errors import ExitCode

SECRET = "a-client-secret-value-7f3c"


def test_a_hostile_value_cannot_drive_the_terminal_or_flood_it() -> None:
    detail = "status \x1b[2J\x1b[31mfail\r\nforged ✓ line" + "x" * 5000
    finding = failed("readyz \x1b]0;pwned\x07", detail, "restore it")
    line = render(finding, Redactor())
    assert "\x1b" not in line and "\x07" not in line and "\n" not in line and "\r" not in line
    assert "\\x1b[2J" in line and line.startswith("✗ readyz \\x1b]0;pwned\\x07: status")
    assert len(line) <= MAX_LINE + 2


def test_secrets_are_masked_in_every_line() -> None:
    redactor = Redactor([SECRET])
    line = render(failed("token", f"client refused with {SECRET}", f"check {SECRET}"), redactor)
    assert SECRET not in line and "***" in line


def test_the_fix_shows_only_on_a_cross() -> None:
    assert render(ok("DNS", "resolves"), Redactor()) == "✓ DNS: resolves"
    assert render(failed("TCP", "refused", "check the port"), Redactor()) == "✗ TCP: refused → fix: check the port"


def test_exit_codes() -> None:
    assert exit_code([ok("a", "fine")]) is ExitCode.CONFORMS
    assert exit_code([ok("a", "fine"), failed("b", "no", "fix")]) is ExitCode.NONCONFORMANCE
    assert exit_code([failed("b", "no", "fix"), failed("c", "down", "fix", fatal=True)]) is ExitCode.TARGET
