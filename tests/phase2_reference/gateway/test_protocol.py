"""Requests the HTTP parser itself rejects still get a problem document."""

from __future__ import annotations

import json
import socket

from tests.phase2_reference.conftest import Api


def test_an_unparseable_request_is_a_problem_400(api: Api) -> None:
    host, port = api.server.origin.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as connection:
        connection.sendall(b"GET /v2/healthz HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b\r\n\r\n")
        raw = b""
        while chunk := connection.recv(65536):
            raw += chunk
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode().split("\r\n")
    assert lines[0] == "HTTP/1.1 400 Bad Request"
    headers = dict(line.lower().split(": ", 1) for line in lines[1:])
    assert headers["content-type"] == "application/problem+json"
    problem = json.loads(body)
    assert problem["status"] == 400
    assert problem["request_id"] == headers["x-request-id"]
