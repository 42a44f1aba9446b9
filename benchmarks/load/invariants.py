"""After the load: walks to the end, the SQLite file, and the model, compared."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import sqlite3
import time
from array import array
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from benchmarks.load.model import (
    MAX_MESSAGES_PER_KIND,
    TLS,
    TRANSITIONS,
    Ledger,
    RuntimeRecord,
    TenantState,
    Violations,
    WorldRecord,
    fingerprint,
    tenant_clients,
)


@dataclass
class FinalState:
    worlds: dict[str, dict[str, Any]]
    runtimes: dict[str, dict[str, Any]]
    events: list[dict[str, Any]]


async def walk(http: httpx.AsyncClient, path: str, rng: random.Random, violations: Violations) -> list[dict[str, Any]]:
    """Every item of a list, page by page with varying limits; repeats and disorder are violations."""
    items: list[dict[str, Any]] = []
    seen: set[str] = set()
    cursor: str | None = None
    while True:
        params: dict[str, Any] = {"limit": rng.choice((3, 20, 64, 100))}
        if cursor is not None:
            params["cursor"] = cursor
        answer = await http.get(path, params=params)
        if answer.status_code != 200:
            violations.add("final walk failed", f"{path} → {answer.status_code}: {answer.text[:200]}")
            return items
        page = answer.json()
        for item in page["items"]:
            if item["id"] in seen:
                violations.add("walk repeats", f"final {path} walk: {item['id']} twice")
            seen.add(item["id"])
            items.append(item)
        cursor = page["next_cursor"]
        if cursor is None:
            return items


async def wait_for_settled_runtimes(http: httpx.AsyncClient, deadline: float) -> dict[str, str]:
    """Wait until no runtime is pending, starting or stopping; returns those still moving at the deadline."""
    moving: dict[str, str] = {}
    while True:
        moving = {}
        for status in ("pending", "starting", "stopping"):
            cursor: str | None = None
            while True:
                params: dict[str, Any] = {"status": status, "limit": 100}
                if cursor is not None:
                    params["cursor"] = cursor
                page = (await http.get("/runtimes", params=params)).json()
                moving.update({runtime["id"]: status for runtime in page["items"]})
                cursor = page["next_cursor"]
                if cursor is None:
                    break
        if not moving or time.monotonic() > deadline:
            return moving
        await asyncio.sleep(0.1)


async def read_final_state(
    base_url: str, tenant: str, settle_seconds: float, rng: random.Random, violations: Violations
) -> FinalState:
    async with httpx.AsyncClient(base_url=base_url, timeout=60, verify=TLS) as http:
        login = await http.post("/auth/login", json=tenant_clients()[tenant].login_body())
        http.headers["Authorization"] = f"Bearer {login.json()['access_token']}"
        stuck = await wait_for_settled_runtimes(http, time.monotonic() + settle_seconds)
        for runtime_id, status in sorted(stuck.items())[:MAX_MESSAGES_PER_KIND]:
            violations.add("runtime did not settle", f"{runtime_id} still {status} after {settle_seconds:.0f} s")
        worlds = await walk(http, "/worlds", rng, violations)
        runtimes = await walk(http, "/runtimes", rng, violations)
        events = await walk(http, "/events", rng, violations)
    return FinalState(
        worlds={world["id"]: world for world in worlds},
        runtimes={runtime["id"]: runtime for runtime in runtimes},
        events=events,
    )


def compare_with_store(database: Path, tenant: str, final: FinalState, violations: Violations) -> None:
    """The walks against the SQLite file itself: the same rows, in the same order, nothing else."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            violations.add("store corrupt", f"integrity_check: {integrity}")
        tables = {
            "worlds": ("SELECT id FROM worlds WHERE tenant = ? AND deleted = 0 ORDER BY seq", list(final.worlds)),
            "runtimes": ("SELECT id FROM runtimes WHERE tenant = ? ORDER BY seq", list(final.runtimes)),
            "events": (
                "SELECT CAST(seq AS TEXT) FROM events WHERE tenant = ? ORDER BY seq",
                [event["id"] for event in final.events],
            ),
        }
        for table, (sql, walked) in tables.items():
            stored = [row[0] for row in connection.execute(sql, (tenant,))]
            if stored != walked:
                missing = sorted(set(stored) - set(walked))[:5]
                extra = sorted(set(walked) - set(stored))[:5]
                violations.add(
                    "walk differs from the store",
                    f"{tenant} {table}: {len(walked)} walked, {len(stored)} stored; missing {missing}, extra {extra}",
                )
        for world_id, version, doc in connection.execute(
            "SELECT id, version, doc FROM worlds WHERE tenant = ? AND deleted = 0", (tenant,)
        ):
            if json.loads(doc)["version"] != version:
                violations.add("store row inconsistent", f"world {world_id}: column v{version}, document differs")


