"""The pagination walker and its judgements, fed with canned pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from conformance.classes.shared.paging import (
    Creation,
    Page,
    locate,
    oversized_pages,
    parse_page,
    relative_order_differs,
    tail,
    walk,
    walk_problems,
)

ITEMS = [f"item-{n:02d}" for n in range(20)]


def canned(
    ids: list[str], *, skip: bool = False, repeat: bool = False, ignore_limit: bool = False
) -> Callable[[int, str | None], Page]:
    """A list whose cursor is the index of the next item, broken the way a fault would break it."""

    def fetch(limit: int, cursor: str | None) -> Page:
        start = int(cursor) if cursor else 0
        size = 100 if ignore_limit else limit
        shown = ids[start : start + size]
        following = start + len(shown)
        if following >= len(ids):
            return Page(tuple({"id": item} for item in shown), None)
        if skip:
            following += 1
        if repeat:
            following -= 1
        return Page(tuple({"id": item} for item in shown), str(following))

    return fetch


@pytest.mark.parametrize("limit", [1, 2, 7, 100])
def test_a_clean_list_walks_every_item_once(limit: int) -> None:
    result = walk(canned(ITEMS), limit, max_pages=50)
    assert result.complete
    assert result.problem is None
    assert result.ids == ITEMS
    assert walk_problems(result, ITEMS[5:10]) == []
    assert oversized_pages(result) == []


def test_a_skipping_cursor_is_a_gap() -> None:
    result = walk(canned(ITEMS, skip=True), 2, max_pages=50)
    problems = walk_problems(result, ITEMS)
    assert result.complete
    assert any("skipped" in problem for problem in problems)


def test_a_repeating_cursor_is_a_repeat() -> None:
    result = walk(canned(ITEMS, repeat=True), 3, max_pages=50)
    assert any("more than once" in problem for problem in walk_problems(result, ITEMS))


def test_a_cursor_that_never_advances_ends_the_walk() -> None:
    result = walk(canned(ITEMS, repeat=True), 1, max_pages=50)
    assert not result.complete
    assert result.problem is not None
    assert "already used" in result.problem
    assert result.ids == ["item-00", "item-00"]  # "0" names the same position as the first page


def test_a_list_that_never_ends_is_cut_off() -> None:
    def endless(limit: int, cursor: str | None) -> Page:
        position = int(cursor or 0)
        return Page(({"id": f"x{position}"},), str(position + 1))

    result = walk(endless, 1, max_pages=5)
    assert not result.complete
    assert result.problem is not None
    assert "5 pages" in result.problem


def test_pages_over_the_limit_are_reported() -> None:
    result = walk(canned(ITEMS, ignore_limit=True), 2, max_pages=50)
    assert oversized_pages(result) == ["page 1 of a walk with limit 2 held 20 items"]


def test_an_error_page_stops_the_walk() -> None:
    def failing(limit: int, cursor: str | None) -> Page:
        return Page((), None, "listWorlds answered 500") if cursor else Page(({"id": "a"},), "1")

    result = walk(failing, 1, max_pages=5)
    assert result.problem == "listWorlds answered 500"
    assert not result.complete
    assert walk_problems(result, ["a", "b"]) == ["listWorlds answered 500"]


def test_order_is_judged_on_the_created_items_only() -> None:
    shuffled = ["other-1", "b", "other-2", "a", "c"]
    result = walk(canned(shuffled), 2, max_pages=10)
    assert any("out of creation order" in problem for problem in walk_problems(result, ["a", "b", "c"]))
    assert walk_problems(result, ["b", "a", "c"]) == []


def test_relative_order_ignores_items_only_one_walk_saw() -> None:
    assert not relative_order_differs(["a", "x", "b", "c"], ["a", "b", "y", "c"])
    assert relative_order_differs(["a", "b", "c"], ["a", "c", "b"])


def test_locate_finds_a_cursor_just_before_the_item() -> None:
    ids = [f"old-{n:03d}" for n in range(250)] + ITEMS
    fetch = canned(ids)
    found = locate(fetch, "item-00", max_pages=100)
    assert found.found
    assert found.cursor is not None
    # From the anchor, the item is on the first page of 10 (at most 9 older items before it).
    assert "item-00" in fetch(10, found.cursor).ids
    assert int(found.cursor) >= 240


def test_locate_reports_an_item_the_walk_never_shows() -> None:
    found = locate(canned(ITEMS), "missing", max_pages=100)
    assert not found.found
    assert found.problem is not None
    assert "never showed" in found.problem


def test_tail_is_the_last_page_and_what_it_held() -> None:
    ids = [f"e{n}" for n in range(250)]
    end = tail(canned(ids), None, max_pages=10)
    assert end.problem is None
    assert end.cursor == "200"
    assert end.ids == frozenset(ids[200:])
    assert tail(canned([]), None, max_pages=10).cursor is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "did not answer a page"),
        ({"items": [{"name": "no id"}]}, "without string ids"),
        ({"items": [], "next_cursor": 7}, "next_cursor 7"),
        ({"items": [], "next_cursor": ""}, "next_cursor ''"),
    ],
)
def test_parse_page_refuses_what_is_not_a_page(document: object, problem: str) -> None:
    page = parse_page(document, "listWorlds")
    assert page.error is not None
    assert problem in page.error


def test_parse_page_reads_a_page() -> None:
    page = parse_page({"items": [{"id": "a"}], "next_cursor": "abc"}, "listWorlds")
    assert page.error is None
    assert page.ids == ["a"]
    assert page.next_cursor == "abc"


def test_a_walk_until_its_items_ends_at_the_last_of_them() -> None:
    """What other clients add after a scenario's items is not walked: a shared deployment may add
    without end while the walk goes on."""

    def growing(limit: int, cursor: str | None) -> Page:
        start = int(cursor or 0)
        shown = [f"item-{n:02d}" for n in range(start, start + limit)]
        return Page(tuple({"id": item} for item in shown), str(start + limit))  # never ends

    mine = ["item-03", "item-04", "item-05"]
    result = walk(growing, 1, max_pages=50, until=mine)
    assert result.reached
    assert not result.complete
    assert result.problem is None
    assert result.ids == [f"item-{n:02d}" for n in range(6)]
    assert walk_problems(result, mine) == []


def test_a_walk_until_items_the_list_skips_goes_on_to_the_end_and_finds_the_gap() -> None:
    mine = ITEMS[4:12]
    result = walk(canned(ITEMS, skip=True), 2, max_pages=50, until=mine)
    assert not result.reached
    assert result.complete
    assert any("skipped" in problem for problem in walk_problems(result, mine))


def test_a_walk_until_items_still_sees_repeats_among_them() -> None:
    mine = ITEMS[2:9]
    result = walk(canned(ITEMS, repeat=True), 3, max_pages=50, until=mine)
    assert result.reached
    assert any("more than once" in problem for problem in walk_problems(result, mine))


def test_items_created_at_once_may_be_shown_either_way_but_no_older_one_after_a_newer() -> None:
    # a alone first; b and c at once (each sent before the other was answered); d after both.
    created = Creation(("a", "b", "c", "d"), sent=(0.0, 1.0, 1.1, 3.0), answered=(0.5, 2.0, 2.1, 3.5))
    assert created.precedes("a", "b") and created.precedes("c", "d")
    assert not created.precedes("b", "c") and not created.precedes("c", "b")
    for shown in (["a", "b", "c", "d"], ["a", "c", "b", "d"]):
        result = walk(canned(["other", *shown]), 2, max_pages=10)
        assert walk_problems(result, created.ids, created.precedes) == [], shown
    for shown in (["b", "a", "c", "d"], ["a", "b", "d", "c"], ["d", "c", "b", "a"]):
        result = walk(canned(shown), 2, max_pages=10)
        problems = walk_problems(result, created.ids, created.precedes)
        assert any("out of creation order" in problem for problem in problems), shown


def test_a_creation_renamed_keeps_its_order() -> None:
    created = Creation(("w1", "w2"), sent=(0.0, 1.0), answered=(0.5, 1.5))
    events = created.renamed({"w1": "e1", "w2": "e2"})
    assert events.ids == ("e1", "e2") and events.precedes("e1", "e2") and not events.precedes("e2", "e1")
