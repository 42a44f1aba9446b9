"""JSON in and out: compact UTF-8 output, and strict parsing of request bodies.

Strict means what RFC 8259 allows and nothing more: no NaN or Infinity, valid UTF-8, and no
lone surrogate escapes (they cannot be stored or sent back as UTF-8). It also refuses nesting
deeper than `MAX_DEPTH` (RFC 8259 §9 lets a parser limit it): whatever recurses over a parsed
body afterwards (re-encoding, the jsonschema package quoting an invalid value) would otherwise hit
Python's recursion limit a few levels below where the parser did, and answer 500.
"""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 64  # no body of the contract nests beyond four levels


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
    # Only a text with that many brackets can nest that deep: counting them is nearly free.
    if text.count("{") + text.count("[") > MAX_DEPTH and _nests_deeper(document, MAX_DEPTH):
        raise MalformedJSON(f"The body nests deeper than {MAX_DEPTH} levels.")
    if "\\u" in text or "\\U" in text:
        try:
            dumps(document)
        except UnicodeEncodeError as exc:
            raise MalformedJSON("The body holds an unpaired surrogate escape.") from exc
    return document


def _nests_deeper(document: Any, limit: int) -> bool:
    """Whether objects and arrays nest more than `limit` levels deep, walked without recursion."""
    pending: list[tuple[Any, int]] = [(document, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, dict):
            children: Any = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False