def check_event_order(tenant: str, events: list[dict[str, Any]], violations: Violations) -> None:
    previous = 0
    for event in events:
        event_id = int(event["id"])
        if event_id <= previous:
            violations.add("events out of order", f"{tenant}: {event_id} after {previous}")
        previous = event_id


def check_worlds(
    state: TenantState, final: FinalState, by_subject: dict[str, list[dict[str, Any]]], v: Violations
) -> int:
    """Per world: its events against its acknowledgements and the store; returns the changes verified."""
    verified = 0
    uncertain_names = set(state.uncertain_creates)
    adopted: set[str] = set()
    subjects = {subject.split("/", 1)[1] for subject in by_subject if subject.startswith("worlds/")}
    for world_id in sorted(subjects | set(state.worlds)):
        events = by_subject.get(f"worlds/{world_id}", [])
        record = state.worlds.get(world_id)
        if not events:
            v.add("change without event", f"world {world_id}: acknowledged create, no world.created")
            continue
        first = events[0]
        if first["type"] != "world.created" or first["data"].get("version") != 1:
            v.add("events out of order", f"world {world_id} begins with {first['type']}")
            continue
        if record is None:
            name = first["data"].get("name")
            if name not in uncertain_names:
                v.add("phantom event", f"world.created {first['id']} for {world_id} ({name}), never acknowledged")
                continue
            # A create the kill left unanswered did happen: adopt it with what its event says.
            uncertain_names.discard(name)
            record = WorldRecord(world_id, state.tenant, {1: first["data"]}, 0.0)
            adopted.add(world_id)
        elif first["data"] != record.acked[1]:
            v.add("event differs from the answer", f"world.created {first['id']}: {first['data']} vs the 201")
        verified += 1
        version = 1
        deleted = False
        unexplained_updates = 0
        for event in events[1:]:
            if deleted:
                v.add("event after deletion", f"{event['type']} {event['id']} after world {world_id} was deleted")
                break
            if event["type"] == "world.deleted":
                deleted = True
                if event["data"] != {"id": world_id}:
                    v.add("wrong event data", f"world.deleted {event['id']}: {event['data']}")
                if record.deleted_at is None and not record.uncertain_delete:
                    v.add("phantom event", f"world.deleted {event['id']} for {world_id}, never acknowledged")
                verified += 1
                continue
            if event["type"] != "world.updated":
                v.add("events out of order", f"{event['type']} {event['id']} on world {world_id}")
                continue
            event_version = event["data"].get("version")
            if event_version != version + 1:
                v.add("duplicate or missing event", f"world {world_id}: update to v{event_version} after v{version}")
            version = event_version if isinstance(event_version, int) else version + 1
            acked = record.acked.get(version)
            if acked is None:
                unexplained_updates += 1
            elif acked != event["data"]:
                v.add("event differs from the answer", f"world.updated {event['id']} v{version} vs its 200")
            verified += 1
        if unexplained_updates > record.uncertain_updates:
            v.add(
                "phantom event",
                f"world {world_id}: {unexplained_updates} world.updated never acknowledged "
                f"({record.uncertain_updates} left unanswered)",
            )
        missing_versions = sorted(acked_version for acked_version in record.acked if acked_version > version)
        if missing_versions:
            v.add("change without event", f"world {world_id}: acknowledged v{missing_versions} have no event")
        if record.deleted_at is not None and not deleted:
            v.add("change without event", f"world {world_id}: acknowledged delete, no world.deleted")
        stored = final.worlds.get(world_id)
        if deleted:
            if stored is not None:
                v.add("event without change", f"world {world_id}: world.deleted but still stored")
        elif stored is None:
            v.add("acknowledged write lost", f"world {world_id} (v{record.max_acked} acknowledged) is gone")
        else:
            if stored["version"] < record.max_acked:
                v.add(
                    "acknowledged write lost",
                    f"world {world_id}: v{stored['version']} < acknowledged v{record.max_acked}",
                )
            if stored != events[-1]["data"]:
                v.add(
                    "store differs from its last event",
                    f"world {world_id}: v{stored['version']} vs event {events[-1]['id']}",
                )
    for world_id in sorted(state.unknown_listed - set(state.worlds) - adopted):
        v.add("phantom world", f"a walk listed {world_id}, which no answer acknowledged")
    return verified


