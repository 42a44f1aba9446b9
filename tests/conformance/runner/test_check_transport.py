"""A built-in check's own requests leave on the case's limited session, under the run's breaker."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest

from conformance.client.stall_breaker import STALLS_TO_OPEN, StallBreaker
from conformance.client.transport import LimitedSession, Limits, RouteStalled
from conformance.runner.check_transport import CHECK_SESSION
from conformance.runner.st_tests import contract_schema, operations_by_label
from conformance.settings import load_settings
from tests.hostile import servers

ENV = {"PHASE2_CLIENT_ID": "c", "PHASE2_CLIENT_SECRET": "secret-value"}


class CountingServer:
    """Answers every request `200 []` and counts them."""

    def __init__(self) -> None:
        self.requests = 0
        self._lock = threading.Lock()

    def __call__(self, conn: socket.socket) -> None:
        servers._read_request(conn)
        with self._lock:
            self.requests += 1
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n[]")


def list_worlds_case(base_url: str) -> Any:
    settings = load_settings(
        {"classes": "contract", "operations": ["listWorlds"]}, env={**ENV, "PHASE2_BASE_URL": base_url}
    )
    schema = contract_schema(settings)
    return operations_by_label(schema)["GET /worlds"].Case()


def test_a_check_request_goes_through_the_session_of_the_case_being_judged() -> None:
    counting = CountingServer()
    with servers.HostileServer(counting) as server:
        base_url = server.url + "/v2"
        case = list_worlds_case(base_url)
        breaker = StallBreaker(request_timeout=2.0)
        for _ in range(STALLS_TO_OPEN):
            breaker.stalled(base_url + "/worlds")
        session = LimitedSession(Limits(timeout=2.0, breaker=breaker))
        token = CHECK_SESSION.set(session)
        try:
            # The route stopped answering: the check's request is held back like the case's own.
            with pytest.raises(RouteStalled):
                case.operation.schema.transport.send(case, base_url=base_url)
        finally:
            CHECK_SESSION.reset(token)
            session.close()
        assert counting.requests == 0
        # Outside a judged case, Schemathesis' own session sends it.
        response = case.operation.schema.transport.send(case, base_url=base_url)
        assert response.status_code == 200 and counting.requests == 1


def test_the_contract_schema_serializes_what_schemathesis_does() -> None:
    # Generation asks the schema's transport which bodies it can send: the same answer, the same cases.
    from schemathesis.transport.requests import REQUESTS_TRANSPORT

    transport = list_worlds_case("http://127.0.0.1:1/v2").operation.schema.transport
    assert transport is not REQUESTS_TRANSPORT
    for media_type in ("application/json", "application/merge-patch+json", "text/plain", "multipart/form-data"):
        assert transport.get_first_matching_media_type(media_type) == REQUESTS_TRANSPORT.get_first_matching_media_type(
            media_type
        ), media_type
