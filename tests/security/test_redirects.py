"""Bearer tokens go only to the target's origin: a redirect elsewhere is the target's answer.

The deployment answers a protected operation with a redirect to another origin (a thief on its
own loopback socket). Neither the suite's client (scenarios) nor Schemathesis' session may follow
it: the thief receives nothing, and the redirect is judged as the target's answer.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests

from conformance.client.transport import LimitedSession, Limits
from conformance.settings import load_settings
from tests.hostile import servers
from tests.security.hostile import CREDENTIALS, HostileDeployment, Reply, Request, deployment, run_against
from tests.security.test_credential_origins import Thief


@pytest.mark.parametrize("status", [302, 307, 308])
def test_a_redirect_to_another_origin_is_judged_not_followed(status: int, tmp_path: Path) -> None:
    holder: dict[str, Thief] = {}

    def answer(hostile: HostileDeployment, request: Request) -> Reply | None:
        if request.path.split("?", 1)[0] == "/v2/engine" and hostile.tokens:
            return Reply(status, b"", [("Location", holder["thief"].url + "/v2/engine")])
        return None

    with deployment(answer) as hostile:
        thief = holder["thief"] = Thief(forward_to=hostile)
        with thief.server:
            run = run_against(hostile, tmp_path, "--classes", "contract,semantic", "--operation", "getEngineInfo")
    assert thief.requests == [], "nothing, and no token, reached the other origin"
    # The redirect was the target's answer to getEngineInfo, and it is not one the contract allows.
    assert run.exit_code == 1, run.stderr
    failed: dict[str, object] = run.summary["requirements"]  # type: ignore[assignment]
    undocumented = json.dumps(failed["P2-CON-001"])
    assert f"Received: {status}" in undocumented and "GET /engine" in undocumented, undocumented
    assert "answered " + str(status) in json.dumps(failed["P2-SEM-021"]), "scenarios judged it too"
    assert run.summary["verdict"] == "fail"


def test_schemathesis_session_follows_a_redirect_only_within_its_origin() -> None:
    thief_requests: list[bytes] = []

    def thief(conn: object) -> None:
        import socket

        assert isinstance(conn, socket.socket)
        thief_requests.append(servers._read_whole_request(conn))
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")

    with servers.HostileServer(thief) as other:
        target_url = ""

        def target(conn: object) -> None:
            import socket

            assert isinstance(conn, socket.socket)
            request = servers._read_whole_request(conn)
            location = other.url + "/stolen" if b"GET /away" in request else target_url + "/final"
            if b"GET /final" in request:
                conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\nConnection: close\r\n\r\nhome")
                return
            head = f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            conn.sendall(head.encode())

        with servers.HostileServer(target) as server:
            target_url = server.url
            settings = load_settings({"base_url": server.url}, env=CREDENTIALS)
            session = LimitedSession(Limits.from_settings(settings))
            away = session.get(server.url + "/away", headers={"Authorization": "Bearer secret-token-value"})
            home = session.get(server.url + "/home", headers={"Authorization": "Bearer secret-token-value"})
            session.close()
    assert away.status_code == 302 and away.url == server.url + "/away", "the redirect is the answer"
    assert thief_requests == []
    assert home.status_code == 200 and home.text == "home", "a redirect within the origin is followed"
    assert isinstance(away, requests.Response)
