"""The runtime lifecycle: which changes it allows, and polling a runtime along it."""

from __future__ import annotations

from typing import Any

import pytest

from conformance.classes.shared.lifecycle import NEXT, collapse, off_lifecycle, off_path, reachable, watch_runtime
from conformance.contract import load_contract


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("pending", "starting"),
        ("pending", "running"),
        ("starting", "failed"),
        ("running", "stopped"),
        ("pending", "stopped"),
    ],
)
def test_reachable(start: str, end: str) -> None:
    assert reachable(start, end)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("running", "starting"),
        ("stopped", "running"),
        ("failed", "running"),
        ("running", "failed"),
        ("stopping", "running"),
        ("running", "running"),
    ],
)
def test_unreachable(start: str, end: str) -> None:
    assert not reachable(start, end)


def test_collapse_keeps_the_changes() -> None:
    assert collapse(["pending", "pending", "starting", "running", "running"]) == [
        "pending",
        "starting",
        "running",
    ]


def test_off_lifecycle() -> None:
    assert off_lifecycle(["pending", "pending", "running", "stopping", "stopped"]) is None
    assert off_lifecycle(["pending", "starting", "failed"]) is None
    assert "running to starting" in str(off_lifecycle(["pending", "running", "starting"]))
    assert "not a runtime status" in str(off_lifecycle(["pending", "queued"]))


class FakeApi:
    """getRuntime answering the given statuses in turn (the last one forever)."""

    def __init__(self, statuses: list[str]) -> None:
        self.statuses = statuses
        self.calls = 0

    def call(self, operation_id: str, **_: Any) -> Any:
        status = self.statuses[min(self.calls, len(self.statuses) - 1)]
        self.calls += 1
        return _Response(200, {"id": "r", "status": status})


class _Response:
    def __init__(self, status: int, document: Any) -> None:
        self.status = status
        self.document = document

    def json_or_none(self) -> Any:
        return self.document


def test_watch_stops_at_the_awaited_status() -> None:
    api = FakeApi(["pending", "starting", "running", "stopping"])
    watch = watch_runtime(api, "r", {"running"}, 5.0, sleep=lambda _: None)  # type: ignore[arg-type]
    assert watch.reached == "running"
    assert watch.changes == ["pending", "starting", "running"]


def test_watch_stops_at_a_terminal_status() -> None:
    watch = watch_runtime(FakeApi(["starting", "failed"]), "r", {"running"}, 5.0, sleep=lambda _: None)  # type: ignore[arg-type]
    assert watch.reached == "failed"


def test_watch_gives_up_after_the_timeout() -> None:
    watch = watch_runtime(FakeApi(["starting"]), "r", {"running"}, 0.05)  # type: ignore[arg-type]
    assert watch.reached is None
    assert set(watch.statuses) == {"starting"}


def test_the_lifecycle_is_the_contracts_own() -> None:
    # Read from RuntimeStatus' x-transitions, whose statuses are exactly the enum.
    schema = load_contract().component_schema("RuntimeStatus")
    assert set(NEXT) == set(schema["enum"])
    assert all(set(following) <= set(schema["enum"]) for following in NEXT.values())
    # "pending → starting → running, or ends in failed": failing before it starts is allowed.
    assert "failed" in NEXT["pending"]
    assert "failed" in NEXT["starting"]


def test_off_path_judges_every_recorded_step() -> None:
    assert off_path(["pending", "failed"]) is None
    assert off_path(["pending", "starting", "failed"]) is None
    assert off_path(["pending", "starting", "running", "stopping", "stopped"]) is None
    # Events record every change: a skipped step is a change the lifecycle does not allow.
    assert (
        off_path(["pending", "running"])
        == "the runtime went from pending to running, which the lifecycle does not allow"
    )
    assert off_path(["pending", "starting", "running", "failed"]) is not None
    assert off_path(["pending", "paused"]) == "status 'paused' is not a runtime status"
