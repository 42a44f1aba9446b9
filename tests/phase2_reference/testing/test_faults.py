"""The fault corpus: every fault is declared properly and really changes the behaviour it names.

Each probe below observes one behaviour; it is run against a clean reference and against one
started with the fault, in-process over httpx.ASGITransport, and must see the clean value in the
first and the faulted value in the second.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from phase2_reference.app import Phase2App, create_app
from phase2_reference.oauth import keys as keys_module
from phase2_reference.oauth.keys import SigningKey
from phase2_reference.testing.faults import REGISTRY, ActiveFaults
from tests.phase2_reference.conftest import CLIENTS, KEYS, REPO, Collector, mint, trusting_config

PACKAGE = REPO / "phase2_reference"
SHARED_KEY = SigningKey.generate()


@pytest.fixture(autouse=True)
def one_signing_key(monkeypatch: pytest.MonkeyPatch) -> None:
    # RSA key generation dominates app start-up; these in-memory apps may share one key.
    monkeypatch.setattr(keys_module.SigningKey, "generate", classmethod(lambda cls: SHARED_KEY))


# --- the registry -------------------------------------------------------------------------------


def test_the_corpus_is_large_and_points_at_real_requirements() -> None:
    catalog = yaml.safe_load((REPO / "openapi" / "requirements.yaml").read_text())
    known = {entry["id"] for entry in catalog["requirements"]}
    assert len(REGISTRY) >= 40
    for fault in REGISTRY.values():
        assert re.fullmatch(r"[a-z0-9]+(-[a-z0-9]+)*", fault.name)
        assert fault.requirement in known, fault.name
        assert fault.description.endswith(".")
    classes = {fault.requirement.split("-")[1] for fault in REGISTRY.values()}
    assert classes == {"CON", "PRO", "SEM", "AUTH", "HLT", "TEL"}


def test_behaviour_faults_are_tested_where_they_act_and_no_call_names_an_unknown_one() -> None:
    source = "\n".join(path.read_text() for path in PACKAGE.rglob("*.py") if path.name != "faults.py")
    called = set(re.findall(r'active\(\s*"([a-z0-9-]+)"\s*\)', source))
    assert called <= REGISTRY.keys()
    behaviour = {name for name, fault in REGISTRY.items() if fault.mutate is None}
    assert behaviour == called


def test_unknown_faults_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown fault: nope"):
        ActiveFaults.of(["nope"])
    with pytest.raises(KeyError):
        ActiveFaults().active("nope")


# --- probing -------------------------------------------------------------------------------------


class Probe:
    """An in-process reference with a client for each test client, and small helpers."""

    def __init__(self, app: Phase2App, http: httpx.AsyncClient) -> None:
        self.app = app
        self.http = http
        self.tokens: dict[str, str] = {}

    async def token(self, who: str = "a") -> str:
        if who not in self.tokens:
            client_id, secret = CLIENTS[who]
            response = await self.http.post("/v2/auth/login", json={"client_id": client_id, "client_secret": secret})
            self.tokens[who] = response.json()["access_token"]
        return self.tokens[who]

    async def call(
        self,
        method: str,
        path: str,
        who: str | None = "a",
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        merged = dict(headers or {})
        if who is not None:
            merged.setdefault("Authorization", f"Bearer {await self.token(who)}")
        return await self.http.request(method, "/v2" + path, headers=merged, **kwargs)

    async def world(self, who: str = "a", **body: Any) -> dict[str, Any]:
        body.setdefault("name", f"w-{uuid.uuid4().hex[:10]}")
        world: dict[str, Any] = (await self.call("POST", "/worlds", who, json=body)).json()
        return world

    async def runtime(self, world_id: str, plugin: str = "physics-sim", who: str = "a") -> dict[str, Any]:
        runtime: dict[str, Any] = (
            await self.call("POST", "/runtimes", who, json={"world_id": world_id, "plugin": plugin})
        ).json()
        return runtime

    async def settle(self, runtime_id: str, wanted: set[str], who: str = "a") -> dict[str, Any]:
        """Wait (briefly) until the runtime reaches one of `wanted`, or return where it is."""
        runtime: dict[str, Any] = {}
        for _ in range(40):
            runtime = (await self.call("GET", f"/runtimes/{runtime_id}", who)).json()
            if runtime["status"] in wanted:
                break
            await asyncio.sleep(0.01)
        return runtime

    async def store(self, available: bool) -> None:
        await self.http.post("/_reference/store", json={"available": available})

    async def metrics(self, accept: str = "") -> httpx.Response:
        return await self.http.get("/v2/metrics", headers={"Accept": accept} if accept else {})


ProbeFunction = Callable[[Probe], Awaitable[object]]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token() -> str:
    claims = jwt.decode(mint(), options={"verify_signature": False})
    header = b64(json.dumps({"alg": "none", "kid": "test-issuer-2026"}).encode())
    return f"{header}.{b64(json.dumps(claims).encode())}."


def confused_token() -> str:
    claims = jwt.decode(mint(), options={"verify_signature": False})
    header = b64(json.dumps({"alg": "HS256", "kid": "test-issuer-2026"}).encode())
    signing_input = f"{header}.{b64(json.dumps(claims).encode())}"
    secret = (KEYS / "test-issuer-public.pem").read_bytes()
    return f"{signing_input}.{b64(hmac.new(secret, signing_input.encode(), hashlib.sha256).digest())}"


def tampered_token() -> str:
    header, _, signature = mint().split(".")
    claims = jwt.decode(mint(), options={"verify_signature": False})
    claims["client_id"] = "someone-else"
    return f"{header}.{b64(json.dumps(claims).encode())}.{signature}"


async def status_with(probe: Probe, token: str) -> int:
    return (await probe.http.get("/v2/worlds", headers={"Authorization": f"Bearer {token}"})).status_code


async def walk(probe: Probe, limit: int) -> list[str]:
    names: list[str] = []
    cursor = None
    for _ in range(10):
        params: dict[str, Any] = {"limit": limit, **({"cursor": cursor} if cursor else {})}
        page = (await probe.call("GET", "/worlds", params=params)).json()
        names.extend(world["name"] for world in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            break
    return names


async def counter(probe: Probe, route: str) -> float:
    text = (await probe.metrics()).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "phase2_http_requests_total" and sample.labels["route"] == route
    )


async def parses(probe: Probe) -> bool:
    try:
        list(text_string_to_metric_families((await probe.metrics()).text))
    except ValueError:
        return False
    return True


async def families(probe: Probe) -> set[str]:
    return {family.name for family in text_string_to_metric_families((await probe.metrics()).text)}


async def buckets_cumulative(probe: Probe) -> bool:
    for _ in range(3):
        await probe.http.get("/v2/healthz")
        await probe.http.get("/v2/nowhere")
    text = (await probe.metrics()).text
    for family in text_string_to_metric_families(text):
        if family.name != "phase2_http_request_duration_seconds":
            continue
        series: dict[tuple[str, ...], list[tuple[float, float]]] = {}
        counts: dict[tuple[str, ...], float] = {}
        for sample in family.samples:
            key = (sample.labels["method"], sample.labels["route"], sample.labels["status"])
            if sample.name.endswith("_bucket"):
                series.setdefault(key, []).append((float(sample.labels["le"]), sample.value))
            elif sample.name.endswith("_count"):
                counts[key] = sample.value
        return all(
            [v for _, v in sorted(buckets)] == sorted(v for _, v in buckets) and sorted(buckets)[-1][1] == counts[key]
            for key, buckets in series.items()
        )
    return False


async def labels_after_patch(probe: Probe) -> dict[str, str]:
    world = await probe.world(labels={"a": "1", "b": "2"})
    headers = {"If-Match": '"1"', "Content-Type": "application/merge-patch+json"}
    response = await probe.call("PATCH", f"/worlds/{world['id']}", headers=headers, json={"labels": {"b": "3"}})
    labels: dict[str, str] = response.json()["labels"]
    return labels


async def updated_events(probe: Probe) -> int:
    world = await probe.world()
    headers = {"If-Match": '"1"', "Content-Type": "application/merge-patch+json"}
    await probe.call("PATCH", f"/worlds/{world['id']}", headers=headers, json={"description": "changed"})
    page = (await probe.call("GET", "/events", params={"subject": f"worlds/{world['id']}"})).json()
    return sum(1 for event in page["items"] if event["type"] == "world.updated")


async def deleted_world_listed(probe: Probe) -> bool:
    world = await probe.world()
    await probe.call("DELETE", f"/worlds/{world['id']}")
    listed = (await probe.call("GET", "/worlds", params={"limit": 100})).json()["items"]
    return world["id"] in [w["id"] for w in listed]


async def delete_world_with_live_runtime(probe: Probe) -> int:
    world = await probe.world()
    await probe.runtime(world["id"])
    return (await probe.call("DELETE", f"/worlds/{world['id']}")).status_code


async def page_size(probe: Probe) -> int:
    for _ in range(3):
        await probe.world()
    return len((await probe.call("GET", "/worlds", params={"limit": 1})).json()["items"])


async def walked(probe: Probe) -> list[str]:
    for name in ("p1", "p2", "p3"):
        await probe.world(name=name)
    return await walk(probe, 2)


async def status_after_start(probe: Probe) -> str:
    world = await probe.world()
    runtime = await probe.runtime(world["id"])
    settled = await probe.settle(runtime["id"], {"running"})
    return str(settled["status"])


async def uppercase_after_start(probe: Probe) -> str:
    world = await probe.world()
    runtime = await probe.runtime(world["id"])
    return str((await probe.settle(runtime["id"], {"running", "RUNNING"}))["status"])


async def status_after_stop(probe: Probe) -> str:
    world = await probe.world()
    runtime = await probe.runtime(world["id"])
    await probe.settle(runtime["id"], {"running"})
    await probe.call("POST", f"/runtimes/{runtime['id']}/stop")
    return str((await probe.settle(runtime["id"], {"stopped"}))["status"])


async def failure_reason(probe: Probe) -> object:
    world = await probe.world(settings={"max_entities": 50_000})
    runtime = await probe.runtime(world["id"], "agent-sim")
    return (await probe.settle(runtime["id"], {"failed"}))["failure_reason"] is not None


async def failed_runtime_path(probe: Probe) -> list[str]:
    world = await probe.world(settings={"max_entities": 50_000})
    runtime = await probe.runtime(world["id"], "agent-sim")
    await probe.settle(runtime["id"], {"failed"})
    page = (await probe.call("GET", "/events", params={"subject": f"runtimes/{runtime['id']}"})).json()
    return [event["type"].removeprefix("runtime.") for event in page["items"]]


async def delete_running_runtime(probe: Probe) -> int:
    world = await probe.world()
    runtime = await probe.runtime(world["id"])
    await probe.settle(runtime["id"], {"running"})
    return (await probe.call("DELETE", f"/runtimes/{runtime['id']}")).status_code


async def runtime_after_delete(probe: Probe) -> int:
    world = await probe.world(settings={"max_entities": 50_000})
    runtime = await probe.runtime(world["id"], "agent-sim")
    await probe.settle(runtime["id"], {"failed"})
    assert (await probe.call("DELETE", f"/runtimes/{runtime['id']}")).status_code == 204
    return (await probe.call("GET", f"/runtimes/{runtime['id']}")).status_code


async def filtered_runtimes(probe: Probe) -> int:
    world = await probe.world()
    await probe.runtime(world["id"], "physics-sim")
    await probe.runtime(world["id"], "agent-sim")
    params = {"world_id": world["id"], "plugin": "agent-sim"}
    return len((await probe.call("GET", "/runtimes", params=params)).json()["items"])


async def filtered_events(probe: Probe) -> int:
    await probe.world()
    return len((await probe.call("GET", "/events", params={"type": "world.deleted"})).json()["items"])


async def resumed_stream(probe: Probe) -> int:
    await probe.world()
    await probe.world()
    first = (await probe.call("GET", "/events")).json()["items"][0]["id"]
    stream = await probe.call("GET", "/events/stream", headers={"Last-Event-ID": first})
    return stream.text.count("id: ")


async def stream_type(probe: Probe) -> str:
    return (await probe.call("GET", "/events/stream")).headers["content-type"]


async def readiness_while_down(probe: Probe) -> int:
    await probe.store(False)
    try:
        return (await probe.http.get("/v2/readyz")).status_code
    finally:
        await probe.store(True)


async def retry_after_while_down(probe: Probe) -> bool:
    await probe.token()
    await probe.store(False)
    try:
        return "retry-after" in (await probe.call("GET", "/worlds")).headers
    finally:
        await probe.store(True)


async def stream_429_is_a_problem(probe: Probe) -> bool:
    """With one request a hundred seconds, the client's second request, to the stream, is 429."""
    await probe.call("GET", "/worlds")
    answer = await probe.call("GET", "/events/stream", headers={"Accept": "text/event-stream"})
    assert answer.status_code == 429
    return answer.headers["content-type"] == "application/problem+json" and b'"status":429' in answer.content


