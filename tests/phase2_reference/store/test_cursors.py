"""Opaque, MAC-protected pagination cursors."""

from __future__ import annotations

import re

import pytest

from phase2_reference.store.cursors import CursorCodec, InvalidCursor


def test_round_trip_and_shape() -> None:
    codec = CursorCodec(b"secret")
    cursor = codec.encode("worlds", 42)
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,256}", cursor)
    assert "=" not in cursor
    assert codec.decode("worlds", cursor) == 42


@pytest.mark.parametrize("bad", ["", "x", "!!!!", "eyJzIjoxfQ", "A" * 28, "A" * 300])
def test_garbage_is_refused(bad: str) -> None:
    with pytest.raises(InvalidCursor):
        CursorCodec(b"secret").decode("worlds", bad)


def test_tampering_another_list_and_another_key_are_refused() -> None:
    codec = CursorCodec(b"secret")
    cursor = codec.encode("events", 7)
    for position in range(len(cursor)):
        changed = cursor[:position] + ("B" if cursor[position] != "B" else "C") + cursor[position + 1 :]
        with pytest.raises(InvalidCursor):
            codec.decode("events", changed)
    with pytest.raises(InvalidCursor):
        codec.decode("runtimes", cursor)
    with pytest.raises(InvalidCursor):
        CursorCodec(b"other").decode("events", cursor)
