"""A shard's part of the plan: longest items dealt first to the lightest shard, the plan's order kept."""

from __future__ import annotations

from conformance.runner.plan import ItemKind, Plan, WorkItem
from conformance.runner.shard import requirements_elsewhere, shard_plan
from conformance.shards import Shard


def _item(key: str, cost: float, *requirements: str) -> WorkItem:
    return WorkItem(key=key, kind=ItemKind.CONTRACT, cls="contract", requirements=requirements, cost=cost)


PLAN = Plan(
    (
        _item("a", 1.0, "P2-CON-001"),
        _item("b", 5.0, "P2-CON-002"),
        _item("c", 2.0, "P2-CON-003"),
        _item("d", 2.0, "P2-CON-004"),
        _item("e", 1.0, "P2-CON-001", "P2-CON-005"),
    )
)


def test_no_shard_or_one_shard_is_the_whole_plan() -> None:
    assert shard_plan(PLAN, None) is PLAN
    assert shard_plan(PLAN, Shard(1, 1)) is PLAN


def test_items_are_dealt_longest_first_to_the_lightest_shard() -> None:
    first, second = shard_plan(PLAN, Shard(1, 2)), shard_plan(PLAN, Shard(2, 2))
    # b(5) → 1; c(2) → 2; d(2) → 2; a(1) → 2 (5 against 4); e(1) → 1 (a tie goes to the lower number)
    assert [item.key for item in first] == ["b", "e"]
    assert [item.key for item in second] == ["a", "c", "d"]  # in the plan's order
    assert (first.cost, second.cost) == (6.0, 5.0)


def test_more_shards_than_items_leaves_some_empty_and_loses_nothing() -> None:
    parts = [shard_plan(PLAN, Shard(index, 8)) for index in range(1, 9)]
    assert sorted(item.key for part in parts for item in part) == ["a", "b", "c", "d", "e"]
    assert sum(1 for part in parts if len(part) == 0) == 3


def test_requirements_another_shard_evaluates_are_not_this_shard_s_gap() -> None:
    first = shard_plan(PLAN, Shard(1, 2))
    # P2-CON-001 is evaluated here (e) and elsewhere (a): another shard may still reach it.
    assert requirements_elsewhere(PLAN, first) == {"P2-CON-001", "P2-CON-003", "P2-CON-004"}
    assert requirements_elsewhere(PLAN, PLAN) == frozenset()
