"""Fixtures for the reference server's tests: a real uvicorn server on loopback, and tokens."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from benchmarks.clients import admin, other_tenant, reader
from phase2_reference.config import Config, TrustedIssuer
from phase2_reference.testing.launcher import RunningServer, serving

# The test clients of fixtures/clients.yaml by the short name the tests use: client id and secret.
CLIENTS = {
    who: (client.client_id, client.client_secret)
    for who, client in {"a": admin(), "b": other_tenant(), "reader": reader()}.items()
}
BOTH_FLAGS = frozenset({"world-preview", "engine-v2"})


def unique(prefix: str = "w") -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@dataclass
class Api:
    """An httpx client on the reference's /v2, holding a token per test client."""

    http: httpx.Client
    server: RunningServer
    tokens: dict[str, str] = field(default_factory=dict)

    def login(self, who: str, **extra: Any) -> httpx.Response:
        client_id, secret = CLIENTS[who]
        return self.http.post("/auth/login", json={"client_id": client_id, "client_secret": secret, **extra})

    def token(self, who: str) -> str:
        if who not in self.tokens:
            response = self.login(who)
            assert response.status_code == 200, response.text
            self.tokens[who] = response.json()["access_token"]
        return self.tokens[who]

    def auth(self, who: str | None = "a", **headers: str) -> dict[str, str]:
        if who is not None:
            headers["Authorization"] = f"Bearer {self.token(who)}"
        return headers

    def request(
        self,
        method: str,
        path: str,
        who: str | None = "a",
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        return self.http.request(method, path, headers={**self.auth(who), **(headers or {})}, **kwargs)

    def create_world(self, who: str = "a", **body: Any) -> dict[str, Any]:
        body.setdefault("name", unique())
        response = self.request("POST", "/worlds", who, json=body)
        assert response.status_code == 201, response.text
        world: dict[str, Any] = response.json()
        return world

    def start_runtime(self, world_id: str, plugin: str = "physics-sim", who: str = "a") -> dict[str, Any]:
        response = self.request("POST", "/runtimes", who, json={"world_id": world_id, "plugin": plugin})
        assert response.status_code == 202, response.text
        runtime: dict[str, Any] = response.json()
        return runtime

    def wait_status(self, runtime_id: str, wanted: str, who: str = "a", timeout: float = 5.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            runtime: dict[str, Any] = self.request("GET", f"/runtimes/{runtime_id}", who).json()
            if runtime["status"] == wanted or time.monotonic() > deadline:
                return runtime
            time.sleep(0.01)


def make_api(config: Config) -> Iterator[Api]:
    with serving(config) as server, httpx.Client(base_url=server.base_url, timeout=10) as http:
        yield Api(http, server)


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    """One in-memory reference per test module: both flags on, fast runtime steps, test issuer trusted."""
    yield from make_api(trusting_config())


REPO = Path(__file__).resolve().parents[2]
KEYS = REPO / "fixtures" / "keys"
TEST_ISSUER = "https://test-issuer.phase2.example"
TEST_KID = "test-issuer-2026"


def mint(
    claims: dict[str, Any] | None = None,
    *,
    drop: tuple[str, ...] = (),
    key_file: str = "test-issuer-private.pem",
    kid: str | None = TEST_KID,
    algorithm: str = "RS256",
) -> str:
    """A token of the suite's test issuer (or another key), valid unless the arguments say otherwise."""
    now = int(time.time())
    payload: dict[str, Any] = {
        "iss": TEST_ISSUER,
        "aud": "phase2-api",
        "sub": "test-client",
        "client_id": "test-client",
        "tenant": "tenant-a",
        "scope": "worlds:read worlds:write runtimes:read runtimes:write engine:read events:read",
        "iat": now,
        "nbf": now,
        "exp": now + 600,
        "jti": str(uuid.uuid4()),
    }
    payload.update(claims or {})
    for name in drop:
        payload.pop(name, None)
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(payload, (KEYS / key_file).read_bytes(), algorithm=algorithm, headers=headers)


def trusting_config(**overrides: Any) -> Config:
    """An in-memory reference that trusts the test issuer's JWKS file."""
    settings: dict[str, Any] = {
        "data_dir": None,
        "feature_flags": BOTH_FLAGS,
        "test_controls": True,
        "runtime_step_ms": 20,
        "trusted_issuers": (TrustedIssuer(TEST_ISSUER, str(KEYS / "test-issuer-jwks.json")),),
    }
    settings.update(overrides)
    return Config(**settings)


class Collector:
    """A minimal OTLP/HTTP trace receiver: decodes each ExportTraceServiceRequest it is sent."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.paths: list[str] = []
        self.lock = threading.Lock()

    def wait_for(self, predicate: Callable[[Span], bool], timeout: float = 5.0) -> list[Span]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                found = [span for span in self.spans if predicate(span)]
            if found:
                return found
            time.sleep(0.02)
        raise AssertionError("no matching span arrived")


@pytest.fixture
def collector() -> Iterator[tuple[Collector, str]]:
    received = Collector()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            request = ExportTraceServiceRequest()
            request.ParseFromString(body)
            with received.lock:
                received.paths.append(self.path)
                for resource_spans in request.resource_spans:
                    for scope_spans in resource_spans.scope_spans:
                        received.spans.extend(scope_spans.spans)
            reply = ExportTraceServiceResponse().SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield received, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
