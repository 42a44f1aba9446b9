"""What reaches a terminal: a target's control characters are shown, never executed; secrets masked."""

from __future__ import annotations

import io

import pytest

from conformance.client.secrets import Redactor
from conformance.reporting.terminal import GuardedStream, escape_controls, escape_line

SECRET = "client-secret-that-must-not-print"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("\x1b[32mPASSED\x1b[0m", "\\x1b[32mPASSED\\x1b[0m"),  # a fake green verdict
        ("\x1b]0;owned\x07", "\\x1b]0;owned\\x07"),  # retitles the window
        ("bell\x00\x7f\x9b", "bell\\x00\\x7f\\x9b"),  # NUL, DEL, a C1 control sequence introducer
        ("abc\u202edef", "abc\\u202edef"),  # right-to-left override reorders what is shown
        ("\u2066isolate\u2069", "\\u2066isolate\\u2069"),
        ("plain text, ünïcode ✓", "plain text, ünïcode ✓"),
    ],
)
def test_controls_are_written_as_visible_escapes(raw: str, shown: str) -> None:
    assert escape_controls(raw) == shown
    assert escape_line(raw) == shown


def test_line_breaks_and_tabs_stay_in_text_but_not_in_one_line() -> None:
    assert escape_controls("a\nb\tc\rd") == "a\nb\tc\\x0dd"
    assert escape_line("a\nb\tc\rd") == "a\\x0ab\\x09c\\x0dd"


def test_a_guarded_stream_masks_then_escapes_what_is_written() -> None:
    sink = io.StringIO()
    stream = GuardedStream(sink, Redactor([SECRET]))
    written = stream.write(f"token {SECRET}\x1b[2J\n")
    assert written == len(f"token {SECRET}\x1b[2J\n")
    assert SECRET not in sink.getvalue()
    assert "\x1b" not in sink.getvalue() and "\\x1b[2J\n" in sink.getvalue()
    assert stream.isatty() is False
