"""A walk's items are created the first alone, the rest side by side, and their order is known pair by pair."""

from __future__ import annotations

import threading
from types import SimpleNamespace
from typing import Any

from conformance.classes.semantic.pagination import create_in_lanes

PATIENCE = 30.0  # seconds an event-driven wait may take on a saturated machine before it is a failure


def _context(workers: int) -> Any:
    return SimpleNamespace(settings=SimpleNamespace(workers=workers))


def test_the_first_item_is_created_alone_and_the_others_side_by_side() -> None:
    # Items 1-4 each wait for the three others of their lane group to be in flight: they can only
    # pass if they are created at once. Item 0 must have ended before any of them started.
    barrier = threading.Barrier(4)
    first_done = threading.Event()
    started_before_first: list[int] = []

    def create_one(index: int) -> str:
        if index == 0:
            first_done.set()
            return "item-0"
        if not first_done.is_set():
            started_before_first.append(index)
        barrier.wait(PATIENCE)
        return f"item-{index}"

    created = create_in_lanes(_context(workers=8), create_one, 5)
    assert created.ids == ("item-0", "item-1", "item-2", "item-3", "item-4")
    assert not started_before_first
    assert all(created.precedes("item-0", other) for other in created.ids[1:])


def test_one_worker_creates_them_one_after_the_other_in_a_total_order() -> None:
    threads: set[str] = set()

    def create_one(index: int) -> str:
        threads.add(threading.current_thread().name)
        return f"item-{index}"

    created = create_in_lanes(_context(workers=1), create_one, 4)
    assert threads == {threading.current_thread().name}
    assert all(
        created.precedes(older, newer)
        for position, older in enumerate(created.ids)
        for newer in created.ids[position + 1 :]
    )
