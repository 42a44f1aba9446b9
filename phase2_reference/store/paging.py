"""Keyset pagination over the internal sequence: stable under concurrent inserts and deletes.

A page is read as `seq > last-seen ORDER BY seq LIMIT limit + 1`; the extra row only says
whether a next page exists. New rows always get larger sequences and deleted rows leave no
shifted offsets, so a walk sees every row that existed throughout it exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from phase2_reference.shared.jsonutil import dumps
from phase2_reference.store.cursors import CursorCodec
from phase2_reference.testing.faults import ActiveFaults

MAX_PAGE = 100


@dataclass(frozen=True, slots=True)
class Page:
    items: list[bytes]  # each item's JSON
    next_cursor: str | None

    def body(self) -> bytes:
        cursor = dumps(self.next_cursor)
        return b'{"items":[' + b",".join(self.items) + b'],"next_cursor":' + cursor + b"}"


def effective_limit(limit: int, faults: ActiveFaults) -> int:
    return MAX_PAGE if faults.active("limit-ignored") else limit


def make_page(
    kind: str, rows: Sequence[tuple[int, bytes]], limit: int, codec: CursorCodec, faults: ActiveFaults
) -> Page:
    """`rows` are (sequence, json) pairs, at most limit + 1 of them."""
    shown = list(rows[:limit])
    next_cursor = None
    if len(rows) > limit and shown:
        position = shown[-1][0]
        if faults.active("pagination-skips"):
            position = rows[limit][0]
        elif faults.active("pagination-repeats"):
            position -= 1
        next_cursor = codec.encode(kind, position)
    return Page([item for _, item in shown], next_cursor)