def check_runtimes(
    state: TenantState, final: FinalState, by_subject: dict[str, list[dict[str, Any]]], v: Violations
) -> int:
    verified = 0
    uncertain_starts = Counter(state.uncertain_starts)
    subjects = {subject.split("/", 1)[1] for subject in by_subject if subject.startswith("runtimes/")}
    for runtime_id in sorted(subjects | set(state.runtimes)):
        events = by_subject.get(f"runtimes/{runtime_id}", [])
        record = state.runtimes.get(runtime_id)
        if not events:
            v.add("change without event", f"runtime {runtime_id}: acknowledged start, no runtime.created")
            continue
        first = events[0]
        if first["type"] != "runtime.created" or first["data"].get("status") != "pending":
            v.add("events out of order", f"runtime {runtime_id} begins with {first['type']}")
            continue
        world_id = first["data"].get("world_id", "")
        if record is None:
            if uncertain_starts[world_id] <= 0:
                v.add("phantom event", f"runtime.created {first['id']} for {runtime_id}, never acknowledged")
                continue
            uncertain_starts[world_id] -= 1
            record = RuntimeRecord(runtime_id, state.tenant, world_id, first["data"], 0.0)
        elif first["data"] != record.created:
            v.add("event differs from the answer", f"runtime.created {first['id']} vs its 202")
        world = state.worlds.get(world_id)
        verified += 1
        status, version = "pending", 1
        deleted = False
        stopping_versions: set[int] = set()
        for event in events[1:]:
            if deleted:
                v.add("event after deletion", f"{event['type']} {event['id']} after runtime {runtime_id} was deleted")
                break
            if event["type"] == "runtime.deleted":
                deleted = True
                if status not in ("stopped", "failed"):
                    v.add("events out of order", f"runtime {runtime_id} deleted while {status}")
                world_delete = world is not None and (world.deleted_at is not None or world.uncertain_delete)
                if record.deleted_at is None and not record.uncertain_delete and not world_delete:
                    v.add("phantom event", f"runtime.deleted {event['id']} for {runtime_id}, never acknowledged")
                verified += 1
                continue
            new_status = event["type"].removeprefix("runtime.")
            event_version = event["data"].get("version")
            if (status, new_status) not in TRANSITIONS or event["data"].get("status") != new_status:
                v.add("events out of order", f"runtime {runtime_id}: {status} → {event['type']} ({event['id']})")
            if event_version != version + 1:
                v.add("duplicate or missing event", f"runtime {runtime_id}: v{event_version} after v{version}")
            if new_status == "stopping" and isinstance(event_version, int):
                stopping_versions.add(event_version)
                acked = record.stop_acks.get(event_version)
                if acked is not None and acked != event["data"]:
                    v.add("event differs from the answer", f"runtime.stopping {event['id']} vs its 202")
            status = new_status
            version = event_version if isinstance(event_version, int) else version + 1
            verified += 1
        unanswered = stopping_versions - record.stop_acks.keys()
        if len(unanswered) > record.uncertain_stops:
            v.add("phantom event", f"runtime {runtime_id}: runtime.stopping v{sorted(unanswered)} never acknowledged")
        if record.stop_acks.keys() - stopping_versions:
            v.add("change without event", f"runtime {runtime_id}: stop acknowledged at v{sorted(record.stop_acks)}")
        if record.deleted_at is not None and not deleted:
            v.add("change without event", f"runtime {runtime_id}: acknowledged delete, no runtime.deleted")
        stored = final.runtimes.get(runtime_id)
        if deleted:
            if stored is not None:
                v.add("event without change", f"runtime {runtime_id}: runtime.deleted but still stored")
        elif stored is None:
            v.add("acknowledged write lost", f"runtime {runtime_id} is gone without runtime.deleted")
        elif stored != events[-1]["data"]:
            v.add("store differs from its last event", f"runtime {runtime_id}: {stored['status']} v{stored['version']}")
        elif stored["version"] < record.max_seen:
            v.add("acknowledged write lost", f"runtime {runtime_id}: v{stored['version']} < seen v{record.max_seen}")
    return verified


def cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a live process, from /proc (0.0 where there is none)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    # utime and stime are fields 14 and 15 of proc(5); the split starts at field 3.
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def mid_transition(database: Path, violations: Violations) -> dict[str, str]:
    """Right after the kill, before any restart: the file is sound, and which runtimes it caught moving."""
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        integrity = connection.execute("PRAGMA integrity_check").fetchone()[0]
        if integrity != "ok":
            violations.add("store corrupt", f"after the kill: {integrity}")
        rows = connection.execute(
            "SELECT id, status FROM runtimes WHERE status IN ('pending', 'starting', 'stopping')"
        ).fetchall()
    return {runtime_id: status for runtime_id, status in rows}


def check_resumed(caught: dict[str, str], finals: dict[str, FinalState], v: Violations) -> int:
    """Each runtime the kill caught mid-transition moved on after the restart; returns how many."""
    resumed = 0
    for runtime_id, status in caught.items():
        events = [
            event for final in finals.values() for event in final.events if event["subject"] == f"runtimes/{runtime_id}"
        ]
        statuses = [event["type"].removeprefix("runtime.") for event in events]
        later = statuses[statuses.index(status if status != "pending" else "created") + 1 :] if statuses else []
        if not later:
            v.add("runtime did not resume", f"{runtime_id} was {status} at the kill and never moved on")
        else:
            resumed += 1
    return resumed


def check_tails(ledger: Ledger, finals: dict[str, FinalState], v: Violations) -> int:
    """Every tail read during the load is a prefix of the final log, event for event."""
    checked = 0
    for tail in ledger.tails:
        final_events = finals[tail.tenant].events
        final_ids = array("q", (int(event["id"]) for event in final_events[: len(tail.ids)]))
        if final_ids != tail.ids:
            mismatch = next((i for i, (a, b) in enumerate(zip(final_ids, tail.ids, strict=False)) if a != b), None)
            v.add(
                "tail not a prefix of the log",
                f"{tail.tenant} {tail.kind} tail of {len(tail.ids)} events differs at position {mismatch}",
            )
        checked += len(tail.ids)
    for tenant, final in finals.items():
        known = ledger.tenants[tenant].event_fingerprints
        for event in final.events:
            first = known.get(int(event["id"]))
            if first is not None and first != fingerprint(event):
                v.add("event changed", f"{tenant} event {event['id']} differs from what the load read")
    return checked
