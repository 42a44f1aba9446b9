"""The runtime lifecycle of the contract, and watching a runtime move along it.

The allowed changes are the contract's own: RuntimeStatus' `x-transitions` in phase2.yaml, which
spells out its words ("`pending → starting → running`, or ends in `failed`"; stopping a live
runtime goes `stopping → stopped`). Nothing here assumes a path the contract does not name.

Polling can miss a short-lived status, so a sequence of observed statuses is judged by
reachability: every change must lead somewhere the lifecycle can go from where it was. The
events record every change, so a sequence of events is judged step by step (`off_path`).
"""

from __future__ import annotations

import itertools
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from conformance.client.api_client import ApiClient
from conformance.client.observed import ObservedResponse
from conformance.contract import load_contract

NEXT: Mapping[str, frozenset[str]] = load_contract().runtime_transitions()
TERMINAL = frozenset({"stopped", "failed"})
FIRST_INTERVAL = 0.02  # seconds; short enough to catch a status that lasts a tenth of a second
MAX_INTERVAL = 0.25


def reachable(start: str, end: str) -> bool:
    """Whether the lifecycle leads from `start` to a different status `end` in one or more steps."""
    frontier, seen = [start], set()
    while frontier:
        for following in NEXT.get(frontier.pop(), frozenset()):
            if following == end:
                return True
            if following not in seen:
                seen.add(following)
                frontier.append(following)
    return False


def collapse(statuses: Sequence[str]) -> list[str]:
    """The statuses without consecutive repeats: the changes a poller saw."""
    changes: list[str] = []
    for status in statuses:
        if not changes or changes[-1] != status:
            changes.append(status)
    return changes


def off_lifecycle(statuses: Sequence[str]) -> str | None:
    """The first change the lifecycle does not allow, described; None when all are allowed."""
    changes = collapse(statuses)
    for status in changes:
        if status not in NEXT:
            return f"status {status!r} is not a runtime status"
    for before, after in itertools.pairwise(changes):
        if not reachable(before, after):
            return f"the runtime went from {before} to {after}, which the lifecycle does not allow"
    return None


def off_path(statuses: Sequence[str]) -> str | None:
    """The first step of a complete record of changes (events) the lifecycle does not allow."""
    for status in statuses:
        if status not in NEXT:
            return f"status {status!r} is not a runtime status"
    for before, after in itertools.pairwise(statuses):
        if after not in NEXT[before]:
            return f"the runtime went from {before} to {after}, which the lifecycle does not allow"
    return None


@dataclass
class Watch:
    """What polling a runtime saw."""

    statuses: list[str] = field(default_factory=list)
    last: Mapping[str, Any] | None = None  # the last representation read
    response: ObservedResponse | None = None  # the last answer
    reached: str | None = None  # the awaited (or terminal) status it stopped at
    error: str | None = None  # why polling could not go on
    hopeless: bool = False  # it ended because the awaited status could no longer come

    @property
    def changes(self) -> list[str]:
        return collapse(self.statuses)


def watch_runtime(
    api: ApiClient,
    runtime_id: str,
    until: Collection[str],
    timeout: float,
    *,
    sleep: Callable[[float], None] = time.sleep,
) -> Watch:
    """Poll getRuntime with backoff until its status is in `until` or terminal, or `timeout` passes.

    A wait that can no longer succeed ends at once, with the reason in `error`: a status outside
    the contract's enum (`RUNNING`), or one from which the lifecycle cannot lead to `until`."""
    watch = Watch()
    deadline = time.monotonic() + timeout
    interval = FIRST_INTERVAL
    while True:
        response = api.call("getRuntime", path={"runtime_id": runtime_id})
        watch.response = response
        document = response.json_or_none()
        if response.status != 200 or not isinstance(document, dict) or not isinstance(document.get("status"), str):
            watch.error = f"getRuntime answered {response.status}"
            return watch
        watch.last = document
        status = document["status"]
        watch.statuses.append(status)
        if status in until or status in TERMINAL:
            watch.reached = status
            return watch
        if status not in NEXT:
            watch.error = f"status {status!r} is not a runtime status of the contract"
            watch.hopeless = True
            return watch
        if not any(reachable(status, wanted) for wanted in until):
            watch.error = f"from {status} the lifecycle cannot lead to {' or '.join(sorted(until))}"
            watch.hopeless = True
            return watch
        if time.monotonic() + interval > deadline:
            return watch
        sleep(interval)
        interval = min(interval * 1.5, MAX_INTERVAL)
