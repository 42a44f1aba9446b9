"""Keyset pages and the faults that break them."""

from __future__ import annotations

import json

from phase2_reference.store.cursors import CursorCodec
from phase2_reference.store.paging import effective_limit, make_page
from phase2_reference.testing.faults import ActiveFaults

CODEC = CursorCodec(b"k")
ROWS = [(seq, json.dumps({"n": seq}).encode()) for seq in (3, 5, 8)]


def test_a_page_and_its_cursor() -> None:
    page = make_page("worlds", ROWS, 2, CODEC, ActiveFaults())
    assert json.loads(page.body()) == {"items": [{"n": 3}, {"n": 5}], "next_cursor": page.next_cursor}
    assert page.next_cursor is not None
    assert CODEC.decode("worlds", page.next_cursor) == 5
    last = make_page("worlds", ROWS[:2], 2, CODEC, ActiveFaults())
    assert last.next_cursor is None
    assert json.loads(make_page("worlds", [], 2, CODEC, ActiveFaults()).body()) == {
        "items": [],
        "next_cursor": None,
    }


def test_faulty_cursors_and_limits() -> None:
    skips = make_page("worlds", ROWS, 2, CODEC, ActiveFaults.of(["pagination-skips"]))
    assert skips.next_cursor is not None
    assert CODEC.decode("worlds", skips.next_cursor) == 8
    repeats = make_page("worlds", ROWS, 2, CODEC, ActiveFaults.of(["pagination-repeats"]))
    assert repeats.next_cursor is not None
    assert CODEC.decode("worlds", repeats.next_cursor) == 4
    assert effective_limit(5, ActiveFaults()) == 5
    assert effective_limit(5, ActiveFaults.of(["limit-ignored"])) == 100
