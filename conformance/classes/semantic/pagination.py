"""Scenario checks of the semantic class on cursor pagination: the world, runtime and event lists
honour limit, refuse bad limits and cursors, and walk every item once, in order (P2-SEM-008/009).

Every scenario works only on data it creates itself (unique names, ids it holds), removes it
afterwards, and ignores everything else a shared deployment holds. A broken precondition blocks
the scenario instead of blaming the rule it verifies.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.lanes import each, lanes_for, share_the_target
from conformance.checks.registry import check
from conformance.classes.shared import eventlog
from conformance.classes.shared.eventlog import events_about, world_subject
from conformance.classes.shared.paging import (
    MAX_LIMIT,
    MAX_PAGES,
    Creation,
    Fetch,
    Walk,
    list_fetcher,
    locate,
    oversized_pages,
    relative_order_differs,
    walk,
    walk_problems,
)
from conformance.classes.shared.resources import (
    capable_plugins,
    create_world,
    delete_all_later,
    new_world,
    plugin_list,
    retire_later,
)

WALK_LIMITS = (1, 2, 7, MAX_LIMIT)
# Items a walk from an anchor may meet besides the created ones: up to 9 before them (the anchor
# is found with limit 10) and whatever other clients add meanwhile.
WALK_SLACK = 60
BAD_LIST_QUERIES: tuple[tuple[Mapping[str, Any], str], ...] = (
    ({"limit": 0}, "limit=0"),
    ({"limit": MAX_LIMIT + 1}, f"limit={MAX_LIMIT + 1}"),
    ({"cursor": "not a cursor!"}, "a cursor outside the Cursor pattern"),
    ({"cursor": "p2c-never-issued-cursor"}, "a cursor the deployment never issued"),
)


def create_in_lanes(ctx: ScenarioContext, create_one: Callable[[int], str], count: int) -> Creation:
    """`count` items of `create_one` (given each one's index), timed: the first alone, so that it
    is the oldest of them and the walks may start from it; the others a few at a time (`lanes`),
    each pair of them in the order a client can know (`Creation`). 50 ms away, 23 items one after
    the other hold the target alone for 1.2 s, four at a time for 0.4 s."""

    def timed(index: int) -> tuple[str, float, float]:
        sent = time.monotonic()
        item_id = create_one(index)
        return item_id, sent, time.monotonic()

    made = [timed(0), *each(timed, range(1, count), lanes_for(ctx.settings.workers))]
    return Creation(
        tuple(item_id for item_id, _, _ in made),
        tuple(sent for _, sent, _ in made),
        tuple(answered for _, _, answered in made),
    )


def _judge_pagination(
    ctx: ScenarioContext, operation_id: str, created: Creation, filters: Mapping[str, str] | None = None
) -> None:
    """Walk a list with several limits from just before `created` (the first is the oldest) and
    judge each walk; `created.precedes` says which of them the list must show in which order.

    The walks only read, so they run side by side (`lanes`), each one page after the other, and
    each ends once it has seen every created item: what other items add to the list meanwhile,
    after them, is not theirs to walk."""
    label = ctx.contract.operation(operation_id).label
    lanes = lanes_for(ctx.settings.workers)

    def refuse(bad: tuple[Mapping[str, Any], str]) -> None:
        query, what = bad
        refused = ctx.api.call(operation_id, query={**(filters or {}), **query}, negative=True)
        ctx.check(
            "P2-SEM-008",
            refused.status == 400,
            f"A list accepted {what}",
            f"{operation_id} with {what} answered {refused.status}",
            response=refused,
            expected="400",
            actual=f"answered {refused.status}",
            expected_status=(400,),
        )

    each(refuse, BAD_LIST_QUERIES, lanes)
    precedes, created_ids = created.precedes, created.ids
    fetch = list_fetcher(ctx.api, operation_id, filters)
    located = locate(fetch, created_ids[0], max_pages=MAX_PAGES, deadline=ctx.deadline)
    if not located.found:
        ctx.fail(
            "P2-SEM-009",
            "A list walk never showed an item the scenario created",
            located.problem or "",
            operation=label,
        )
        return
    # The coarsest walk first: how many items lie between the anchor and the last created one
    # bounds the finer walks (items other clients created in between count, later ones do not).
    coarse = _walk_from(ctx, fetch, located.cursor, MAX_LIMIT, created_ids, span=len(created_ids))
    span = _span(coarse, created_ids)
    finer = [limit for limit in (*WALK_LIMITS, WALK_LIMITS[1]) if limit != MAX_LIMIT]  # limit 2 twice
    walks = [
        coarse,
        *each(lambda limit: _walk_from(ctx, fetch, located.cursor, limit, created_ids, span), finer, lanes),
    ]
    for result in walks:
        oversized = oversized_pages(result)
        ctx.check(
            "P2-SEM-008",
            not oversized,
            "A list page held more items than the limit",
            "; ".join(oversized),
            response=result.last_response,
            operation=label,
        )
        problems = walk_problems(result, created_ids, precedes)
        ctx.check(
            "P2-SEM-009",
            not problems,
            "Walking a list with next_cursor did not visit every item once, in order",
            "; ".join(problems),
            response=result.last_response,
            operation=label,
        )
    for other in walks[1:]:
        ctx.check(
            "P2-SEM-009",
            not relative_order_differs(walks[0].ids, other.ids),
            "Two walks of the same list showed its items in different orders",
            f"the walks with limit {walks[0].limit} and {other.limit} disagree on the order",
            operation=label,
        )


def _walk_from(
    ctx: ScenarioContext, fetch: Fetch, start: str | None, limit: int, created: Sequence[str], span: int
) -> Walk:
    """One walk from the anchor, until it has seen every created item (or the list ends)."""
    max_pages = (span + WALK_SLACK) // limit + 3
    return walk(fetch, limit, start, max_pages=max_pages, deadline=ctx.deadline, until=created)


def _span(coarse: Walk, created: Sequence[str]) -> int:
    """Items from the anchor to the last created one, as the coarse walk saw them (at least the
    created ones: a walk that missed some is judged for it, and the finer walks get the usual bound)."""
    ids = coarse.ids
    last = max((ids.index(item_id) for item_id in created if item_id in ids), default=-1)
    return max(last + 1, len(created))


def _world_to_delete(ctx: ScenarioContext, to_delete: list[str]) -> str:
    """A new world's id, kept in `to_delete` (whose cleanup deletes it) as soon as it exists."""
    world_id = str(new_world(ctx)["id"])
    to_delete.append(world_id)
    return world_id


# Exclusive while they create their items: what other items create then lies between them and
# lengthens every walk (a walk with limit 1 is one round trip per item). Once created, the
# walks end at the last of them, so what other items add later, after them, changes nothing.
@check("P2-SEM-008", "P2-SEM-009", kind="scenario", shares_after_writing=True, cost=1.5)
def check_world_pagination(ctx: ScenarioContext) -> None:
    """listWorlds: pages honour limit, bad limits and cursors answer 400, walks visit every world once."""
    worlds: list[str] = []
    delete_all_later(ctx, worlds)  # one cleanup deletes them all, a few at a time
    created = create_in_lanes(ctx, lambda _index: _world_to_delete(ctx, worlds), max(ctx.settings.profile.walk_size, 3))
    share_the_target()
    _judge_pagination(ctx, "listWorlds", created)


@check("P2-SEM-008", "P2-SEM-009", kind="scenario", shares_after_writing=True, cost=3.0)
def check_runtime_pagination(ctx: ScenarioContext) -> None:
    """listRuntimes: pages honour limit, bad limits and cursors answer 400, walks visit every runtime once."""
    plugins = capable_plugins(plugin_list(ctx), 10)
    world = create_world(ctx, settings={"max_entities": 10})
    started: list[str] = []
    retire_later(ctx, started)  # one cleanup stops them all together, whichever were started
    count = max(ctx.settings.profile.walk_size, 3)

    def start_runtime(index: int) -> str:
        body = {"world_id": world["id"], "plugin": plugins[index % len(plugins)]["name"]}
        response = ctx.require(ctx.api.call("startRuntime", json=body), {202}, "start a runtime")
        document = response.json_or_none()
        if not isinstance(document, dict) or not isinstance(document.get("id"), str):
            ctx.blocked("startRuntime answered 202 without a runtime id")
        started.append(document["id"])
        return str(document["id"])

    created = create_in_lanes(ctx, start_runtime, count)
    share_the_target()
    _judge_pagination(ctx, "listRuntimes", created)


@check("P2-SEM-008", "P2-SEM-009", kind="scenario", shares_after_writing=True, cost=3.0)
def check_event_pagination(ctx: ScenarioContext) -> None:
    """listEvents: pages honour limit, bad limits and cursors answer 400, walks visit every event once."""
    since = eventlog.anchor(ctx)
    to_delete: list[str] = []
    delete_all_later(ctx, to_delete)  # one cleanup deletes them all, a few at a time
    worlds = create_in_lanes(
        ctx, lambda _index: _world_to_delete(ctx, to_delete), max(ctx.settings.profile.walk_size, 3)
    )
    share_the_target()
    subjects = {world_subject(world_id): world_id for world_id in worlds.ids}
    created_events = {
        subjects[event["subject"]]: str(event["id"])
        for event in events_about(ctx, since, set(subjects))
        if event.get("type") == "world.created"
    }
    if len(created_events) != len(worlds.ids):
        ctx.blocked(f"only {len(created_events)} of {len(worlds.ids)} world.created events could be found")
    # A world's event is recorded while it is created: the events are in the order of the worlds.
    _judge_pagination(ctx, "listEvents", worlds.renamed(created_events))
