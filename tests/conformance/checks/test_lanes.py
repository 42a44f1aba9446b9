"""Lanes within one item: calls side by side, results in order, the caller's context carried along,
and a sequential run left sequential."""

from __future__ import annotations

import threading
from contextvars import ContextVar

import pytest

from conformance.checks.lanes import ITEM_LANES, each, lanes_for

PATIENCE = 30.0  # seconds an event-driven wait may take on a saturated machine before it is a failure

_ITEM: ContextVar[str | None] = ContextVar("test_lanes_item", default=None)


def test_one_worker_means_one_lane_and_many_workers_a_bounded_number() -> None:
    assert lanes_for(1) == 1
    assert lanes_for(0) == 1
    assert lanes_for(2) == 2
    assert lanes_for(64) == ITEM_LANES


def test_the_calls_of_one_lane_run_in_the_caller_thread_in_order() -> None:
    seen: list[tuple[int, str]] = []

    def call(number: int) -> int:
        seen.append((number, threading.current_thread().name))
        return number * 2

    assert each(call, range(5), lanes=1) == [0, 2, 4, 6, 8]
    assert seen == [(number, threading.current_thread().name) for number in range(5)]


def test_calls_run_side_by_side_and_their_results_keep_the_items_order() -> None:
    # Each call waits for all the others to be in flight: it can only pass if they run at once.
    barrier = threading.Barrier(4)

    def call(number: int) -> int:
        barrier.wait(PATIENCE)
        return number + 100

    assert each(call, [3, 1, 2, 0], lanes=4) == [103, 101, 102, 100]


def test_the_calls_carry_the_callers_context() -> None:
    # The item failures belong to and its deadline are context variables of the calling thread.
    token = _ITEM.set("item-a")
    try:
        assert each(lambda _: _ITEM.get(), range(6), lanes=3) == ["item-a"] * 6
    finally:
        _ITEM.reset(token)


def test_the_first_failing_call_is_raised_once_the_others_ended() -> None:
    ended: list[int] = []
    release = threading.Event()

    def call(number: int) -> int:
        if number == 1:
            raise LookupError("the second call failed")
        if number == 0:
            release.wait(PATIENCE)  # still running when the second fails
        ended.append(number)
        return number

    def fail_then_release(number: int) -> int:
        try:
            return call(number)
        finally:
            if number == 1:
                release.set()

    with pytest.raises(LookupError, match="second call"):
        each(fail_then_release, [0, 1], lanes=2)
    assert ended == [0]  # the call in flight was waited for, not abandoned
