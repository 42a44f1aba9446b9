"""JSON in and out: compact UTF-8 output, and strict parsing of request bodies.

Strict means what RFC 8259 allows and nothing more: no NaN or Infinity, valid UTF-8, and no
lone surrogate escapes (they cannot be stored or sent back as UTF-8).
"""

from __future__ import annotations

import json
from typing import Any


class MalformedJSON(ValueError):
    """The body is not a JSON text in UTF-8."""


def dumps(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _reject_constant(name: str) -> Any:
    raise MalformedJSON(f"{name} is not a JSON value")


def loads_strict(raw: bytes) -> Any:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedJSON("The body is not valid UTF-8.") from exc
    try:
        document = json.loads(text, parse_constant=_reject_constant)
    except MalformedJSON:
        raise
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and integers longer than Python will parse.
        raise MalformedJSON("The body is not valid JSON.") from exc
    if "\\u" in text or "\\U" in text:
        try:
            dumps(document)
        except UnicodeEncodeError as exc:
            raise MalformedJSON("The body holds an unpaired surrogate escape.") from exc
    return document