async def liveness_seconds(probe: Probe) -> bool:
    started = time.perf_counter()
    await probe.http.get("/v2/healthz")
    return time.perf_counter() - started >= 0.3


async def raw_path_routes(probe: Probe) -> bool:
    world = await probe.world()
    await probe.call("GET", f"/worlds/{world['id']}")
    return await counter(probe, "/worlds/{world_id}") > 0


async def refresh_twice(probe: Probe) -> int:
    client_id, secret = CLIENTS["a"]
    tokens = (await probe.http.post("/v2/auth/login", json={"client_id": client_id, "client_secret": secret})).json()
    await probe.http.post("/v2/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    return (await probe.http.post("/v2/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).status_code


async def after_logout(probe: Probe) -> int:
    token = await probe.token()
    await probe.call("POST", "/auth/logout")
    return (await probe.http.get("/v2/worlds", headers={"Authorization": f"Bearer {token}"})).status_code


async def other_tenant(probe: Probe, action: str) -> object:
    theirs = await probe.world("b")
    if action == "read":
        return (await probe.call("GET", f"/worlds/{theirs['id']}")).status_code
    if action == "list":
        listed = (await probe.call("GET", "/worlds", params={"limit": 100})).json()["items"]
        return theirs["id"] in [w["id"] for w in listed]
    if action == "write":
        headers = {"If-Match": "*", "Content-Type": "application/merge-patch+json"}
        return (
            await probe.call("PATCH", f"/worlds/{theirs['id']}", headers=headers, json={"description": "x"})
        ).status_code
    subjects = [e["subject"] for e in (await probe.call("GET", "/events", params={"limit": 100})).json()["items"]]
    return f"worlds/{theirs['id']}" in subjects


