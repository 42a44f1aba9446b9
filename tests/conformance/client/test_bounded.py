"""`bounded`: decoding under a cap (stacked codings, bombs, broken streams), JSON depth, local files."""

from __future__ import annotations

import gzip
import time
import zlib

import pytest

from conformance.client import bounded


def test_codings_are_undone_outermost_first_and_chunk_by_chunk() -> None:
    body = gzip.compress(zlib.compress(b"payload"))
    decoder = bounded.Decoder("deflate, gzip")
    decoded = b"".join(decoder.feed(body[i : i + 3]) for i in range(0, len(body), 3)) + decoder.flush()
    assert decoded == b"payload"
    assert bounded.decode(zlib.compress(b"raw")[2:-4], "deflate") == b"raw", "raw deflate, as browsers accept"
    assert bounded.decode(gzip.compress(b"one ") + gzip.compress(b"two"), "gzip") == b"one two"
    assert bounded.decode(b"kept as sent", "br") == b"kept as sent", "an unknown coding is not decoded"


def test_a_bomb_stops_at_the_cap_not_at_its_size() -> None:
    bomb = gzip.compress(gzip.compress(bytes(64 * 1024 * 1024)))
    with pytest.raises(bounded.LimitExceeded, match="decodes to more than 1000 bytes"):
        bounded.decode(bomb, "gzip, gzip", max_bytes=1000)
    with pytest.raises(bounded.LimitExceeded, match="content codings stacked"):
        bounded.Decoder("gzip, gzip, gzip, gzip")


def test_a_broken_or_truncated_stream_is_refused() -> None:
    with pytest.raises(bounded.LimitExceeded, match="not valid gzip"):
        bounded.decode(b"not gzip at all", "gzip")
    with pytest.raises(bounded.LimitExceeded, match="ends before"):
        bounded.decode(gzip.compress(b"abcdef" * 100)[:-12], "gzip")


def test_json_depth_counts_arrays_and_objects_but_not_strings() -> None:
    assert not bounded.json_depth_exceeds(b'{"a": "[[[[[[[[[[[[[[[[[[[["}', 3)
    assert not bounded.json_depth_exceeds(b'[{"a": [1]}, {"b": [2]}]', 3)
    assert bounded.json_depth_exceeds(b'[{"a": [[1]]}]', 3)
    assert bounded.json_depth_exceeds(b"[" * 1_000_000 + b"]" * 1_000_000)
    with pytest.raises(ValueError, match="nested deeper"):
        bounded.loads(b"[" * 100_000)
    assert bounded.loads('{"ok": [1, 2]}') == {"ok": [1, 2]}


def test_json_depth_is_measured_in_linear_time_whatever_the_quotes() -> None:
    # `"\"\"\"...` never closes: a backtracking string pattern retried it from every quote, so
    # 80 KB took 50 s of CPU and a body at the 8 MiB cap days. Measured on this process's CPU clock.
    crafted = b"[]" * 300 + b'"' + b'\\"' * (4 * 1024 * 1024)
    started = time.process_time()
    assert not bounded.json_depth_exceeds(crafted)
    assert time.process_time() - started < 20
