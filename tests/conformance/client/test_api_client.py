"""Contract-aware calls against the embedded reference: the URL, token and media type come from the
contract, and every answer is handed to the observer (the response checks) first."""

from __future__ import annotations

import time

import pytest

from conformance.client.api_client import NO_TOKEN, ApiClient, _query
from conformance.client.observed import ObservedResponse
from conformance.runner.session import RunSession
from tests.conftest import reference_session

session = reference_session("semantic")


@pytest.fixture
def api(session: RunSession) -> tuple[ApiClient, list[ObservedResponse]]:
    assert session.client is not None and session.tokens is not None and session.settings.base_url
    seen: list[ObservedResponse] = []
    return ApiClient(session.client, session.contract, session.tokens, session.settings.base_url, seen.append), seen


def test_a_call_is_built_from_the_contract_and_observed(api: tuple[ApiClient, list[ObservedResponse]]) -> None:
    client, seen = api
    created = client.call("createWorld", json={"name": f"api-client-{time.monotonic_ns() % 10**9}"})
    assert created.status == 201 and created.operation is not None
    assert created.request_headers["authorization"].startswith("Bearer ")
    assert created.request_headers["content-type"] == "application/json"
    world_id = created.json()["id"]
    updated = client.call(
        "updateWorld",
        path={"world_id": world_id},
        json={"description": "patched"},
        headers={"If-Match": created.headers["etag"]},
    )
    assert updated.request_headers["content-type"] == "application/merge-patch+json"  # the contract's type
    assert updated.url.endswith(f"/worlds/{world_id}") and updated.status == 200
    assert client.call("deleteWorld", path={"world_id": world_id}).status == 204
    assert seen == [created, updated, seen[2]] and seen[2].method == "DELETE"


def test_no_token_sends_no_authorization(api: tuple[ApiClient, list[ObservedResponse]]) -> None:
    client, seen = api
    refused = client.call("listWorlds", token=NO_TOKEN, negative=True)
    assert "authorization" not in refused.request_headers and refused.status == 401 and refused.negative
    given = client.call("listWorlds", token="not-a-token")
    assert given.request_headers["authorization"] == "Bearer not-a-token" and given.status == 401
    assert seen == [refused, given]


def test_an_unprotected_operation_gets_no_token(api: tuple[ApiClient, list[ObservedResponse]]) -> None:
    client, _ = api
    assert "authorization" not in client.call("getLiveness").request_headers


def test_a_raw_request_outside_the_contract_is_observed_as_negative(
    api: tuple[ApiClient, list[ObservedResponse]],
) -> None:
    client, seen = api
    answer = client.raw("TRACE", "/worlds")
    assert answer.operation is None and answer.negative and seen == [answer]
    assert answer.status in {401, 405}


def test_a_stream_is_observed_with_what_was_read(api: tuple[ApiClient, list[ObservedResponse]]) -> None:
    client, seen = api
    with client.stream("streamEvents") as opened:
        assert opened.status == 200 and opened.header("content-type").startswith("text/event-stream")
        for _ in opened.chunks(time.monotonic() + 0.5):
            pass
    [observed] = seen
    assert observed.status == 200 and observed.body == bytes(opened.received)


def test_query_values_are_strings_booleans_lower_case_and_none_dropped() -> None:
    assert _query({"limit": 5, "live": True, "cursor": None, "status": "running"}) == {
        "limit": "5",
        "live": "true",
        "status": "running",
    }
    assert _query({}) is None and _query(None) is None
