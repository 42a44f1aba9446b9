"""Scenario checks of the semantic class on events: the record of every change, the list filters,
and the SSE stream with its Last-Event-ID resumption (P2-SEM-015..018).

Every scenario works only on data it creates itself (unique names, ids it holds), removes it
afterwards, and ignores everything else a shared deployment holds. A broken precondition blocks
the scenario instead of blaming the rule it verifies.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import Any

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import check
from conformance.classes.shared import eventlog
from conformance.classes.shared.eventlog import events_about, runtime_subject, world_subject
from conformance.classes.shared.lifecycle import off_path
from conformance.classes.shared.paging import MAX_LIMIT, MAX_PAGES, list_fetcher, walk
from conformance.classes.shared.resources import (
    capable_plugins,
    create_world,
    failing_setup,
    plugin_list,
    read_world,
    settle_runtime,
    start_runtime,
    update_world,
)
from conformance.classes.shared.sse import (
    EVENT_STREAM,
    SseParser,
    message_problems,
    parse_event_stream,
    resume_problems,
)
from conformance.classes.shared.sse import about as messages_about
from conformance.classes.shared.verdicts import ascending, data_mismatches, filter_problems, sequence_difference

STREAM_HEADERS = {"Accept": EVENT_STREAM}


@check("P2-SEM-015", kind="scenario")
def check_event_record(ctx: ScenarioContext) -> None:
    """Every change of a world or runtime appears once in the events, in order, with its type and subject."""
    setup = failing_setup(ctx)  # None: no plugin can be exceeded, so no failed runtime is recorded
    plugins = capable_plugins(plugin_list(ctx), 10)
    since = eventlog.anchor(ctx)
    expected: list[tuple[str, str]] = []
    world = create_world(ctx, settings={"max_entities": 10})
    expected.append(("world.created", world_subject(world["id"])))
    _, etag = read_world(ctx, world["id"], "read the new world")
    ctx.require(update_world(ctx, world["id"], etag, {"description": "Recorded."}), {200}, "update the world")
    expected.append(("world.updated", world_subject(world["id"])))
    runtime = start_runtime(ctx, world["id"], plugins[0]["name"])
    settle_runtime(ctx, runtime["id"], "running")
    ctx.require(ctx.api.call("stopRuntime", path={"runtime_id": runtime["id"]}), {202}, "stop the runtime")
    settle_runtime(ctx, runtime["id"], "stopped")
    ctx.require(ctx.api.call("deleteRuntime", path={"runtime_id": runtime["id"]}), {204}, "delete the runtime")
    subject = runtime_subject(runtime["id"])
    expected += [(f"runtime.{step}", subject) for step in ("created", "starting", "running", "stopping", "stopped")]
    expected.append(("runtime.deleted", subject))
    doomed = [world]
    failing_subject: str | None = None
    failing_at = 0
    if setup is not None:
        small, entities = setup
        big = create_world(ctx, settings={"max_entities": entities})
        expected.append(("world.created", world_subject(big["id"])))
        failing = start_runtime(ctx, big["id"], small["name"])
        settle_runtime(ctx, failing["id"], "failed")
        ctx.require(
            ctx.api.call("deleteRuntime", path={"runtime_id": failing["id"]}),
            {204},
            "delete the failed runtime",
        )
        failing_subject = runtime_subject(failing["id"])
        # Its steps between created and deleted are whatever path to failed the contract allows;
        # they are read from the events below and judged against the lifecycle.
        failing_at = len(expected) + 1
        expected += [("runtime.created", failing_subject), ("runtime.deleted", failing_subject)]
        doomed.insert(0, big)
    for gone in doomed:
        ctx.require(ctx.api.call("deleteWorld", path={"world_id": gone["id"]}), {204}, "delete a world")
        expected.append(("world.deleted", world_subject(gone["id"])))

    events, problem = eventlog.events_since(ctx, since)
    if problem is not None:
        ctx.fail(
            "P2-SEM-015",
            "The events of the scenario's changes cannot be read",
            problem,
            operation="GET /events",
        )
        return
    recorded = eventlog.about(events, {subject for _, subject in expected})
    seen = [(str(event.get("type")), str(event.get("subject"))) for event in recorded]
    if failing_subject is not None:
        path = [kind.removeprefix("runtime.") for kind, about in seen if about == failing_subject]
        steps = [step for step in path if step not in ("created", "deleted")]
        detour = off_path(["pending", *steps])
        ctx.check(
            "P2-SEM-015",
            detour is None and steps[-1:] == ["failed"],
            "The events of a failed runtime do not follow the lifecycle to failed",
            f"{detour or 'it never ended in failed'}; its events are {path}",
            operation="GET /events",
        )
        expected[failing_at:failing_at] = [(f"runtime.{step}", failing_subject) for step in steps]
    ctx.check(
        "P2-SEM-015",
        seen == expected,
        "The events do not record each change exactly once, in order, with its type and subject",
        sequence_difference(expected, seen),
        operation="GET /events",
    )
    ctx.check(
        "P2-SEM-015",
        ascending([str(event.get("id")) for event in recorded]),
        "Event ids do not grow with the order of the events",
        f"ids {[event.get('id') for event in recorded]}",
        operation="GET /events",
    )
    mismatched = data_mismatches(recorded)
    ctx.check(
        "P2-SEM-015",
        not mismatched,
        "Event data does not describe the change it records",
        "; ".join(mismatched[:5]),
        operation="GET /events",
    )


@check("P2-SEM-016", kind="scenario")
def check_event_filters(ctx: ScenarioContext) -> None:
    """The events list filters type and subject return exactly the matching events."""
    since = eventlog.anchor(ctx)
    world = create_world(ctx)
    _, etag = read_world(ctx, world["id"], "read the new world")
    ctx.require(update_world(ctx, world["id"], etag, {"description": "Filtered."}), {200}, "update the world")
    other = create_world(ctx)
    subject, other_subject = world_subject(world["id"]), world_subject(other["id"])
    recorded = events_about(ctx, since, {subject, other_subject})
    kinds = {(str(event.get("type")), str(event.get("subject"))) for event in recorded}
    needed = {("world.created", subject), ("world.updated", subject), ("world.created", other_subject)}
    if not needed <= kinds:
        ctx.blocked(f"the events of the scenario's changes are incomplete: {eventlog.describe(recorded)}")
    mine = {str(event.get("id")) for event in recorded}
    queries = [
        {"subject": subject},
        {"subject": other_subject},
        {"subject": subject, "type": "world.updated"},
        {"type": "world.updated"},
    ]
    for query in queries:
        # The unfiltered list is the truth: the filtered one must hold exactly its matching events.
        expected = [
            str(event.get("id")) for event in recorded if all(event.get(key) == value for key, value in query.items())
        ]
        result = walk(list_fetcher(ctx.api, "listEvents", query), MAX_LIMIT, max_pages=MAX_PAGES, deadline=ctx.deadline)
        if result.problem is not None:
            ctx.fail(
                "P2-SEM-016",
                f"The events list filtered by {query} cannot be walked",
                result.problem,
                response=result.last_response,
            )
            continue
        items = [item for page in result.pages for item in page.items]
        problems = filter_problems(items, query, expected, mine, ordered=True)
        ctx.check(
            "P2-SEM-016",
            not problems,
            f"The events list filtered by {query} is not exactly the matching",
            "; ".join(problems),
            response=result.last_response,
        )


@check("P2-SEM-017", "P2-SEM-018", kind="scenario", exclusive=True)
def check_event_stream(ctx: ScenarioContext) -> None:
    """The stream is SSE of each event's id, type and JSON data, in order; Last-Event-ID resumes."""
    since = eventlog.anchor(ctx)
    world = create_world(ctx)
    subject = world_subject(world["id"])
    _, world_etag = read_world(ctx, world["id"], "read the new world")
    for step in ("one", "two"):
        updated = ctx.require(
            update_world(ctx, world["id"], world_etag, {"description": f"Streamed {step}."}),
            {200},
            "update the world",
        )
        world_etag = updated.headers.get("etag", "")
    recorded = events_about(ctx, since, {subject})
    if len(recorded) != 3:
        ctx.blocked(f"expected 3 events about the world, the list shows {eventlog.describe(recorded)}")
    # Resuming after the last event older than the world keeps the stream short on a busy deployment.
    older = [event_id for event_id in since.before if event_id.isdigit()]
    before = {"Last-Event-ID": max(older, key=int)} if older else {}

    stream = ctx.api.call("streamEvents", query={"subject": subject, "wait": 0}, headers={**STREAM_HEADERS, **before})
    ctx.check(
        "P2-SEM-017",
        stream.status == 200 and stream.media_type == EVENT_STREAM,
        "The event stream is not text/event-stream",
        f"streamEvents answered {stream.status} {stream.headers.get('content-type')!r}",
        response=stream,
    )
    messages, incomplete = parse_event_stream(stream.body)
    problems = message_problems(messages, incomplete)
    streamed = messages_about(messages, {subject})
    if streamed != recorded:
        problems.append(
            f"the stream sent {len(streamed)} event(s) about the world, the list {len(recorded)}, "
            "or their documents differ"
        )
    ctx.check(
        "P2-SEM-017",
        not problems,
        "The event stream does not carry each event's id, type and data in order",
        "; ".join(problems[:5]),
        response=stream,
    )

    for after, expected in ((recorded[0], recorded[1:]), (recorded[2], [])):
        _judge_resume(ctx, subject, str(after["id"]), expected)
    _judge_live_resume(ctx, world["id"], world_etag, since, str(recorded[2]["id"]))


