"""The engine operations over HTTP: engine info, plugins, scheduler and their feature flags."""

from __future__ import annotations

import pytest

from tests.phase2_reference.conftest import Api, make_api, trusting_config


def test_engine_reports_exactly_the_enabled_flags(api: Api) -> None:
    engine = api.request("GET", "/engine").json()
    assert engine["name"] == "phase2-reference"
    assert engine["api_version"] == "2.0.0"
    assert engine["feature_flags"] == ["world-preview", "engine-v2"]
    assert engine["plugin_count"] == 2
    assert engine["version"]


@pytest.mark.parametrize("flags", [frozenset(), frozenset({"engine-v2"})])
def test_flags_off_hide_their_operations(flags: frozenset[str]) -> None:
    for api in make_api(trusting_config(feature_flags=flags)):
        assert api.request("GET", "/engine").json()["feature_flags"] == sorted(flags)
        scheduler = api.request("GET", "/engine/scheduler")
        assert scheduler.status_code == (200 if "engine-v2" in flags else 404)
        # The flag check comes before authentication: a missing operation needs no token.
        assert api.request("GET", "/engine/scheduler", None).status_code == (401 if "engine-v2" in flags else 404)


def test_plugins_list_and_read_by_name(api: Api) -> None:
    plugins = api.request("GET", "/engine/plugins").json()["items"]
    assert [p["name"] for p in plugins] == ["physics-sim", "agent-sim"]
    physics = api.request("GET", "/engine/plugins/physics-sim")
    assert physics.status_code == 200
    assert physics.headers["etag"] == '"1.4.2"'
    assert physics.json() == {
        "name": "physics-sim",
        "version": "1.4.2",
        "description": "Rigid-body physics with deterministic replay.",
        "capabilities": ["physics", "collisions", "deterministic-replay"],
        "max_entities": 100000,
    }
    agents = api.request("GET", "/engine/plugins/agent-sim").json()
    assert agents["version"] == "0.9.0"
    assert agents["max_entities"] == 10000
    assert api.request("GET", "/engine/plugins/unknown-sim").status_code == 404
    assert api.request("GET", "/engine/plugins/Not_Valid").status_code == 400


def test_engine_needs_engine_read(api: Api) -> None:
    assert api.request("GET", "/engine", None).status_code == 401
    assert api.request("GET", "/engine/plugins", "reader").status_code == 200