def request_id(headers: dict[str, str] | None = None) -> ProbeFunction:
    async def probe(p: Probe) -> object:
        return (await p.http.get("/v2/healthz", headers=headers or {})).headers.get("x-request-id")

    return probe


async def distinct_request_ids(probe: Probe) -> bool:
    first = (await probe.http.get("/v2/healthz")).headers["x-request-id"]
    second = (await probe.http.get("/v2/healthz")).headers["x-request-id"]
    return first != second


async def create_status(probe: Probe, body: Any, content_type: str = "application/json") -> int:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return (await probe.call("POST", "/worlds", headers={"Content-Type": content_type}, content=raw)).status_code


async def with_flags_engine(probe: Probe) -> object:
    return (await probe.call("GET", "/engine")).json()["feature_flags"]


async def trace_continued(probe: Probe) -> object:
    collector: Collector = probe.app.collector  # type: ignore[attr-defined]
    trace_id = uuid.uuid4().hex
    await probe.http.get("/v2/healthz", headers={"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"})
    probe.app.state.tracing.flush()
    spans = collector.wait_for(lambda span: span.name == "GET /healthz")
    return any(span.trace_id.hex() == trace_id for span in spans)


async def span_attributes(probe: Probe) -> object:
    collector: Collector = probe.app.collector  # type: ignore[attr-defined]
    await probe.http.get("/v2/healthz")
    probe.app.state.tracing.flush()
    [span] = collector.wait_for(lambda span: span.name == "GET /healthz")
    return sorted(item.key for item in span.attributes if item.key.startswith("http."))


