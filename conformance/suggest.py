"""'Did you mean …?': the closest known spelling of a value the user mistyped."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def closest(word: str, choices: Iterable[str]) -> str | None:
    """The known choice nearest to `word`, compared without case; None when nothing is close."""
    by_folded = {choice.casefold(): choice for choice in choices}
    matches = difflib.get_close_matches(word.casefold(), list(by_folded), n=1, cutoff=0.6)
    return by_folded[matches[0]] if matches else None


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A clause to end an error line with: '; did you mean X?', or '' when nothing is close."""
    match = closest(word, choices)
    return f"; did you mean {match}?" if match else ""
