"""Pure judgements of what the semantic scenarios read: each returns the problems it found.

Kept apart from the scenarios so each rule's reading of a document is unit-tested on its own.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from typing import Any


def differences(expected: Mapping[str, Any], actual: Any, keys: Sequence[str] | None = None) -> list[str]:
    """The members (all, or `keys`) in which `actual` differs from `expected`."""
    if not isinstance(actual, Mapping):
        return [f"expected an object, got {actual!r:.120}"]
    return [
        f"{key}: expected {expected.get(key)!r}, got {actual.get(key)!r}"
        for key in (keys if keys is not None else sorted(set(expected) | set(actual)))
        if expected.get(key) != actual.get(key)
    ]


def sequence_difference(expected: Sequence[tuple[str, str]], seen: Sequence[tuple[str, str]]) -> str:
    """How a recorded (type, subject) sequence differs from the expected one, for a message."""
    missing = [f"{t} {s}" for t, s in expected if (t, s) not in seen]
    repeated = sorted({f"{t} {s}" for t, s in seen if seen.count((t, s)) > 1})
    extra = [f"{t} {s}" for t, s in seen if (t, s) not in expected]
    parts = []
    if missing:
        parts.append(f"missing: {missing}")
    if repeated:
        parts.append(f"more than once: {repeated}")
    if extra:
        parts.append(f"unexpected: {extra}")
    if not parts and list(seen) != list(expected):
        parts.append(f"out of order: expected {[t for t, _ in expected]}, saw {[t for t, _ in seen]}")
    return "; ".join(parts)


def ascending(ids: Sequence[str]) -> bool:
    """Whether decimal event ids grow strictly, as the contract's sequence numbers must."""
    numbers = [int(value) for value in ids if value.isascii() and value.isdigit()]
    return len(numbers) == len(ids) and all(a < b for a, b in itertools.pairwise(numbers))


def data_mismatches(events: Sequence[Mapping[str, Any]]) -> list[str]:
    """Events whose data is not the resource their subject names, or whose status contradicts the type."""
    problems = []
    for event in events:
        data, subject, kind = event.get("data"), str(event.get("subject")), str(event.get("type"))
        if not isinstance(data, dict) or data.get("id") != subject.partition("/")[2]:
            problems.append(f"event {event.get('id')} ({kind}) has data {str(data)[:80]!r}, not about its subject")
            continue
        step = kind.partition(".")[2]
        # A runtime's status events carry the runtime after the change: its status is the step.
        if kind.startswith("runtime.") and step not in ("created", "deleted") and data.get("status") != step:
            problems.append(f"event {event.get('id')} ({kind}) has data with status {data.get('status')!r}")
    return problems


def filter_problems(
    items: Sequence[Mapping[str, Any]],
    query: Mapping[str, str],
    expected: Sequence[str],
    known: Collection[str],
    *,
    ordered: bool,
) -> list[str]:
    """How a filtered list differs from exactly the matching items.

    Every listed item must match every filter; of the `known` items (those the scenario made),
    exactly `expected` must be listed (in that order when `ordered`).
    """
    strays = [str(item.get("id")) for item in items if any(item.get(key) != value for key, value in query.items())]
    shown = [str(item.get("id")) for item in items if str(item.get("id")) in known]
    problems = []
    if strays:
        problems.append(f"{len(strays)} listed item(s) do not match the filter: {strays[:5]}")
    if (shown != list(expected)) if ordered else (sorted(shown) != sorted(expected)):
        problems.append(f"of the scenario's items it listed {shown}, expected {list(expected)}")
    return problems


def plugin_problems(item: Any) -> list[str]:
    """What a listed plugin lacks of a name, a version and capabilities."""
    if not isinstance(item, dict):
        return [f"{item!r:.80} is not a plugin object"]
    name, version, capabilities = item.get("name"), item.get("version"), item.get("capabilities")
    problems = []
    if not isinstance(name, str) or not name:
        problems.append(f"name is {name!r}")
    if not isinstance(version, str) or not version.strip():
        problems.append(f"plugin {name!r}: version is {version!r}")
    if (
        not isinstance(capabilities, list)
        or not capabilities
        or not all(isinstance(capability, str) and capability for capability in capabilities)
    ):
        problems.append(f"plugin {name!r}: capabilities are {capabilities!r}")
    return problems


def preview_problems(
    document: Mapping[str, Any], world: Mapping[str, Any], plugins: Sequence[Mapping[str, Any]]
) -> list[str]:
    """A world preview must be about that world and never offer a plugin too small for it."""
    problems = []
    entities = world["settings"]["max_entities"]
    names = {str(plugin["name"]) for plugin in plugins}
    if document.get("world_id") != world["id"]:
        problems.append(f"world_id {document.get('world_id')!r} is not the previewed world {world['id']}")
    listed = set(document.get("compatible_plugins", []))
    if listed - names:
        problems.append(f"compatible_plugins names unknown plugins {sorted(listed - names)}")
    too_small = sorted(p["name"] for p in plugins if p["max_entities"] < entities and p["name"] in listed)
    if too_small:
        problems.append(f"compatible_plugins lists {too_small}, which support fewer than {entities} entities")
    return problems


def scheduler_problems(
    document: Mapping[str, Any], runtime: Mapping[str, Any], plugins: Sequence[Mapping[str, Any]]
) -> list[str]:
    """The scheduler must count the caller's running runtime, on the plugin it runs on."""
    problems = []
    names = {str(plugin["name"]) for plugin in plugins}
    if document["runtimes_by_status"]["running"] < 1:
        problems.append("runtimes_by_status counts no running runtime while the caller has one")
    live = {entry["name"]: entry["live_runtimes"] for entry in document["plugins"]}
    if set(live) - names:
        problems.append(f"plugins names unknown plugins {sorted(set(live) - names)}")
    if live.get(runtime["plugin"], 0) < 1:
        problems.append(f"plugin {runtime['plugin']} shows no live runtime while the caller runs one on it")
    return problems
