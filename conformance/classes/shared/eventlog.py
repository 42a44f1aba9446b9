"""Reading the events a scenario caused: an anchor taken before the changes, a walk after them.

The anchor is the cursor of the event list's last page at the time, with the ids that page held
(the cursor is kept in the run's shared state, so the next scenario starts its search there
instead of at the first event). Walking from it later shows that page again, minus nothing, plus
every event written since; the ids it held then are left out.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.classes.shared.paging import MAX_LIMIT, MAX_PAGES, list_fetcher, tail, walk

STATE_KEY = "conformance.classes.shared.eventlog.tail"


@dataclass(frozen=True)
class Anchor:
    cursor: str | None
    before: frozenset[str]  # ids of the events the anchor's page already held


def anchor(ctx: ScenarioContext) -> Anchor:
    """Where the event list ends now; blocks the scenario when the list cannot be walked."""
    fetch = list_fetcher(ctx.api, "listEvents")
    start = ctx.resources.state.get(STATE_KEY)
    end = tail(fetch, start, max_pages=MAX_PAGES)
    if end.problem is not None and start is not None:
        # The remembered cursor may have expired on this deployment; start over from the beginning.
        end = tail(fetch, None, max_pages=MAX_PAGES)
    if end.problem is not None:
        ctx.blocked(f"cannot find the end of the event list: {end.problem}")
    ctx.resources.state[STATE_KEY] = end.cursor
    return Anchor(end.cursor, end.ids)


def events_since(ctx: ScenarioContext, since: Anchor) -> tuple[list[Mapping[str, Any]], str | None]:
    """Every event written after the anchor was taken, and why the walk failed, if it did."""
    result = walk(
        list_fetcher(ctx.api, "listEvents"),
        MAX_LIMIT,
        since.cursor,
        max_pages=MAX_PAGES,
        deadline=ctx.deadline,
    )
    items = [item for page in result.pages for item in page.items if str(item.get("id")) not in since.before]
    return items, result.problem


def events_about(ctx: ScenarioContext, since: Anchor, subjects: set[str]) -> list[Mapping[str, Any]]:
    """The events about `subjects` written after the anchor was taken; blocks the scenario when they cannot be read."""
    events, problem = events_since(ctx, since)
    if problem is not None:
        ctx.blocked(f"cannot read the events: {problem}")
    return about(events, subjects)


def about(events: Sequence[Mapping[str, Any]], subjects: Collection[str]) -> list[Mapping[str, Any]]:
    return [event for event in events if event.get("subject") in subjects]


def world_subject(world_id: str) -> str:
    return f"worlds/{world_id}"


def runtime_subject(runtime_id: str) -> str:
    return f"runtimes/{runtime_id}"


def describe(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """Events as 'type subject' lines, for messages."""
    return [f"{event.get('type')} {event.get('subject')}" for event in events]
