"""An operation's cases a few at a time: every case submitted is sent, side by side, drawing at most
`lanes` cases ahead, and an error of one case ends the item."""

from __future__ import annotations

import threading

import pytest

from conformance.runner.case_lanes import CaseLanes

PATIENCE = 30.0  # seconds an event-driven wait may take on a saturated machine before it is a failure


def test_one_lane_sends_each_case_before_the_next_is_drawn() -> None:
    sent: list[tuple[int, str]] = []
    with CaseLanes(lambda case: sent.append((case, threading.current_thread().name)), 1) as lanes:
        for case in range(4):
            lanes.submit(case)
            assert sent[-1][0] == case  # already sent when `submit` returns
    assert {name for _, name in sent} == {threading.current_thread().name}


def test_every_case_is_sent_side_by_side_and_drawing_stays_within_the_lanes() -> None:
    in_flight = threading.Barrier(3)  # passes only with three cases on the network at once
    sent: list[int] = []
    lock = threading.Lock()

    def send(case: int) -> None:
        if case < 3:
            in_flight.wait(PATIENCE)
        with lock:
            sent.append(case)

    with CaseLanes(send, 3) as lanes:
        for case in range(20):
            lanes.submit(case)
        assert lanes.submitted == 20
    assert sorted(sent) == list(range(20))  # leaving the lanes waited for the last of them


def test_an_error_of_one_case_is_raised_by_the_next_submit_and_on_leaving() -> None:
    failed = threading.Event()

    def send(case: int) -> None:
        if case == 0:
            failed.set()
            raise ConnectionError("the target went away")

    lanes = CaseLanes(send, 2)
    lanes.submit(0)
    assert failed.wait(PATIENCE)
    with pytest.raises(ConnectionError):
        lanes.drain()
    # Every later case meets the same error, as Hypothesis replaying a case would; so does leaving.
    with pytest.raises(ConnectionError, match="went away"):
        lanes.submit(1)
    with pytest.raises(ConnectionError):
        _leave(lanes)


def _leave(lanes: CaseLanes) -> None:
    with lanes:
        pass
