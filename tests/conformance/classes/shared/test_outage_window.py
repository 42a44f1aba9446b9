"""An outage window: a component taken away with the user's commands is always brought back once,
and a start or end that fails blocks the scenario (an end that fails is an error of the run too)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from conformance.checks.context import Blocked, ScenarioContext
from conformance.checks.registry import Registry, check
from conformance.classes.shared.outage_window import OutageWindow
from conformance.client.observed import ObservedResponse
from conformance.client.outage_hooks import CommandOutage
from conformance.runner.session import RunSession
from conformance.settings import load_settings

CLIENT = {"PHASE2_CLIENT_ID": "tenant-a-admin", "PHASE2_CLIENT_SECRET": "test-only-secret-tenant-a-admin-7f3c"}


@pytest.fixture
def session() -> Iterator[RunSession]:
    settings = load_settings({"base_url": "http://127.0.0.1:9/v2"}, env=CLIENT)
    with RunSession(settings) as session:
        yield session


def _context(session: RunSession, tmp_path: Path, start: str, end: str) -> tuple[ScenarioContext, Path]:
    log = tmp_path / "outage.log"
    session.resources.outage = CommandOutage(
        f"{start} && echo start >> {log}", f"echo end >> {log} && {end}", "http://x"
    )

    def body(ctx: ScenarioContext) -> None:
        return None

    spec = check("P2-HLT-003", kind="scenario", needs=("outage",), registry=Registry(), name="check_outage")(body)
    ctx = ScenarioContext(
        spec, session.api, session.settings, session.contract, session.recorder, session.resources,  # type: ignore[arg-type]
        time.monotonic() + 60,
    )  # fmt: skip
    return ctx, log


def test_a_window_opens_and_closes_once(session: RunSession, tmp_path: Path) -> None:
    ctx, log = _context(session, tmp_path, "true", "true")
    window = OutageWindow(ctx)
    window.open()
    window.close()
    ctx.run_cleanups()  # already closed: the cleanup ends nothing twice
    assert log.read_text().split() == ["start", "end"]
    assert session.recorder.errors == []


def test_a_scenario_that_stops_half_way_still_brings_the_component_back(session: RunSession, tmp_path: Path) -> None:
    ctx, log = _context(session, tmp_path, "true", "true")
    OutageWindow(ctx).open()
    ctx.run_cleanups()
    assert log.read_text().split() == ["start", "end"]


def test_a_start_that_fails_blocks_and_is_still_undone(session: RunSession, tmp_path: Path) -> None:
    ctx, log = _context(session, tmp_path, "false", "true")
    with pytest.raises(Blocked, match="taking a component away with the --outage-start/--outage-end commands failed"):
        OutageWindow(ctx).open()
    ctx.run_cleanups()
    assert log.read_text().split() == ["end"]  # a start that half-worked is undone


def test_an_end_that_fails_blocks_and_is_an_error_of_the_run(session: RunSession, tmp_path: Path) -> None:
    ctx, _ = _context(session, tmp_path, "true", "false")
    window = OutageWindow(ctx)
    window.open()
    with pytest.raises(Blocked, match=r"bringing the component back .* failed"):
        window.close()
    [error] = session.recorder.errors
    assert error.startswith("check_outage: bringing the component back")


def test_until_calls_until_the_outage_shows(session: RunSession, tmp_path: Path) -> None:
    ctx, _ = _context(session, tmp_path, "true", "true")
    statuses = iter([200, 200, 503])

    def call() -> ObservedResponse:
        return ObservedResponse(None, "GET", "http://x/readyz", {}, None, next(statuses), {}, b"")

    assert OutageWindow(ctx).until(call, lambda answer: answer.status == 503).status == 503