HUGE_BODY = json.dumps({"name": "huge", "description": "x" * (1024 * 1024 + 10)}).encode()

# fault -> (probe, value on a clean reference, value with the fault)
PROBES: dict[str, tuple[ProbeFunction, object, object]] = {
    "no-request-id": (lambda p: request_id()(p), ..., None),
    "request-id-not-echoed": (request_id({"X-Request-ID": "mine-1"}), "mine-1", ...),
    "request-id-constant": (distinct_request_ids, True, False),
    "plain-text-errors": (
        lambda p: _header(p.http.get("/v2/nowhere"), "content-type"),
        "application/problem+json",
        "text/plain; charset=utf-8",
    ),
    "problem-status-mismatch": (lambda p: _json(p.http.get("/v2/nowhere"), "status"), 404, 400),
    "traceback-in-errors": (lambda p: _text(p.http.get("/v2/nowhere"), "Traceback"), False, True),
    "no-location-on-create": (
        lambda p: _has(p.call("POST", "/worlds", json={"name": "loc"}), "location"),
        True,
        False,
    ),
    "no-etag-on-get": (lambda p: _etag_on_get(p), True, False),
    "405-without-allow": (lambda p: _has(p.http.put("/v2/worlds"), "allow"), True, False),
    "naive-timestamps": (lambda p: _created_at_zone(p), True, False),
    "unknown-enum-status": (lambda p: _start_status(p), "pending", "queued"),
    "no-body-limit": (lambda p: create_status(p, HUGE_BODY), 413, 422),
    "ignore-content-type": (lambda p: create_status(p, {"name": "typed"}, "text/plain"), 415, 201),
    "accept-unknown-fields": (lambda p: create_status(p, {"name": "extra", "colour": "red"}), 422, 201),
    "no-retry-after": (retry_after_while_down, True, False),
    "stream-429-empty-body": (stream_429_is_a_problem, True, False),
    "malformed-json-500": (lambda p: create_status(p, b"{"), 400, 500),
    "schema-extra-field": (lambda p: _world_field(p, "internal_shard"), False, True),
    "create-answers-200": (lambda p: create_status(p, {"name": "two-hundred"}), 201, 200),
    "wrong-content-type": (
        lambda p: _header(p.call("GET", "/engine"), "content-type"),
        "application/json",
        "text/plain; charset=utf-8",
    ),
    "server-error-on-unicode-name": (lambda p: create_status(p, {"name": "wörld"}), 422, 500),
    "reject-valid-labels": (
        lambda p: create_status(p, {"name": "labelled", "labels": {"team": "x"}}),
        201,
        422,
    ),
    "not-deleted": (runtime_after_delete, 404, 200),
    "duplicate-name-allowed": (lambda p: _duplicate(p), 409, 201),
    "patch-replaces": (labels_after_patch, {"a": "1", "b": "3"}, {"b": "3"}),
    "ignore-if-match": (lambda p: _patch_status(p, '"9"'), 412, 200),
    "if-match-optional": (lambda p: _patch_status(p, None), 428, 200),
    "soft-delete-visible": (deleted_world_listed, False, True),
    "delete-with-live-runtimes": (delete_world_with_live_runtime, 409, 204),
    "limit-ignored": (page_size, 1, 3),
    "pagination-skips": (walked, ["p1", "p2", "p3"], ["p1", "p2"]),
    "pagination-repeats": (walked, ["p1", "p2", "p3"], ["p1", "p2", "p2", "p3"]),
    "runtime-stuck-starting": (status_after_start, "running", "starting"),
    "uppercase-running-status": (uppercase_after_start, "running", "RUNNING"),
    "stop-never-completes": (status_after_stop, "stopped", "stopping"),
    "failed-without-reason": (failure_reason, True, False),
    "failed-after-running": (
        failed_runtime_path,
        ["created", "starting", "failed"],
        ["created", "starting", "running", "failed"],
    ),
    "delete-running-runtime": (delete_running_runtime, 409, 204),
    "runtime-filter-ignored": (filtered_runtimes, 1, 2),
    "missing-update-events": (updated_events, 1, 0),
    "duplicate-events": (updated_events, 1, 2),
    "event-filter-ignored": (filtered_events, 0, 1),
    "sse-wrong-content-type": (stream_type, "text/event-stream", "text/plain; charset=utf-8"),
    "sse-ignores-last-event-id": (resumed_stream, 1, 2),
    "flag-always-on": (lambda p: _status(p.call("GET", "/engine/scheduler")), 404, 200),
    "engine-flags-wrong": (with_flags_engine, ["engine-v2"], ["world-preview"]),
    "single-plugin": (lambda p: _status(p.call("GET", "/engine/plugins/agent-sim")), 200, 404),
    "no-www-authenticate": (lambda p: _has(p.http.get("/v2/worlds"), "www-authenticate"), True, False),
    "accept-expired": (lambda p: status_with(p, mint({"exp": int(time.time()) - 3600})), 401, 200),
    "accept-nbf-future": (lambda p: status_with(p, mint({"nbf": int(time.time()) + 3600})), 401, 200),
    "accept-any-issuer": (lambda p: status_with(p, mint({"iss": "https://nobody.example"})), 401, 200),
    "accept-any-audience": (lambda p: status_with(p, mint({"aud": "other-api"})), 401, 200),
    "accept-alg-none": (lambda p: status_with(p, unsigned_token()), 401, 200),
    "alg-confusion": (lambda p: status_with(p, confused_token()), 401, 200),
    "skip-signature": (lambda p: status_with(p, tampered_token()), 401, 200),
    "accept-unknown-kid": (
        lambda p: status_with(p, mint(key_file="rogue-private.pem", kid="rogue")),
        401,
        200,
    ),
    "ignore-scopes": (lambda p: _create_with(p, mint({"scope": "engine:read"})), 403, 201),
    "token-response-missing-fields": (lambda p: _login_field(p, "refresh_token"), True, False),
    "token-cacheable": (lambda p: _login_header(p, "cache-control"), "no-store", "private, max-age=300"),
    "invalid-client-400": (
        lambda p: _status(p.http.post("/v2/auth/login", json={"client_id": "x", "client_secret": "y"})),
        401,
        400,
    ),
    "refresh-not-rotated": (refresh_twice, 400, 200),
    "logout-noop": (after_logout, 401, 200),
    "tenant-leak-read": (lambda p: other_tenant(p, "read"), 404, 200),
    "tenant-leak-list": (lambda p: other_tenant(p, "list"), False, True),
    "tenant-leak-write": (lambda p: other_tenant(p, "write"), 404, 200),
    "tenant-leak-events": (lambda p: other_tenant(p, "events"), False, True),
    "reader-can-write": (
        lambda p: _status(p.call("POST", "/worlds", "reader", json={"name": "r"})),
        403,
        201,
    ),
    "healthz-needs-auth": (lambda p: _status(p.http.get("/v2/healthz")), 200, 401),
    "readyz-no-components": (
        lambda p: _json(p.http.get("/v2/readyz"), "checks", keys=True),
        ["data_store", "event_bus"],
        [],
    ),
    "readyz-always-ready": (readiness_while_down, 503, 200),
    "health-cacheable": (
        lambda p: _header(p.http.get("/v2/healthz"), "cache-control"),
        "no-store",
        "public, max-age=30",
    ),
    "health-no-head": (lambda p: _status(p.http.head("/v2/healthz")), 200, 405),
    "slow-liveness": (liveness_seconds, False, True),
    "metrics-garbled": (parses, True, False),
    "metrics-no-openmetrics": (
        lambda p: _header(p.metrics("application/openmetrics-text; version=1.0.0"), "content-type", prefix=True),
        "application/openmetrics-text",
        "text/plain",
    ),
    "metrics-missing-histogram": (
        lambda p: _in(families(p), "phase2_http_request_duration_seconds"),
        True,
        False,
    ),
    "metrics-double-count": (lambda p: _count_healthz(p), 1.0, 2.0),
    "metrics-raw-path": (raw_path_routes, True, False),
    "histogram-not-cumulative": (buckets_cumulative, True, False),
    "trace-ignores-traceparent": (trace_continued, True, False),
    "span-missing-attributes": (
        span_attributes,
        ["http.request.method", "http.response.status_code", "http.route"],
        [],
    ),
    "garbage-token-wrong-error": (
        lambda p: _text_of_header(p.http.get("/v2/worlds", headers={"Authorization": "Bearer not-a-jwt"}), "error="),
        'error="invalid_token"',
        'error="invalid_request"',
    ),
    "refuse-single-scope": (lambda p: _single_scope_list_status(p), 200, 403),
    "metadata-without-jwks": (
        lambda p: _json_has(p.http.get("/.well-known/oauth-authorization-server"), "jwks_uri"),
        True,
        False,
    ),
    "request-id-with-spaces": (lambda p: _text_of_header(p.http.get("/v2/healthz"), " "), None, " "),
    "clamp-tick-rate": (
        lambda p: create_status(p, {"name": "clamped", "settings": {"tick_rate_hz": 0}}),
        422,
        201,
    ),
    "created-id-unreachable": (lambda p: _created_world_read_status(p), 200, 404),
    "non-bearer-challenge": (
        lambda p: _header(p.http.get("/v2/worlds", headers={"Authorization": "Bearer a.b.c"}), "www-authenticate"),
        ...,
        ...,
    ),
    "read-drops-description": (lambda p: _read_description(p), "kept", ""),
    "flagged-operation-missing": (lambda p: _preview_status(p), 200, 404),
}


