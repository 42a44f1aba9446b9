"""The pure judgements behind the semantic scenarios."""

from __future__ import annotations

from conformance.classes.shared.verdicts import (
    ascending,
    data_mismatches,
    differences,
    filter_problems,
    plugin_problems,
    preview_problems,
    scheduler_problems,
    sequence_difference,
)

PLUGINS = [{"name": "big-sim", "max_entities": 100_000}, {"name": "small-sim", "max_entities": 10_000}]


def test_differences() -> None:
    assert differences({"a": 1, "b": {"x": 1}}, {"a": 1, "b": {"x": 1}}) == []
    assert differences({"a": 1}, {"a": 2, "extra": 3}) == [
        "a: expected 1, got 2",
        "extra: expected None, got 3",
    ]
    assert differences({"a": 1}, {"a": 1, "extra": 3}, keys=["a"]) == []
    assert differences({"a": 1}, None) == ["expected an object, got None"]


def test_sequence_difference() -> None:
    expected = [("world.created", "worlds/a"), ("world.updated", "worlds/a")]
    assert sequence_difference(expected, expected) == ""
    assert "missing" in sequence_difference(expected, expected[:1])
    assert "more than once" in sequence_difference(expected, [*expected, expected[1]])
    assert "unexpected" in sequence_difference(expected, [*expected, ("world.deleted", "worlds/a")])
    assert "out of order" in sequence_difference(expected, expected[::-1])


def test_ascending() -> None:
    assert ascending(["1", "2", "10"])
    assert not ascending(["2", "1"])
    assert not ascending(["1", "1"])
    assert not ascending(["1", "x"])


def test_data_mismatches() -> None:
    good = [
        {
            "id": "1",
            "type": "runtime.running",
            "subject": "runtimes/r",
            "data": {"id": "r", "status": "running"},
        },
        {"id": "2", "type": "runtime.deleted", "subject": "runtimes/r", "data": {"id": "r"}},
        {"id": "3", "type": "world.updated", "subject": "worlds/w", "data": {"id": "w"}},
    ]
    assert data_mismatches(good) == []
    wrong_status = [{**good[0], "data": {"id": "r", "status": "starting"}}]
    assert "status 'starting'" in data_mismatches(wrong_status)[0]
    wrong_subject = [{**good[2], "data": {"id": "other"}}]
    assert "not about its subject" in data_mismatches(wrong_subject)[0]


def test_filter_problems() -> None:
    items = [{"id": "1", "type": "world.updated"}, {"id": "9", "type": "world.updated"}]
    query = {"type": "world.updated"}
    assert filter_problems(items, query, ["1"], {"1", "2"}, ordered=True) == []
    ignored = [*items, {"id": "2", "type": "world.created"}]
    problems = filter_problems(ignored, query, ["1"], {"1", "2"}, ordered=True)
    assert any("do not match" in problem for problem in problems)
    assert any("expected ['1']" in problem for problem in problems)
    assert filter_problems(items[::-1], query, ["9", "1"], {"1", "9"}, ordered=False) == []
    assert filter_problems(items[::-1], query, ["1", "9"], {"1", "9"}, ordered=True) != []


def test_plugin_problems() -> None:
    assert plugin_problems({"name": "a", "version": "1", "capabilities": ["x"]}) == []
    assert len(plugin_problems({"name": "a", "version": " ", "capabilities": []})) == 2
    assert plugin_problems("nope") == ["'nope' is not a plugin object"]


def test_preview_problems() -> None:
    world = {"id": "w", "settings": {"max_entities": 50_000}}
    assert preview_problems({"world_id": "w", "compatible_plugins": ["big-sim"]}, world, PLUGINS) == []
    problems = preview_problems({"world_id": "x", "compatible_plugins": ["small-sim", "ghost"]}, world, PLUGINS)
    assert len(problems) == 3


def test_scheduler_problems() -> None:
    runtime = {"plugin": "big-sim"}
    good = {"runtimes_by_status": {"running": 1}, "plugins": [{"name": "big-sim", "live_runtimes": 1}]}
    assert scheduler_problems(good, runtime, PLUGINS) == []
    bad = {"runtimes_by_status": {"running": 0}, "plugins": [{"name": "ghost", "live_runtimes": 0}]}
    assert len(scheduler_problems(bad, runtime, PLUGINS)) == 3
