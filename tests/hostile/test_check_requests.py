"""A request a built-in check sends itself that gets no answer is judged, never an item's crash.

Schemathesis' `ignored_auth` sends the case again without credentials to see it refused. A target
that answers the case but stalls on (or resets) that probe must end the run with the contract's
verdict, the probe's failure and the stalled route named, and every case of the item still run.
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from phase2_reference.config import Config
from phase2_reference.testing.launcher import serving as serving_reference
from tests.hostile import servers
from tests.hostile.test_hostile_targets import CLIENT_SECRET, run_against, serving


def is_auth_probe(request: bytes) -> bool:
    """A Schemathesis request to the worlds without credentials: on a run whose cases all carry
    them, only `ignored_auth`'s probe (the suite's own auth scenarios do not run here)."""
    return (
        servers._path(request).startswith("/v2/worlds")
        and servers.header_of(request, "X-Schemathesis-TestCaseId") is not None
        and servers.header_of(request, "Authorization") is None
    )


@pytest.fixture
def upstream() -> Iterator[str]:
    with serving_reference(Config(data_dir=None)) as running:
        yield running.origin


@pytest.mark.parametrize("misbehaviour", ["stalls", "resets"])
def test_a_check_request_without_answer_is_judged_not_a_crash(misbehaviour: str, upstream: str, tmp_path: Path) -> None:
    released = threading.Event()  # the stalled probes end when the test does: no sleeping threads

    def stall(conn: socket.socket) -> None:
        released.wait()

    misbehave = stall if misbehaviour == "stalls" else servers.reset
    try:
        with serving(servers.misbehaves_when(upstream, is_auth_probe, misbehave)) as url:
            code, output, _, _ = run_against(
                url,
                tmp_path,
                {
                    "PHASE2_CLIENT_ID": "tenant-a-admin",
                    "PHASE2_CLIENT_SECRET": CLIENT_SECRET,
                    "PHASE2_TRUST_TOKEN_ORIGIN": upstream,
                    "PHASE2_CLASSES": "contract",
                    "PHASE2_OPERATIONS": "listWorlds",
                },
            )
    finally:
        released.set()
    summary = json.loads((tmp_path / "report" / "summary.json").read_text())
    assert "Traceback" not in output
    errors: list[str] = summary["errors"]
    # No item ended on the probe's error: the verdict is the contract's, and says why.
    assert not any("could not finish" in error for error in errors), errors
    assert code == 1 and summary["exit_code"] == 1, output
    con_008 = summary["requirements"]["P2-CON-008"]
    assert con_008["status"] == "failed", con_008
    assert "ignored_auth's own request for GET /worlds" in json.dumps(con_008), con_008
    # The item's other cases still ran: the operation's other requirements were judged, and passed.
    for requirement_id in ("P2-CON-001", "P2-CON-003"):
        assert summary["requirements"][requirement_id]["status"] == "passed", requirement_id
