"""Strict JSON parsing of request bodies and compact output."""

from __future__ import annotations

import pytest

from phase2_reference.jsonutil import MalformedJSON, dumps, loads_strict


def test_dumps_is_compact_utf8() -> None:
    assert dumps({"a": "ü", "b": [1, None]}) == '{"a":"ü","b":[1,null]}'.encode()


def test_valid_documents() -> None:
    assert loads_strict(b'{"name": "\\u00fc\\ud83d\\ude00"}') == {"name": "ü😀"}


@pytest.mark.parametrize(
    "raw",
    [
        b"\xff",
        b'"\xc3"',
        b"NaN",
        b"[-Infinity]",
        b"\xef\xbb\xbf{}",
        b"{",
        b"[" * 50_000,
        b'"\\udc00"',
        b"1" * 5000,
        b"",
    ],
)
def test_not_strict_json(raw: bytes) -> None:
    with pytest.raises(MalformedJSON):
        loads_strict(raw)
