"""Cursor pagination: walking a list page by page, and judging what a walk saw.

The walker is pure over a `fetch(limit, cursor) -> Page` function, so its judgement is tested with
canned pages; `list_fetcher` binds it to a list operation of the target.

Walks of long lists start from an *anchor*: a cursor found by a coarse walk (limit 100, then 10)
shortly before the items a scenario created. The contract makes a cursor "the next_cursor of the
previous page" and `limit` a per-request parameter, so a cursor names a position, whatever the
page size that produced it. Anchoring keeps a walk with limit 1 at a few dozen requests however
many items other checks left in the tenant.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from conformance.client.api_client import ApiClient
from conformance.client.observed import ObservedResponse

MAX_LIMIT = 100
LOCATE_LIMITS = (MAX_LIMIT, 10)
MAX_PAGES = 10_000  # a ceiling on the pages of a scenario's walk, so a list that never ends cannot hang it
# A ceiling on the bytes of pages a walk keeps: pages never ending, each near the body cap, would
# otherwise hold gigabytes before MAX_PAGES or the deadline ends the walk.
MAX_WALK_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class Page:
    items: tuple[Mapping[str, Any], ...]
    next_cursor: str | None
    error: str | None = None  # why this answer is not a usable page
    response: ObservedResponse | None = None

    @property
    def ids(self) -> list[str]:
        return [str(item.get("id")) for item in self.items]


Fetch = Callable[[int, "str | None"], Page]


@dataclass
class Walk:
    limit: int
    start: str | None
    pages: list[Page] = field(default_factory=list)
    complete: bool = False  # the last page said next_cursor null
    problem: str | None = None  # why the walk stopped before its end
    reached: bool = False  # it stopped once it had seen every item it was walking `until`

    @property
    def ids(self) -> list[str]:
        return [item_id for page in self.pages for item_id in page.ids]

    @property
    def last_response(self) -> ObservedResponse | None:
        return self.pages[-1].response if self.pages else None


def walk(
    fetch: Fetch,
    limit: int,
    start: str | None = None,
    *,
    max_pages: int,
    deadline: float | None = None,
    clock: Callable[[], float] = time.monotonic,
    until: Collection[str] = (),
) -> Walk:
    """Follow next_cursor from `start` until it is null (or the walk cannot go on).

    With `until`, the walk also ends once it has seen every one of those ids: what lies beyond
    them is what other clients add meanwhile, which a shared deployment may add without end."""
    result = Walk(limit, start)
    cursor = start
    used: set[str | None] = {start}
    awaited = set(until)
    held = 0
    while True:
        if len(result.pages) >= max_pages:
            result.problem = f"next_cursor was still not null after {max_pages} pages of limit {limit}"
            return result
        if held > MAX_WALK_BYTES:
            result.problem = (
                f"next_cursor was still not null after {len(result.pages)} pages ({held} bytes) of limit {limit}"
            )
            return result
        if deadline is not None and clock() > deadline:
            result.problem = f"the walk with limit {limit} ran out of time after {len(result.pages)} pages"
            return result
        page = fetch(limit, cursor)
        if page.error is not None:
            result.problem = page.error
            return result
        result.pages.append(page)
        held += len(page.response.body) if page.response is not None else 0
        if page.next_cursor is None:
            result.complete = True
            return result
        if awaited:
            awaited.difference_update(page.ids)
            if not awaited:
                result.reached = True
                return result
        if page.next_cursor in used:
            # Following it again would fetch a page already seen, forever.
            result.problem = (
                f"page {len(result.pages)} of the walk with limit {limit} returned a next_cursor "
                "that was already used; the walk would never end"
            )
            return result
        used.add(page.next_cursor)
        cursor = page.next_cursor


def oversized_pages(result: Walk) -> list[str]:
    """Pages holding more items than the limit asked for."""
    return [
        f"page {number} of a walk with limit {result.limit} held {len(page.items)} items"
        for number, page in enumerate(result.pages, 1)
        if len(page.items) > result.limit
    ]


def in_walk_order(result: Walk, expected: Iterable[str]) -> list[str]:
    """The expected ids in the order the walk first saw them."""
    wanted = set(expected)
    seen: list[str] = []
    for item_id in result.ids:
        if item_id in wanted and item_id not in seen:
            seen.append(item_id)
    return seen


Precedes = Callable[[str, str], bool]


@dataclass(frozen=True)
class Creation:
    """Items a scenario created, in the order it sent them, with when each was sent and answered.

    One answered before another was sent is the older, whatever the target's clock says; two
    created at the same time are in no order a client can know (the target orders them as it saw
    them), so a list may show them either way. Created one after the other, every pair is ordered."""

    ids: tuple[str, ...]
    sent: tuple[float, ...]
    answered: tuple[float, ...]

    @cached_property
    def _position(self) -> dict[str, int]:
        return {item_id: index for index, item_id in enumerate(self.ids)}

    def precedes(self, first: str, second: str) -> bool:
        """Whether `first` is known to be older than `second`: answered before it was sent."""
        return self.answered[self._position[first]] < self.sent[self._position[second]]

    def renamed(self, names: Mapping[str, str]) -> Creation:
        """The same creation under other ids (the events that recorded each item's creation)."""
        return Creation(tuple(names[item_id] for item_id in self.ids), self.sent, self.answered)


def walk_problems(result: Walk, expected: Sequence[str], precedes: Precedes | None = None) -> list[str]:
    """How a walk broke 'every item exactly once, in a stable order, with no gaps'.

    `expected` are ids the scenario created, in the order the list must show them (oldest
    first); with `precedes`, only the pairs it orders must be shown in that order (items created
    at the same time may be shown either way). Repeats count for every item; gaps and order only
    for the expected ones, since other clients may add or delete their own items meanwhile.
    """
    problems = []
    label = f"walk with limit {result.limit}"
    if result.problem is not None:
        problems.append(result.problem)
    repeated = sorted(item_id for item_id, count in Counter(result.ids).items() if count > 1)
    if repeated:
        problems.append(f"{label} returned {len(repeated)} item(s) more than once: {', '.join(repeated[:5])}")
    order = in_walk_order(result, expected)
    missing = [item_id for item_id in expected if item_id not in order]
    if missing and result.complete:
        # An unfinished walk already says why; its missing items are a consequence.
        problems.append(
            f"{label} skipped {len(missing)} of the {len(expected)} items created: {', '.join(missing[:5])}"
        )
    if _out_of_order(order, expected, precedes):
        problems.append(f"{label} showed the created items out of creation order: {order[:8]}")
    return problems


def _out_of_order(order: Sequence[str], expected: Sequence[str], precedes: Precedes | None) -> bool:
    """Whether the walk showed a created item before one known to be older than it."""
    if precedes is None:
        return list(order) != [item_id for item_id in expected if item_id in order]
    return any(precedes(later, earlier) for index, earlier in enumerate(order) for later in order[index + 1 :])


def relative_order_differs(first: Sequence[str], second: Sequence[str]) -> bool:
    """Whether the ids both sequences hold appear in a different order in each."""
    common = set(first) & set(second)
    ordered_first = [item_id for item_id in dict.fromkeys(first) if item_id in common]
    return ordered_first != [item_id for item_id in dict.fromkeys(second) if item_id in common]


@dataclass(frozen=True)
class Located:
    found: bool
    cursor: str | None  # the cursor of the page holding the item (None: the first page)
    problem: str | None = None


def locate(
    fetch: Fetch,
    item_id: str,
    *,
    limits: Sequence[int] = LOCATE_LIMITS,
    max_pages: int,
    deadline: float | None = None,
) -> Located:
    """A cursor from which a walk reaches `item_id` within the first page of the finest limit."""
    anchor: str | None = None
    for limit in limits:
        result = _walk_until(fetch, limit, anchor, item_id, max_pages, deadline)
        if not result.found:
            return result
        anchor = result.cursor
    return Located(True, anchor)


def _walk_until(
    fetch: Fetch, limit: int, start: str | None, item_id: str, max_pages: int, deadline: float | None
) -> Located:
    cursor = start
    used: set[str | None] = {start}
    for _ in range(max_pages):
        if deadline is not None and time.monotonic() > deadline:
            return Located(False, None, f"ran out of time looking for item {item_id} with limit {limit}")
        page = fetch(limit, cursor)
        if page.error is not None:
            return Located(False, None, page.error)
        if item_id in page.ids:
            return Located(True, cursor)
        if page.next_cursor is None or page.next_cursor in used:
            return Located(False, None, f"a walk with limit {limit} never showed item {item_id}")
        used.add(page.next_cursor)
        cursor = page.next_cursor
    return Located(False, None, f"item {item_id} not found within {max_pages} pages of limit {limit}")


@dataclass(frozen=True)
class Tail:
    """Where a list ended: the cursor of its last page, and the ids that page held."""

    cursor: str | None
    ids: frozenset[str] = frozenset()
    problem: str | None = None


def tail(fetch: Fetch, start: str | None, *, max_pages: int) -> Tail:
    """The list's last page from `start` on: walking from its cursor later reaches every newer item."""
    cursor = start
    used: set[str | None] = {start}
    for _ in range(max_pages):
        page = fetch(MAX_LIMIT, cursor)
        if page.error is not None:
            return Tail(None, problem=page.error)
        if page.next_cursor is None:
            return Tail(cursor, frozenset(page.ids))
        if page.next_cursor in used:
            return Tail(None, problem="the list returned a next_cursor that was already used")
        used.add(page.next_cursor)
        cursor = page.next_cursor
    return Tail(None, problem=f"the list did not end within {max_pages} pages of {MAX_LIMIT}")


def list_fetcher(api: ApiClient, operation_id: str, filters: Mapping[str, str] | None = None) -> Fetch:
    """Fetch pages of a list operation, turning any answer but a 200 page into `Page.error`."""
    extra = dict(filters or {})

    def fetch(limit: int, cursor: str | None) -> Page:
        response = api.call(operation_id, query={"limit": limit, "cursor": cursor, **extra})
        where = f"{operation_id} (limit={limit}{', with a cursor' if cursor else ''})"
        if response.status != 200:
            return Page((), None, f"{where} answered {response.status}", response)
        return parse_page(response.json_or_none(), where, response)

    return fetch


def parse_page(document: Any, where: str, response: ObservedResponse | None = None) -> Page:
    if not isinstance(document, dict) or not isinstance(document.get("items"), list):
        return Page((), None, f"{where} did not answer a page with items", response)
    items = document["items"]
    if not all(isinstance(item, dict) and isinstance(item.get("id"), str) for item in items):
        return Page((), None, f"{where} answered items without string ids", response)
    next_cursor = document.get("next_cursor")
    if next_cursor is not None and (not isinstance(next_cursor, str) or not next_cursor):
        return Page((), None, f"{where} answered next_cursor {next_cursor!r}", response)
    return Page(tuple(items), next_cursor, None, response)