async def _text_of_header(response: Awaitable[httpx.Response], needle: str) -> str | None:
    """The part of the response's challenge or request id from `needle` on (None when absent)."""
    answered = await response
    value = answered.headers.get("www-authenticate") or answered.headers.get("x-request-id") or ""
    start = value.find(needle)
    if start < 0:
        return None
    if needle == "error=":
        return value[start:].split(",")[0]
    return needle


async def _json_has(response: Awaitable[httpx.Response], name: str) -> bool:
    return name in (await response).json()


async def _single_scope_list_status(probe: Probe) -> int:
    client_id, secret = CLIENTS["a"]
    login = await probe.http.post(
        "/v2/auth/login", json={"client_id": client_id, "client_secret": secret, "scope": "worlds:read"}
    )
    token = login.json()["access_token"]
    return (await probe.http.get("/v2/worlds", headers={"Authorization": f"Bearer {token}"})).status_code


async def _created_world_read_status(probe: Probe) -> int:
    world = await probe.world()
    return (await probe.call("GET", f"/worlds/{world['id']}")).status_code


async def _read_description(probe: Probe) -> object:
    world = await probe.world(description="kept")
    return (await probe.call("GET", f"/worlds/{world['id']}")).json()["description"]


async def _preview_status(probe: Probe) -> int:
    world = await probe.world()
    return (await probe.call("GET", f"/worlds/{world['id']}/preview")).status_code


