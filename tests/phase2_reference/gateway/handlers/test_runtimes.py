"""The runtimes operations over HTTP: start, read, stop, delete, list with filters, lifecycle events."""

from __future__ import annotations

import uuid
from typing import Any

from tests.phase2_reference.conftest import Api


def types_of(api: Api, runtime_id: str) -> list[str]:
    page = api.request("GET", "/events", params={"subject": f"runtimes/{runtime_id}", "limit": 100}).json()
    return [event["type"] for event in page["items"]]


def test_start_answers_202_pending_then_reaches_running_through_starting(api: Api) -> None:
    world = api.create_world()
    response = api.request(
        "POST",
        "/runtimes",
        json={"world_id": world["id"], "plugin": "physics-sim", "parameters": {"seed": "42"}},
    )
    assert response.status_code == 202
    runtime = response.json()
    assert response.headers["location"] == f"/v2/runtimes/{runtime['id']}"
    assert response.headers["etag"] == '"1"'
    assert runtime["status"] == "pending"
    assert runtime["failure_reason"] is None
    assert runtime["parameters"] == {"seed": "42"}
    assert runtime["world_id"] == world["id"]
    running = api.wait_status(runtime["id"], "running")
    assert running["status"] == "running"
    assert running["version"] == 3
    read = api.request("GET", f"/runtimes/{runtime['id']}")
    assert read.headers["etag"] == '"3"'
    assert types_of(api, runtime["id"]) == ["runtime.created", "runtime.starting", "runtime.running"]
    events = api.request("GET", "/events", params={"subject": f"runtimes/{runtime['id']}"}).json()["items"]
    assert [event["data"]["status"] for event in events] == ["pending", "starting", "running"]


def test_a_world_too_big_for_the_plugin_fails_with_a_reason(api: Api) -> None:
    world = api.create_world(settings={"max_entities": 20_000})
    runtime = api.start_runtime(world["id"], plugin="agent-sim")
    failed = api.wait_status(runtime["id"], "failed")
    assert failed["status"] == "failed"
    assert "10000" in failed["failure_reason"]
    assert types_of(api, runtime["id"]) == ["runtime.created", "runtime.starting", "runtime.failed"]
    stop = api.request("POST", f"/runtimes/{runtime['id']}/stop")
    assert stop.status_code == 409
    assert api.request("DELETE", f"/runtimes/{runtime['id']}").status_code == 204


def test_stop_goes_through_stopping_to_stopped_and_only_then_deletes(api: Api) -> None:
    world = api.create_world()
    runtime = api.start_runtime(world["id"])
    api.wait_status(runtime["id"], "running")
    early_delete = api.request("DELETE", f"/runtimes/{runtime['id']}")
    assert early_delete.status_code == 409
    stop = api.request("POST", f"/runtimes/{runtime['id']}/stop")
    assert stop.status_code == 202
    assert stop.json()["status"] == "stopping"
    assert stop.headers["location"] == f"/v2/runtimes/{runtime['id']}"
    again = api.request("POST", f"/runtimes/{runtime['id']}/stop")
    assert again.status_code in (202, 409)  # 202 while stopping; 409 if it already stopped
    assert api.wait_status(runtime["id"], "stopped")["status"] == "stopped"
    assert api.request("POST", f"/runtimes/{runtime['id']}/stop").status_code == 409
    assert api.request("DELETE", f"/runtimes/{runtime['id']}").status_code == 204
    assert api.request("GET", f"/runtimes/{runtime['id']}").status_code == 404
    assert types_of(api, runtime["id"])[-3:] == ["runtime.stopping", "runtime.stopped", "runtime.deleted"]


def test_stopping_a_pending_runtime(api: Api) -> None:
    world = api.create_world()
    runtime = api.start_runtime(world["id"])
    stop = api.request("POST", f"/runtimes/{runtime['id']}/stop")
    assert stop.status_code == 202
    assert api.wait_status(runtime["id"], "stopped")["status"] == "stopped"


def test_unknown_plugin_is_422_and_unknown_world_404(api: Api) -> None:
    world = api.create_world()
    unknown_plugin = api.request("POST", "/runtimes", json={"world_id": world["id"], "plugin": "no-such-sim"})
    assert unknown_plugin.status_code == 422
    assert unknown_plugin.json()["errors"][0]["pointer"] == "/plugin"
    unknown_world = api.request("POST", "/runtimes", json={"world_id": str(uuid.uuid4()), "plugin": "agent-sim"})
    assert unknown_world.status_code == 404
    invalid = api.request("POST", "/runtimes", json={"world_id": "nope", "plugin": "agent-sim"})
    assert invalid.status_code == 422


def test_list_filters_return_exactly_the_matching_runtimes(api: Api) -> None:
    world = api.create_world()
    other = api.create_world()
    physics = api.start_runtime(world["id"], "physics-sim")
    agents = api.start_runtime(world["id"], "agent-sim")
    elsewhere = api.start_runtime(other["id"], "physics-sim")
    for runtime in (physics, agents, elsewhere):
        api.wait_status(runtime["id"], "running")

    def listed(**params: Any) -> list[str]:
        page = api.request("GET", "/runtimes", params={"limit": 100, **params}).json()
        return [runtime["id"] for runtime in page["items"]]

    assert listed(world_id=world["id"]) == [physics["id"], agents["id"]]
    assert listed(world_id=world["id"], plugin="agent-sim") == [agents["id"]]
    assert set(listed(plugin="physics-sim")) >= {physics["id"], elsewhere["id"]}
    assert agents["id"] not in listed(plugin="physics-sim")
    running = listed(status="running")
    assert {physics["id"], agents["id"], elsewhere["id"]} <= set(running)
    assert listed(status="stopped", world_id=world["id"]) == []
    assert api.request("GET", "/runtimes", params={"status": "sleeping"}).status_code == 400


def test_another_tenants_runtime_is_404_for_everything(api: Api) -> None:
    world = api.create_world("b")
    theirs = api.start_runtime(world["id"], who="b")
    path = f"/runtimes/{theirs['id']}"
    assert api.request("GET", path).status_code == 404
    assert api.request("POST", path + "/stop").status_code == 404
    assert api.request("DELETE", path).status_code == 404
    ids = [r["id"] for r in api.request("GET", "/runtimes", params={"limit": 100}).json()["items"]]
    assert theirs["id"] not in ids
    assert api.request("GET", path, "b").status_code == 200


def test_scheduler_counts_the_callers_runtimes_only(api: Api) -> None:
    before = api.request("GET", "/engine/scheduler").json()
    world = api.create_world()
    runtime = api.start_runtime(world["id"], "agent-sim")
    api.wait_status(runtime["id"], "running")
    other_world = api.create_world("b")
    api.start_runtime(other_world["id"], who="b")
    after = api.request("GET", "/engine/scheduler").json()
    assert after["runtimes_by_status"]["running"] == before["runtimes_by_status"]["running"] + 1
    live = {plugin["name"]: plugin["live_runtimes"] for plugin in after["plugins"]}
    live_before = {plugin["name"]: plugin["live_runtimes"] for plugin in before["plugins"]}
    assert live["agent-sim"] == live_before["agent-sim"] + 1
    assert live["physics-sim"] == live_before["physics-sim"]
