"""The event log: appended in the change's transaction, read back in order per tenant."""

from __future__ import annotations

import json

from phase2_reference.bus import events
from phase2_reference.store.sqlite import Store
from phase2_reference.testing.faults import ActiveFaults


def test_append_and_read_after_with_filters() -> None:
    store = Store(None)
    with store.transaction() as tx:
        first = events.append(tx, "a", "world.created", "worlds/1", {"id": "1"})
        events.append(tx, "b", "world.created", "worlds/2", {"id": "2"})
        third = events.append(tx, "a", "world.deleted", "worlds/1", {"id": "1"})
        assert tx.wrote_events
    mine = events.read_after(store, "a", 0, 10)
    assert [event.sequence for event in mine] == [first, third]
    document = json.loads(mine[0].document)
    assert document["id"] == str(first)
    assert document["type"] == "world.created"
    assert document["subject"] == "worlds/1"
    assert document["data"] == {"id": "1"}
    assert document["time"].endswith("Z")
    assert [e.sequence for e in events.read_after(store, "a", first, 10)] == [third]
    assert [e.type for e in events.read_after(store, "a", 0, 10, event_type="world.deleted")] == ["world.deleted"]
    assert events.read_after(store, "a", 0, 10, subject="worlds/2") == []
    assert len(events.read_after(store, None, 0, 10)) == 3
    assert len(events.read_after(store, "a", 0, 1)) == 1
    assert events.read_after(store, "a", 10**30, 10) == []


def test_the_tenancy_and_filter_faults_live_where_events_are_read() -> None:
    store = Store(None)
    with store.transaction() as tx:
        events.append(tx, "a", "world.created", "worlds/1", {"id": "1"})
        events.append(tx, "b", "world.deleted", "worlds/2", {"id": "2"})
    leaking = ActiveFaults.of(["tenant-leak-events"])
    assert [e.type for e in events.read_after(store, "a", 0, 10, faults=leaking)] == ["world.created", "world.deleted"]
    unfiltered = ActiveFaults.of(["event-filter-ignored"])
    assert len(events.read_after(store, "a", 0, 10, event_type="world.deleted", faults=unfiltered)) == 1
    assert events.read_after(store, "a", 0, 10, event_type="world.deleted") == []