async def _status(response: Awaitable[httpx.Response]) -> int:
    return (await response).status_code


async def _header(response: Awaitable[httpx.Response], name: str, *, prefix: bool = False) -> object:
    value = (await response).headers.get(name)
    return value.split(";")[0] if prefix and value else value


async def _has(response: Awaitable[httpx.Response], name: str) -> bool:
    return name in (await response).headers


async def _json(response: Awaitable[httpx.Response], name: str, *, keys: bool = False) -> object:
    value = (await response).json()[name]
    return sorted(value) if keys else value


async def _text(response: Awaitable[httpx.Response], needle: str) -> bool:
    return needle in (await response).text


async def _in(found: Awaitable[set[str]], name: str) -> bool:
    return name in await found


async def _etag_on_get(probe: Probe) -> bool:
    world = await probe.world()
    return "etag" in (await probe.call("GET", f"/worlds/{world['id']}")).headers


async def _created_at_zone(probe: Probe) -> bool:
    return str((await probe.world())["created_at"]).endswith("Z")


async def _start_status(probe: Probe) -> object:
    world = await probe.world()
    return (await probe.runtime(world["id"]))["status"]


async def _world_field(probe: Probe, name: str) -> bool:
    return name in await probe.world()


async def _duplicate(probe: Probe) -> int:
    await probe.world(name="twice")
    return (await probe.call("POST", "/worlds", json={"name": "twice"})).status_code


