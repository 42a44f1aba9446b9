"""The test-only controls: taking the data store away and listing active faults."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.phase2_reference.conftest import Api, make_api, trusting_config


@pytest.fixture
def fresh() -> Iterator[Api]:
    yield from make_api(trusting_config())


def set_store(api: Api, available: bool) -> None:
    response = api.http.post(api.server.origin + "/_reference/store", json={"available": available})
    assert response.status_code == 200
    assert response.json() == {"available": available}


def test_operations_answer_503_with_retry_after_while_the_store_is_away(fresh: Api) -> None:
    world = fresh.create_world()
    runtime = fresh.start_runtime(world["id"])
    token = fresh.token("a")
    set_store(fresh, False)
    try:
        for method, path, body in (
            ("GET", "/worlds", None),
            ("POST", "/worlds", {"name": "during-outage"}),
            ("GET", f"/worlds/{world['id']}", None),
            ("GET", "/events", None),
            ("GET", "/events/stream", None),
            ("POST", "/runtimes", {"world_id": world["id"], "plugin": "agent-sim"}),
            ("GET", "/engine/scheduler", None),
        ):
            response = fresh.request(method, path, json=body)
            assert response.status_code == 503, (method, path)
            assert response.headers["retry-after"] == "1"
            assert response.headers["content-type"] == "application/problem+json"
            assert response.json()["status"] == 503
        login = fresh.login("a")
        assert login.status_code == 503
        # Operations that need no store, and tokens issued before, still work.
        assert fresh.request("GET", "/engine").status_code == 200
        assert fresh.http.get("/healthz").status_code == 200
        assert fresh.http.get("/metrics").status_code == 200
        assert fresh.http.get("/worlds", headers={"Authorization": f"Bearer {token}"}).status_code == 503
    finally:
        set_store(fresh, True)
    names = [w["name"] for w in fresh.request("GET", "/worlds", params={"limit": 100}).json()["items"]]
    assert "during-outage" not in names
    # The orchestrator survived the outage and moves the runtime on.
    assert fresh.wait_status(runtime["id"], "running")["status"] == "running"
    assert fresh.http.get("/readyz").json()["checks"]["event_bus"]["status"] == "pass"


def test_bad_control_bodies(fresh: Api) -> None:
    for body in (b"{", b"[]", b'{"available": "no"}'):
        response = fresh.http.post(fresh.server.origin + "/_reference/store", content=body)
        assert response.status_code == 400


def test_faults_are_listed_with_their_requirement() -> None:
    for api in make_api(trusting_config(faults=frozenset({"no-retry-after", "slow-liveness"}))):
        listed = api.http.get(api.server.origin + "/_reference/faults").json()["items"]
        assert [(f["name"], f["requirement"]) for f in listed] == [
            ("no-retry-after", "P2-PRO-012"),
            ("slow-liveness", "P2-HLT-006"),
        ]


def test_controls_exist_only_when_asked_for() -> None:
    for api in make_api(trusting_config(test_controls=False)):
        assert api.http.post(api.server.origin + "/_reference/store", json={"available": False}).status_code == 404
        assert api.http.get(api.server.origin + "/_reference/faults").status_code == 404
