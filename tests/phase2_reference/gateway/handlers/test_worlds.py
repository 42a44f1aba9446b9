"""The worlds operations over HTTP: create, read, merge-patch, delete, preview, list."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from tests.phase2_reference.conftest import Api, make_api, trusting_config, unique

PATCH = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def fresh() -> Iterator[Api]:
    """A reference of its own, for tests that count everything a tenant holds."""
    yield from make_api(trusting_config())


def events_about(api: Api, subject: str) -> list[dict[str, Any]]:
    page = api.request("GET", "/events", params={"subject": subject, "limit": 100}).json()
    items: list[dict[str, Any]] = page["items"]
    return items


def test_create_answers_201_with_location_etag_and_defaults(api: Api) -> None:
    name = unique()
    response = api.request("POST", "/worlds", json={"name": name})
    assert response.status_code == 201
    world = response.json()
    assert response.headers["location"] == f"/v2/worlds/{world['id']}"
    assert response.headers["etag"] == '"1"'
    assert world["name"] == name
    assert world["description"] == ""
    assert world["labels"] == {}
    assert world["settings"] == {"tick_rate_hz": 30, "max_entities": 1000}
    assert world["version"] == 1
    assert world["created_at"] == world["updated_at"]
    assert world["created_at"].endswith("Z")
    read = api.request("GET", response.headers["location"].removeprefix("/v2"))
    assert read.status_code == 200
    assert read.json() == world
    assert read.headers["etag"] == '"1"'


def test_integral_floats_stay_integers(api: Api) -> None:
    world = api.create_world(settings={"tick_rate_hz": 60.0, "max_entities": 5000})
    assert world["settings"] == {"tick_rate_hz": 60, "max_entities": 5000}


def test_duplicate_names_conflict_in_a_tenant_but_not_across_tenants(api: Api) -> None:
    name = unique()
    api.create_world(name=name)
    again = api.request("POST", "/worlds", json={"name": name})
    assert again.status_code == 409
    assert again.headers["content-type"] == "application/problem+json"
    api.create_world("b", name=name)
    listed = [w for w in api.request("GET", "/worlds", params={"limit": 100}).json()["items"] if w["name"] == name]
    assert len(listed) == 1


def test_merge_patch_applies_rfc7396_and_bumps_the_etag(api: Api) -> None:
    world = api.create_world(labels={"team": "physics", "keep": "yes"}, settings={"tick_rate_hz": 60})
    response = api.request(
        "PATCH",
        f"/worlds/{world['id']}",
        headers={**PATCH, "If-Match": '"1"'},
        json={
            "description": "new",
            "labels": {"team": None, "owner": "sim"},
            "settings": {"max_entities": 10},
        },
    )
    assert response.status_code == 200, response.text
    updated = response.json()
    assert response.headers["etag"] == '"2"'
    assert updated["version"] == 2
    assert updated["description"] == "new"
    assert updated["labels"] == {"keep": "yes", "owner": "sim"}
    assert updated["settings"] == {"tick_rate_hz": 60, "max_entities": 10}
    assert updated["created_at"] == world["created_at"]
    assert updated["updated_at"] >= world["updated_at"]
    assert api.request("GET", f"/worlds/{world['id']}").json() == updated
    types = [event["type"] for event in events_about(api, f"worlds/{world['id']}")]
    assert types == ["world.created", "world.updated"]


def test_patch_needs_if_match_and_a_current_one(api: Api) -> None:
    world = api.create_world()
    path = f"/worlds/{world['id']}"
    missing = api.request("PATCH", path, headers=PATCH, json={"description": "x"})
    assert missing.status_code == 428
    stale = api.request("PATCH", path, headers={**PATCH, "If-Match": '"7"'}, json={"description": "x"})
    assert stale.status_code == 412
    assert api.request("GET", path).json() == world
    star = api.request("PATCH", path, headers={**PATCH, "If-Match": "*"}, json={"description": "x"})
    assert star.status_code == 200
    assert star.json()["version"] == 2
    weak = api.request("PATCH", path, headers={**PATCH, "If-Match": 'W/"2"'}, json={"description": "y"})
    assert weak.status_code == 400


def test_a_patch_that_changes_nothing_keeps_the_version_and_records_no_event(api: Api) -> None:
    world = api.create_world(description="same")
    response = api.request(
        "PATCH", f"/worlds/{world['id']}", headers={**PATCH, "If-Match": '"1"'}, json={"description": "same"}
    )
    assert response.status_code == 200
    assert response.headers["etag"] == '"1"'
    assert [e["type"] for e in events_about(api, f"worlds/{world['id']}")] == ["world.created"]


def test_rename_onto_a_taken_name_conflicts(api: Api) -> None:
    taken = api.create_world()
    world = api.create_world()
    response = api.request(
        "PATCH", f"/worlds/{world['id']}", headers={**PATCH, "If-Match": '"1"'}, json={"name": taken["name"]}
    )
    assert response.status_code == 409


def test_patch_cannot_leave_more_than_16_labels(api: Api) -> None:
    world = api.create_world(labels={f"k{i}": "v" for i in range(16)})
    response = api.request(
        "PATCH",
        f"/worlds/{world['id']}",
        headers={**PATCH, "If-Match": '"1"'},
        json={"labels": {"extra": "v"}},
    )
    assert response.status_code == 422
    assert response.json()["errors"][0]["pointer"] == "/labels"


def test_patch_refuses_json_and_unknown_fields(api: Api) -> None:
    world = api.create_world()
    path = f"/worlds/{world['id']}"
    as_json = api.request("PATCH", path, headers={"If-Match": '"1"'}, json={"description": "x"})
    assert as_json.status_code == 415
    unknown = api.request("PATCH", path, headers={**PATCH, "If-Match": '"1"'}, json={"colour": "red"})
    assert unknown.status_code == 422
    assert unknown.json()["errors"] == [{"pointer": "/colour", "detail": unknown.json()["errors"][0]["detail"]}]
    empty = api.request("PATCH", path, headers={**PATCH, "If-Match": '"1"'}, json={})
    assert empty.status_code == 422
    assert api.request("GET", path).json()["version"] == 1


def test_delete_answers_204_then_404_and_unlisted(api: Api) -> None:
    world = api.create_world()
    path = f"/worlds/{world['id']}"
    stale = api.request("DELETE", path, headers={"If-Match": '"9"'})
    assert stale.status_code == 412
    deleted = api.request("DELETE", path, headers={"If-Match": '"1"'})
    assert deleted.status_code == 204
    assert deleted.content == b""
    assert "content-length" not in deleted.headers
    assert "content-type" not in deleted.headers
    assert api.request("GET", path).status_code == 404
    assert api.request("DELETE", path).status_code == 404
    ids = [w["id"] for w in api.request("GET", "/worlds", params={"limit": 100}).json()["items"]]
    assert world["id"] not in ids
    events = events_about(api, f"worlds/{world['id']}")
    assert [e["type"] for e in events] == ["world.created", "world.deleted"]
    assert events[-1]["data"] == {"id": world["id"]}


def test_delete_with_a_live_runtime_conflicts_then_takes_stopped_runtimes_along(api: Api) -> None:
    world = api.create_world()
    runtime = api.start_runtime(world["id"])
    conflict = api.request("DELETE", f"/worlds/{world['id']}")
    assert conflict.status_code == 409
    assert api.request("GET", f"/worlds/{world['id']}").status_code == 200
    api.wait_status(runtime["id"], "running")
    assert api.request("POST", f"/runtimes/{runtime['id']}/stop").status_code == 202
    assert api.wait_status(runtime["id"], "stopped")["status"] == "stopped"
    assert api.request("DELETE", f"/worlds/{world['id']}").status_code == 204
    assert api.request("GET", f"/runtimes/{runtime['id']}").status_code == 404
    runtime_events = events_about(api, f"runtimes/{runtime['id']}")
    assert runtime_events[-1]["type"] == "runtime.deleted"
    world_events = events_about(api, f"worlds/{world['id']}")
    assert int(runtime_events[-1]["id"]) < int(world_events[-1]["id"])


def test_unknown_and_malformed_ids(api: Api) -> None:
    assert api.request("GET", f"/worlds/{uuid.uuid4()}").status_code == 404
    bad = api.request("GET", "/worlds/not-a-uuid")
    assert bad.status_code == 400
    assert bad.json()["errors"][0]["pointer"] == "#/path/world_id"
    world = api.create_world()
    assert api.request("GET", f"/worlds/{world['id'].upper()}").status_code == 200


def test_preview_lists_the_plugins_that_can_run_the_world(api: Api) -> None:
    small = api.create_world(settings={"max_entities": 5000})
    big = api.create_world(settings={"max_entities": 50_000})
    preview = api.request("GET", f"/worlds/{small['id']}/preview").json()
    assert preview["world_id"] == small["id"]
    assert preview["compatible_plugins"] == ["physics-sim", "agent-sim"]
    assert preview["estimated_memory_mb"] > 0
    assert api.request("GET", f"/worlds/{big['id']}/preview").json()["compatible_plugins"] == ["physics-sim"]


def test_preview_is_404_while_its_flag_is_off() -> None:
    for api in make_api(trusting_config(feature_flags=frozenset())):
        world = api.create_world()
        response = api.request("GET", f"/worlds/{world['id']}/preview")
        assert response.status_code == 404
        assert response.json()["status"] == 404


def test_another_tenants_world_is_404_for_everything(api: Api) -> None:
    theirs = api.create_world("b")
    path = f"/worlds/{theirs['id']}"
    assert api.request("GET", path).status_code == 404
    assert api.request("GET", path + "/preview").status_code == 404
    assert api.request("PATCH", path, headers={**PATCH, "If-Match": "*"}, json={"name": "stolen"}).status_code == 404
    assert api.request("DELETE", path).status_code == 404
    assert api.request("POST", "/runtimes", json={"world_id": theirs["id"], "plugin": "physics-sim"}).status_code == 404
    names = [w["name"] for w in api.request("GET", "/worlds", params={"limit": 100}).json()["items"]]
    assert theirs["name"] not in names
    assert api.request("GET", path, "b").json() == theirs


def test_a_reader_can_read_and_is_refused_every_write(api: Api) -> None:
    world = api.create_world()
    assert api.request("GET", f"/worlds/{world['id']}", "reader").status_code == 200
    writes = [
        api.request("POST", "/worlds", "reader", json={"name": unique()}),
        api.request(
            "PATCH",
            f"/worlds/{world['id']}",
            "reader",
            headers={**PATCH, "If-Match": "*"},
            json={"description": "x"},
        ),
        api.request("DELETE", f"/worlds/{world['id']}", "reader"),
        api.request("POST", "/runtimes", "reader", json={"world_id": world["id"], "plugin": "physics-sim"}),
    ]
    for response in writes:
        assert response.status_code == 403
        assert response.json()["error"] == "insufficient_scope"
    assert api.request("GET", f"/worlds/{world['id']}").json()["version"] == 1


def walk(api: Api, limit: int, who: str = "a") -> list[str]:
    ids: list[str] = []
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": limit}
        if cursor is not None:
            params["cursor"] = cursor
        page = api.request("GET", "/worlds", who, params=params).json()
        assert len(page["items"]) <= limit
        ids.extend(world["id"] for world in page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return ids


def test_pagination_visits_every_world_once_in_creation_order(fresh: Api) -> None:
    created = [fresh.create_world()["id"] for _ in range(7)]
    fresh.create_world("b")
    assert walk(fresh, 3) == created
    assert walk(fresh, 100) == created
    last = fresh.request("GET", "/worlds", params={"limit": 7}).json()
    assert last["next_cursor"] is None


def test_pagination_is_stable_while_others_insert_and_delete(fresh: Api) -> None:
    before = [fresh.create_world()["id"] for _ in range(30)]
    stop = threading.Event()
    added: list[str] = []

    def churn() -> None:
        while not stop.is_set():
            added.append(fresh.create_world()["id"])

    worker = threading.Thread(target=churn)
    worker.start()
    try:
        seen: list[str] = []
        cursor = None
        deleted = before[25]
        while True:
            params: dict[str, Any] = {"limit": 4}
            if cursor:
                params["cursor"] = cursor
            page = fresh.request("GET", "/worlds", params=params).json()
            seen.extend(w["id"] for w in page["items"])
            if len(seen) == 8:
                # Delete a world the walk has not reached yet.
                assert fresh.request("DELETE", f"/worlds/{deleted}").status_code == 204
            cursor = page["next_cursor"]
            if cursor is None:
                break
    finally:
        stop.set()
        worker.join()
    assert len(seen) == len(set(seen)), "an item was repeated"
    survivors = [world_id for world_id in before if world_id != deleted]
    assert seen[: len(survivors)] == survivors, "an item that existed throughout was skipped or reordered"
    assert deleted not in seen
    assert set(seen[len(survivors) :]) <= set(added)


def test_cursors_are_checked(fresh: Api) -> None:
    for _ in range(3):
        fresh.create_world()
    cursor = fresh.request("GET", "/worlds", params={"limit": 1}).json()["next_cursor"]
    assert cursor is not None
    tampered = cursor[:-2] + ("A" if cursor[-2] != "A" else "B") + cursor[-1]
    for bad in (tampered, "eyJzIjoxfQ", "x"):
        response = fresh.request("GET", "/worlds", params={"cursor": bad})
        assert response.status_code == 400, bad
        assert response.json()["errors"][0]["pointer"] == "#/query/cursor"
    runtimes = fresh.request("GET", "/runtimes", params={"cursor": cursor})
    assert runtimes.status_code == 400, "a worlds cursor is refused by another list"
    for limit in ("0", "101", "ten", "-1"):
        assert fresh.request("GET", "/worlds", params={"limit": limit}).status_code == 400
