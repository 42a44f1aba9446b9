"""Reading the events a scenario caused, against the embedded reference: an anchor before the
change, the walk after it shows exactly the new events."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from conformance.checks.context import ScenarioContext
from conformance.checks.registry import Registry, check
from conformance.classes.shared.eventlog import (
    STATE_KEY,
    about,
    anchor,
    describe,
    events_about,
    runtime_subject,
    world_subject,
)
from conformance.classes.shared.resources import create_world
from conformance.runner.session import RunSession
from tests.conftest import reference_session

session = reference_session("semantic")


@pytest.fixture
def ctx(session: RunSession) -> Iterator[ScenarioContext]:
    def body(ctx: ScenarioContext) -> None:
        return None

    spec = check("P2-SEM-015", kind="scenario", registry=Registry(), name="check_events")(body)
    assert session.api is not None
    context = ScenarioContext(
        spec, session.api, session.settings, session.contract, session.recorder, session.resources,
        time.monotonic() + 60,
    )  # fmt: skip
    yield context
    context.run_cleanups()


def test_the_events_after_the_anchor_are_those_of_the_change(ctx: ScenarioContext) -> None:
    before = create_world(ctx)
    since = anchor(ctx)
    assert ctx.resources.state[STATE_KEY] == since.cursor  # the next scenario starts there
    world = create_world(ctx)
    subjects = {world_subject(world["id"]), world_subject(before["id"])}
    events = events_about(ctx, since, subjects)
    assert [event["subject"] for event in events] == [world_subject(world["id"])]
    assert describe(events) == [f"{events[0]['type']} worlds/{world['id']}"]


def test_an_anchor_from_a_remembered_cursor_that_expired_starts_over(ctx: ScenarioContext) -> None:
    ctx.resources.state[STATE_KEY] = "not-a-cursor-this-deployment-issued"
    since = anchor(ctx)
    assert since.cursor != "not-a-cursor-this-deployment-issued"


def test_subjects_name_worlds_and_runtimes() -> None:
    events = [{"subject": "worlds/w-1", "type": "a"}, {"subject": "runtimes/r-1", "type": "b"}, {"type": "c"}]
    assert world_subject("w-1") == "worlds/w-1" and runtime_subject("r-1") == "runtimes/r-1"
    assert about(events, {"runtimes/r-1"}) == [events[1]]
    assert describe(events[2:]) == ["c None"]