async def _patch_status(probe: Probe, if_match: str | None) -> int:
    world = await probe.world()
    headers = {"Content-Type": "application/merge-patch+json", **({"If-Match": if_match} if if_match else {})}
    return (await probe.call("PATCH", f"/worlds/{world['id']}", headers=headers, json={"description": "x"})).status_code


async def _create_with(probe: Probe, token: str) -> int:
    response = await probe.http.post(
        "/v2/worlds", json={"name": "scoped"}, headers={"Authorization": f"Bearer {token}"}
    )
    return response.status_code


async def _login(probe: Probe) -> httpx.Response:
    client_id, secret = CLIENTS["a"]
    return await probe.http.post("/v2/auth/login", json={"client_id": client_id, "client_secret": secret})


async def _login_field(probe: Probe, name: str) -> bool:
    return name in (await _login(probe)).json()


async def _login_header(probe: Probe, name: str) -> object:
    return (await _login(probe)).headers.get(name)


async def _count_healthz(probe: Probe) -> float:
    await probe.http.get("/v2/healthz")
    return await counter(probe, "/healthz")


SPECIAL_CONFIG: dict[str, dict[str, Any]] = {
    "flag-always-on": {"feature_flags": frozenset()},
    "flagged-operation-missing": {"feature_flags": frozenset({"world-preview"})},
    "engine-flags-wrong": {"feature_flags": frozenset({"engine-v2"})},
    "stream-429-empty-body": {"rate_limit": 0.01},
}


