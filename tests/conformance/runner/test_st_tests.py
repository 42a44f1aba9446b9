"""The stateful phase judges a request without answer like a unit case's, never ends on it."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from conformance.runner.session import RunSession
from conformance.runner.st_tests import contract_schema, run_stateful
from conformance.settings import load_settings
from phase2_reference.config import Config
from phase2_reference.testing.launcher import serving as serving_reference
from tests.hostile import servers
from tests.hostile.test_hostile_targets import CLIENT_SECRET, serving

A_WORLD = re.compile(r"^/v2/worlds/[^/?]+")


def reads_a_world_in_a_sequence(request: bytes) -> bool:
    """Schemathesis' GET of one world (the step after its creation): only stateful cases here."""
    return (
        request.startswith(b"GET ")
        and A_WORLD.match(servers._path(request)) is not None
        and servers.header_of(request, "X-Schemathesis-TestCaseId") is not None
    )


@pytest.fixture
def upstream() -> Iterator[str]:
    with serving_reference(Config(data_dir=None)) as running:
        yield running.origin


def test_a_stateful_step_without_answer_is_recorded_and_the_phase_goes_on(upstream: str) -> None:
    with serving(servers.misbehaves_when(upstream, reads_a_world_in_a_sequence, servers.reset)) as url:
        env = {
            "PHASE2_BASE_URL": url + "/v2",
            "PHASE2_CLIENT_ID": "tenant-a-admin",
            "PHASE2_CLIENT_SECRET": CLIENT_SECRET,
            "PHASE2_TRUST_TOKEN_ORIGIN": upstream,
        }
        settings = load_settings({"request_timeout": 2.0}, env=env)
        with RunSession(settings) as session:
            session.prepare()
            assert session.exerciser is not None
            # Unjudged, the reset escaped the state machine: Hypothesis' replay of the sequence drew
            # differently (a live server), it was called flaky and dropped, or it ended the item.
            run_stateful(contract_schema(settings), session.exerciser, seed=1, examples=6, steps=6)
            failures = session.recorder.failures_of("P2-CON-008")
    unanswered = [f for f in failures if f.check == "transport"]
    assert unanswered, failures
    assert all(f.operation == "GET /worlds/{world_id}" for f in unanswered), unanswered