def _judge_resume(ctx: ScenarioContext, subject: str, last_id: str, expected: Sequence[Mapping[str, Any]]) -> None:
    stream = ctx.api.call(
        "streamEvents",
        query={"subject": subject, "wait": 0},
        headers={**STREAM_HEADERS, "Last-Event-ID": last_id},
    )
    if stream.status != 200:
        ctx.fail(
            "P2-SEM-018",
            "The event stream refused a Last-Event-ID it had sent",
            f"streamEvents answered {stream.status}",
            response=stream,
        )
        return
    messages, _ = parse_event_stream(stream.body)
    problems = resume_problems(messages, subject, last_id, expected)
    ctx.check(
        "P2-SEM-018",
        not problems,
        "A stream opened with Last-Event-ID did not send exactly the later events",
        "; ".join(problems),
        response=stream,
    )


def _judge_live_resume(ctx: ScenarioContext, world_id: str, etag: str, since: eventlog.Anchor, last_id: str) -> None:
    """An event written while a resumed stream waits is sent on it, and nothing before it."""
    wait = max(1, min(3, int(ctx.settings.request_timeout) - 1))
    subject = world_subject(world_id)
    query = {"subject": subject, "wait": wait, "max_events": 1}
    requested_at = time.monotonic()
    with ctx.api.stream("streamEvents", query=query, headers={**STREAM_HEADERS, "Last-Event-ID": last_id}) as opened:
        opened_at = time.monotonic()
        if opened.status != 200:
            ctx.fail(
                "P2-SEM-018",
                "The event stream refused a Last-Event-ID it had sent",
                f"streamEvents answered {opened.status}",
                operation="GET /events/stream",
            )
            return
        if opened_at - requested_at >= wait:
            # The answer was held back until the stream's wait was over (a buffering proxy, say):
            # nothing written now could still arrive on it, so there is nothing live to judge.
            return
        ctx.require(update_world(ctx, world_id, etag, {"description": "Streamed live."}), {200}, "update the world")
        parser = SseParser()
        messages = []
        for chunk in opened.chunks(deadline=opened_at + wait + 2):
            messages += parser.feed(chunk)
            if messages_about(messages, {subject}):
                break
        # How long the stream stayed open: a stream that closes at once never waited for the event.
        open_for = time.monotonic() - opened_at
    recorded = [e for e in events_about(ctx, since, {subject}) if _later(e.get("id"), last_id)]
    problems = resume_problems(messages, subject, last_id, recorded)
    if not recorded:
        problems.append("the update made while the stream was open is not in the event list")
    about = messages_about(messages, {subject})
    ctx.check(
        "P2-SEM-018",
        not problems,
        "A resumed stream did not send the event written while it was open, and only that",
        "; ".join(problems),
        operation="GET /events/stream",
        expected=f"the event written during a {wait} s wait, and only that",
        actual=(
            f"the stream closed after {open_for:.2f} s of a {wait} s wait"
            if not about and open_for < wait
            else f"the stream sent {len(about)} event(s) about the world in {open_for:.2f} s"
        ),
    )


def _later(event_id: Any, last_id: str) -> bool:
    text = str(event_id)
    return text.isascii() and text.isdigit() and last_id.isdigit() and int(text) > int(last_id)
