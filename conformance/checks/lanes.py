"""Lanes within one work item: the independent requests of an item sent a few at a time.

An item whose requests do not depend on each other (the walks of one list, the odd values of one
scenario, the generated cases of one operation) waits for the network once per request when it
sends them one after the other: 250 requests to a deployment 50 ms away are 12 s of waiting. Its
lanes send up to `ITEM_LANES` of them at once, in threads that carry the calling thread's context
(the work item its failures belong to, its deadline). A sequential run (one worker) stays
sequential inside each item too: the calls run in the calling thread, in order.

It also holds the one call an exclusive scenario makes to the executor's gate,
`share_the_target`: done with what needed the target to itself, the rest of it may run beside
other items (the executor sets what the call does for the item each thread runs).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

ITEM_LANES = 4  # requests of one item in flight at once; with N workers, up to 4N in the run

# Set by the executor while an item runs: ends the part of an exclusive item that needs the
# target to itself (a no-op for a shared item).
SHARE_THE_TARGET: contextvars.ContextVar[Callable[[], None] | None] = contextvars.ContextVar(
    "conformance_share_the_target", default=None
)

Item = TypeVar("Item")
Result = TypeVar("Result")


def lanes_for(workers: int) -> int:
    """The lanes of one item in a run of `workers` items at once: none beyond the caller's with one."""
    return max(1, min(workers, ITEM_LANES))


def share_the_target() -> None:
    """The calling exclusive item is done with what needed the target to itself (say, creating the
    items a walk will look for): other items may run beside the rest of it. A no-op elsewhere."""
    share = SHARE_THE_TARGET.get()
    if share is not None:
        share()


def each(function: Callable[[Item], Result], items: Iterable[Item], lanes: int) -> list[Result]:
    """`function` of every item, up to `lanes` at once; the results in the items' order.

    Every call started is waited for; then the first exception, in the items' order, is raised
    (calls not started yet when one failed are not started), so a scenario ends as it would have
    one call after the other."""
    work = list(items)
    if lanes <= 1 or len(work) <= 1:
        return [function(item) for item in work]
    futures: list[Future[Result]] = []
    with ThreadPoolExecutor(max_workers=min(lanes, len(work)), thread_name_prefix="phase2-lane") as pool:
        for item in work:
            # One copy per call: a context cannot be entered by two threads at once.
            futures.append(pool.submit(contextvars.copy_context().run, function, item))

        def cancel_rest(done: Future[Result]) -> None:
            if not done.cancelled() and done.exception() is not None:
                for future in futures:
                    future.cancel()

        for future in futures:
            future.add_done_callback(cancel_rest)
    results: list[Result] = []
    for future in futures:
        if future.cancelled():
            continue
        error = future.exception()
        if error is not None:
            raise error
        results.append(future.result())
    if len(results) != len(futures):
        raise RuntimeError("a lane was cancelled although no call failed")  # cannot happen: fail loudly
    return results
