"""Handlers of the events tag: the paginated list and the server-sent event stream."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator

from phase2_reference.bus import events
from phase2_reference.gateway.handlers.registry import cursor_position, operation
from phase2_reference.gateway.http import Call, Reply
from phase2_reference.gateway.state import AppState
from phase2_reference.store.paging import effective_limit, make_page
from phase2_reference.store.sqlite import StoreUnavailable

STREAM_BATCH = 100


def _scope(call: Call) -> tuple[str | None, str | None, str | None]:
    """The caller's tenant and the filters it asked for."""
    return call.tenant, call.query.get("type"), call.query.get("subject")


@operation("listEvents")
async def list_events(state: AppState, call: Call) -> Reply:
    after = cursor_position(state, "events", call)
    limit = effective_limit(call.query.get("limit", 20), state.faults)
    tenant, event_type, subject = _scope(call)
    rows = events.read_after(state.store, tenant, after, limit + 1, event_type, subject, state.faults)
    page = make_page("events", [(event.sequence, event.document) for event in rows], limit, state.codec, state.faults)
    return Reply(200, page.body())


@operation("streamEvents")
async def stream_events(state: AppState, call: Call) -> Reply:
    last_event_id = call.headers.get("last-event-id")
    after = int(last_event_id) if last_event_id is not None else 0
    if state.faults.active("sse-ignores-last-event-id"):
        after = 0
    tenant, event_type, subject = _scope(call)
    # Read the first batch before answering, so an unavailable store is a 503, not a broken stream.
    first = events.read_after(
        state.store,
        tenant,
        after,
        min(STREAM_BATCH, call.query.get("max_events", 1000)),
        event_type,
        subject,
        state.faults,
    )
    stream = _stream(state, call, first, after, tenant, event_type, subject)
    return Reply(200, content_type="text/event-stream", stream=stream)


async def _stream(
    state: AppState,
    call: Call,
    first: list[events.StoredEvent],
    after: int,
    tenant: str | None,
    event_type: str | None,
    subject: str | None,
) -> AsyncIterator[bytes]:
    max_events: int = call.query.get("max_events", 1000)
    wait: int = call.query.get("wait", 0)
    disconnected = asyncio.ensure_future(_disconnect(call))
    state.metrics.stream_clients.inc()
    sent = 0
    position = after
    deadline: float | None = None
    batch = first
    try:
        while True:
            # Events read inside a still open group commit go out only once it is committed.
            await state.store.settled()
            for event in batch:
                yield b"id: %d\nevent: %s\ndata: %s\n\n" % (
                    event.sequence,
                    event.type.encode(),
                    event.document,
                )
                position = event.sequence
                sent += 1
            if sent >= max_events:
                return
            wanted = min(STREAM_BATCH, max_events - sent)
            if len(batch) < wanted or not batch:
                # The backlog is drained: wait for news until the deadline.
                if deadline is None:
                    deadline = time.monotonic() + wait
                remaining = deadline - time.monotonic()
                if remaining <= 0 or state.bus.closed:
                    return
                news = asyncio.ensure_future(state.bus.wait(remaining))
                await asyncio.wait({news, disconnected}, return_when=asyncio.FIRST_COMPLETED)
                if disconnected.done():
                    news.cancel()
                    return
            batch = events.read_after(state.store, tenant, position, wanted, event_type, subject, state.faults)
    except (StoreUnavailable, sqlite3.Error):
        # The stream has started; ending it is the only honest answer left.
        return
    finally:
        state.metrics.stream_clients.dec()
        disconnected.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await disconnected


async def _disconnect(call: Call) -> None:
    while True:
        message = await call.receive()
        if message["type"] == "http.disconnect":
            return
