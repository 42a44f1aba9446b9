"""The simulated engine plugins."""

from __future__ import annotations

from phase2_reference.engines.plugins import PLUGINS


def test_two_plugins_with_their_limits() -> None:
    assert list(PLUGINS) == ["physics-sim", "agent-sim"]
    assert PLUGINS["physics-sim"].max_entities == 100_000
    assert PLUGINS["agent-sim"].as_json()["capabilities"] == ["agents", "scripting"]


def test_refusal_names_the_limit() -> None:
    agents = PLUGINS["agent-sim"]
    assert agents.refusal({"max_entities": 10_000}) is None
    reason = agents.refusal({"max_entities": 10_001})
    assert reason is not None
    assert "10001" in reason
    assert "10000" in reason
