"""One lock around `ast.parse` while work items run in threads (a CPython 3.11/3.12 defect).

CPython before 3.13 keeps the AST constructor's recursion depth in interpreter-wide state
(python/cpython gh-106905): two threads building ASTs at once fail with `SystemError: AST
constructor recursion depth mismatch`. Hypothesis parses source in every test it runs (function
digests, the constants of loaded modules) and pytest parses source to format tracebacks, so
concurrent items crash at random. Serialising the parse is cheap (it is cached per function and
module) and is the documented workaround.
"""

from __future__ import annotations

import ast
import sys
import threading
from typing import Any

_LOCK = threading.Lock()
_original_parse = ast.parse


def _locked_parse(*args: Any, **kwargs: Any) -> Any:
    with _LOCK:
        return _original_parse(*args, **kwargs)


def install() -> None:
    """Make `ast.parse` thread-safe for this process (idempotent; nothing to do on 3.13+)."""
    if sys.version_info < (3, 13) and ast.parse is not _locked_parse:
        ast.parse = _locked_parse
