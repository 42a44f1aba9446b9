"""The event list and the server-sent event stream over HTTP."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.phase2_reference.conftest import Api, make_api, trusting_config


@pytest.fixture
def fresh() -> Iterator[Api]:
    yield from make_api(trusting_config())


def parse_stream(text: str) -> list[dict[str, Any]]:
    messages = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        messages.append({"id": fields["id"], "event": fields["event"], "data": json.loads(fields["data"])})
    return messages


def all_events(api: Api, who: str = "a", **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {"limit": 3, **params, **({"cursor": cursor} if cursor else {})}
        page = api.request("GET", "/events", who, params=query).json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if cursor is None:
            return items


def test_every_change_is_one_event_in_order(fresh: Api) -> None:
    world = fresh.create_world(name="evented")
    fresh.request(
        "PATCH",
        f"/worlds/{world['id']}",
        headers={"If-Match": '"1"', "Content-Type": "application/merge-patch+json"},
        json={"description": "v2"},
    )
    fresh.request("DELETE", f"/worlds/{world['id']}")
    events = all_events(fresh)
    assert [e["type"] for e in events] == ["world.created", "world.updated", "world.deleted"]
    assert all(e["subject"] == f"worlds/{world['id']}" for e in events)
    ids = [int(e["id"]) for e in events]
    assert ids == sorted(ids)
    assert len(set(ids)) == 3
    assert events[0]["data"]["name"] == "evented"
    assert events[1]["data"]["description"] == "v2"
    assert events[1]["data"]["version"] == 2
    assert events[2]["data"] == {"id": world["id"]}
    assert all(e["time"].endswith("Z") for e in events)


def test_filters_by_type_and_subject(fresh: Api) -> None:
    first = fresh.create_world()
    second = fresh.create_world()
    fresh.request("DELETE", f"/worlds/{first['id']}")
    created = all_events(fresh, type="world.created")
    assert [e["subject"] for e in created] == [f"worlds/{first['id']}", f"worlds/{second['id']}"]
    about_first = all_events(fresh, subject=f"worlds/{first['id']}")
    assert [e["type"] for e in about_first] == ["world.created", "world.deleted"]
    both = all_events(fresh, type="world.deleted", subject=f"worlds/{second['id']}")
    assert both == []
    assert fresh.request("GET", "/events", params={"type": "world.exploded"}).status_code == 400
    assert fresh.request("GET", "/events", params={"subject": "planets/1"}).status_code == 400


def test_other_tenants_events_are_never_listed_or_streamed(fresh: Api) -> None:
    mine = fresh.create_world()
    theirs = fresh.create_world("b")
    listed = {e["subject"] for e in all_events(fresh)}
    assert listed == {f"worlds/{mine['id']}"}
    streamed = parse_stream(fresh.request("GET", "/events/stream").text)
    assert {m["data"]["subject"] for m in streamed} == {f"worlds/{mine['id']}"}
    assert {e["subject"] for e in all_events(fresh, "b")} == {f"worlds/{theirs['id']}"}


def test_the_stream_sends_every_event_as_sse(fresh: Api) -> None:
    for _ in range(3):
        fresh.create_world()
    response = fresh.request("GET", "/events/stream")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/event-stream"
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-request-id"]
    messages = parse_stream(response.text)
    listed = all_events(fresh)
    assert [m["id"] for m in messages] == [e["id"] for e in listed]
    assert [m["event"] for m in messages] == [e["type"] for e in listed]
    assert [m["data"] for m in messages] == listed


def test_last_event_id_resumes_after_it(fresh: Api) -> None:
    for _ in range(5):
        fresh.create_world()
    listed = all_events(fresh)
    resumed = parse_stream(fresh.request("GET", "/events/stream", headers={"Last-Event-ID": listed[1]["id"]}).text)
    assert [m["id"] for m in resumed] == [e["id"] for e in listed[2:]]
    nothing = fresh.request("GET", "/events/stream", headers={"Last-Event-ID": "9" * 19})
    assert nothing.status_code == 200
    assert nothing.text == ""
    assert fresh.request("GET", "/events/stream", headers={"Last-Event-ID": "abc"}).status_code == 400


def test_max_events_bounds_the_stream(fresh: Api) -> None:
    for _ in range(4):
        fresh.create_world()
    response = fresh.request("GET", "/events/stream", params={"max_events": 2})
    assert len(parse_stream(response.text)) == 2
    assert fresh.request("GET", "/events/stream", params={"max_events": 0}).status_code == 400
    assert fresh.request("GET", "/events/stream", params={"wait": 11}).status_code == 400


def test_the_stream_waits_for_new_events_and_delivers_them(fresh: Api) -> None:
    fresh.create_world()
    token = fresh.token("a")

    def later() -> None:
        time.sleep(0.3)
        fresh.create_world(name="arrives-later")

    writer = threading.Thread(target=later)
    started = time.monotonic()
    writer.start()
    received: list[dict[str, Any]] = []
    with (
        httpx.Client(base_url=fresh.server.base_url, timeout=10) as client,
        client.stream(
            "GET",
            "/events/stream",
            params={"wait": 5, "max_events": 2},
            headers={"Authorization": f"Bearer {token}"},
        ) as response,
    ):
        buffer = ""
        for chunk in response.iter_text():
            buffer += chunk
        received = parse_stream(buffer)
    writer.join()
    elapsed = time.monotonic() - started
    assert [m["event"] for m in received] == ["world.created", "world.created"]
    assert received[1]["data"]["data"]["name"] == "arrives-later"
    assert elapsed < 4, "the stream ended once max_events was reached, not at the wait deadline"


def test_the_stream_ends_after_wait_without_news(fresh: Api) -> None:
    started = time.monotonic()
    response = fresh.request("GET", "/events/stream", params={"wait": 1})
    assert response.status_code == 200
    assert response.text == ""
    assert 0.9 <= time.monotonic() - started < 3