def run_probe(name: str, faulted: bool, endpoint: str | None, collector: Collector | None) -> object:
    probe_function = PROBES[name][0]
    overrides = dict(SPECIAL_CONFIG.get(name, {}))
    config = trusting_config(
        runtime_step_ms=10,
        faults=frozenset({name}) if faulted else frozenset(),
        otlp_endpoint=endpoint,
        **overrides,
    )

    async def main() -> object:
        app = create_app(config)
        app.collector = collector  # type: ignore[attr-defined]
        transport = httpx.ASGITransport(app=app)
        try:
            async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
                return await probe_function(Probe(app, http))
        finally:
            await app.shutdown()
            app.close()

    return asyncio.run(main())


def test_every_fault_has_a_probe() -> None:
    assert set(PROBES) == set(REGISTRY)


@pytest.fixture
def tracing(request: pytest.FixtureRequest) -> Iterator[tuple[str | None, Collector | None]]:
    if not request.node.callspec.params["name"].startswith(("trace-", "span-")):
        yield None, None
        return
    collector_fixture = request.getfixturevalue("collector")
    collector, endpoint = collector_fixture
    yield endpoint, collector


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_the_fault_changes_the_behaviour_it_names(name: str, tracing: tuple[str | None, Collector | None]) -> None:
    endpoint, collector = tracing
    _, clean, faulted = PROBES[name]
    if collector is not None:
        collector.spans.clear()
    clean_value = run_probe(name, False, endpoint, collector)
    if collector is not None:
        collector.spans.clear()
    faulted_value = run_probe(name, True, endpoint, collector)
    if clean is ...:
        assert clean_value is not None
    else:
        assert clean_value == clean
    if faulted is ...:
        assert faulted_value != clean_value
    else:
        assert faulted_value == faulted
    assert clean_value != faulted_value


def test_faults_leave_the_rest_conforming(tmp_path: Path) -> None:
    # A response fault touches only what it names: a 404 problem keeps its shape under no-location-on-create.
    async def main() -> dict[str, Any]:
        app = create_app(trusting_config(faults=frozenset({"no-location-on-create"})))
        try:
            async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://x") as http:
                response = await http.get("/v2/nowhere")
                assert response.headers["content-type"] == "application/problem+json"
                document: dict[str, Any] = response.json()
                assert document["request_id"] == response.headers["x-request-id"]
                return document
        finally:
            await app.shutdown()
            app.close()

    assert asyncio.run(main())["status"] == 404
