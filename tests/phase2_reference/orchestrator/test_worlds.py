"""The world service: merge semantics, name uniqueness and deletion, without HTTP."""

from __future__ import annotations

import pytest

from phase2_reference.app import build_state
from phase2_reference.gateway.state import AppState
from phase2_reference.shared.problems import ProblemError
from tests.phase2_reference.conftest import trusting_config


@pytest.fixture
def state() -> AppState:
    return build_state(trusting_config())


def test_update_merges_and_versions(state: AppState) -> None:
    world = state.worlds.create("t", {"name": "one", "labels": {"a": "1"}, "settings": {"tick_rate_hz": 10}})
    world_id = world.as_json()["id"]
    updated = state.worlds.update(
        "t", world_id, '"1"', {"labels": {"a": None, "b": "2"}, "settings": {"max_entities": 7}}
    )
    document = updated.as_json()
    assert updated.etag == '"2"'
    assert document["labels"] == {"b": "2"}
    assert document["settings"] == {"tick_rate_hz": 10, "max_entities": 7}
    same = state.worlds.update("t", world_id, "*", {"labels": {"b": "2"}})
    assert same.version == 2


def test_preconditions_and_conflicts(state: AppState) -> None:
    first = state.worlds.create("t", {"name": "one"}).as_json()["id"]
    second = state.worlds.create("t", {"name": "two"}).as_json()["id"]
    with pytest.raises(ProblemError) as stale:
        state.worlds.update("t", first, '"5"', {"description": "x"})
    assert stale.value.status == 412
    with pytest.raises(ProblemError) as taken:
        state.worlds.update("t", second, None, {"name": "one"})
    assert taken.value.status == 409
    with pytest.raises(ProblemError) as duplicate:
        state.worlds.create("t", {"name": "one"})
    assert duplicate.value.status == 409
    state.worlds.create("u", {"name": "one"})
    with pytest.raises(ProblemError) as stale_delete:
        state.worlds.delete("t", first, '"2"')
    assert stale_delete.value.status == 412
    state.worlds.delete("t", first, '"1"')
    state.worlds.create("t", {"name": "one"})


def test_other_tenants_are_invisible(state: AppState) -> None:
    world_id = state.worlds.create("t", {"name": "mine"}).as_json()["id"]
    for attempt in (
        lambda: state.worlds.get("u", world_id),
        lambda: state.worlds.update("u", world_id, "*", {"description": "x"}),
        lambda: state.worlds.delete("u", world_id, None),
        lambda: state.worlds.preview("u", world_id),
    ):
        with pytest.raises(ProblemError) as hidden:
            attempt()
        assert hidden.value.status == 404
    assert state.worlds.list("u", 10, 0).items == []
