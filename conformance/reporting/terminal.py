"""What reaches a terminal: target-controlled text shown, never executed.

A target's answers reach the console (failure titles, reproduction commands, error reasons). A
control character in them would be executed by the terminal: an escape sequence can retitle the
window, clear the screen, move the cursor and print a fake green verdict over the real one. Every
C0 and C1 control (but the line break and the tab), DEL and the bidirectional overrides that
reorder what is shown are written as visible escapes (`\\x1b`, `\\u202e`) instead.

`GuardedStream` is how the CLI writes: every write is masked by the run's redactor, then escaped.
"""

from __future__ import annotations

import io
import re
from typing import TextIO

from conformance.client.secrets import Redactor

_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# For one line of output: a line break inside it would start a line the target wrote.
_CONTROL_IN_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def escape_controls(text: str) -> str:
    """`text` with every control character but `\\n` and `\\t` written as a visible escape."""
    return _CONTROL.sub(_visible, text)


def escape_line(text: str) -> str:
    """One line of output: every control character, line breaks and tabs included, made visible."""
    return _CONTROL_IN_LINE.sub(_visible, text)


class GuardedStream(io.TextIOBase):
    """A text stream that masks secrets and escapes control characters in whatever is written."""

    def __init__(self, stream: TextIO, redactor: Redactor) -> None:
        super().__init__()
        self.stream = stream
        self.redactor = redactor

    def write(self, text: str) -> int:
        self.stream.write(escape_controls(self.redactor.text(text)))
        return len(text)

    def flush(self) -> None:
        self.stream.flush()

    def isatty(self) -> bool:
        return self.stream.isatty()

    def fileno(self) -> int:
        return self.stream.fileno()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.stream.encoding
