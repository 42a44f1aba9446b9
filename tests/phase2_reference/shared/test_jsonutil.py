"""Strict JSON parsing of request bodies and compact output."""

from __future__ import annotations

import pytest

from phase2_reference.shared.jsonutil import MAX_DEPTH, MalformedJSON, dumps, loads_strict


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


@pytest.mark.parametrize(("opening", "closing"), [(b'{"a":', b"}"), (b"[", b"]")])
def test_every_depth_is_read_or_refused_as_malformed(opening: bytes, closing: bytes) -> None:
    # Regression (found by benchmarks/malformed_fuzz.py): Python's parser gives up near the recursion
    # limit, but re-encoding a body with a \u escape recursed a little deeper, so a body just under
    # the parser's limit raised RecursionError, a 500. Now nothing past MAX_DEPTH gets that far.
    for depth in range(1, 1200):
        raw = opening * depth + b'"\\u0041"' + closing * depth
        try:
            loads_strict(raw)
        except MalformedJSON:
            assert depth > MAX_DEPTH
        else:
            assert depth <= MAX_DEPTH
