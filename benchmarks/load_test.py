"""A mixed load on the reference with a file-backed store, then proof that nothing went wrong.

    python benchmarks/load_test.py [--clients 50] [--duration 60] [--kill-after SECONDS] [--seed 1]

`--clients` asyncio clients (httpx, one keep-alive connection each), half in each of the two
tenants of fixtures/clients.yaml, drive one `python -m phase2_reference serve --data-dir DIR`
(uvicorn, SQLite in a temporary directory) on loopback for `--duration` seconds. Each picks
operations at random: creates, merge-patch updates with If-Match, reads, deletes (with and
without If-Match), runtime starts, stops, reads and deletes, walks of /worlds, tails of /events
as pages and as a server-sent stream, filtered runtime lists, and reads and deletes of the other
tenant's worlds. Clients of a tenant share its worlds, so updates race on the same ETag.

Every answer is recorded against a model of what was acknowledged. During the load:

- no 5xx, no status outside what the operation may answer in a race, no lost connection;
- If-Match is atomic: two updates are never acknowledged with the same version;
- a read never shows less than what was acknowledged before it was sent, and never another
  representation of an acknowledged version; the other tenant's worlds are 404 to read and delete;
- a walk of /worlds never repeats a world, lists every world that existed throughout it and
  no world deleted before it began; re-reading an events cursor gives the same events again.

Afterwards (runtimes given time to settle), /worlds, /runtimes and /events are walked to their end
and compared with the SQLite file itself, and:

- every acknowledged create is there unless its delete was acknowledged; every acknowledged
  update's version is reached; every acknowledged delete is gone;
- every change has exactly one event, in order: per world `world.created` (the 201's body), one
  `world.updated` per version (each acknowledged one with the 200's body), `world.deleted` last;
  per runtime a path of the state machine with versions growing by one, its `runtime.stopping`
  events answering acknowledged stops; the last event of each resource is what the store holds;
- no phantom events: none for a change that was never acknowledged (or, across a kill, left
  unanswered), none for another tenant;
- every tail of /events (pages and stream) read during the load is a prefix of the final log.

With `--kill-after S` the server is SIGKILLed S seconds into the load and restarted on the same
data directory (a new port; clients log in again). A request left unanswered by the kill may or
may not have happened; the checks allow exactly that and nothing more. The load then resumes until
`--duration`, and runtimes caught mid-transition must resume and settle.

Prints a report and exits 1 on any violation.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import importlib.util
import json
import os
import random
import sqlite3
import ssl
import sys
import tempfile
import time
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from servers import Reference  # noqa: E402

CLIENTS = {
    "tenant-a": ("tenant-a-admin", "test-only-secret-tenant-a-admin-7f3c"),
    "tenant-b": ("tenant-b-admin", "test-only-secret-tenant-b-admin-91d2"),
}
DATABASE_FILE = "phase2.sqlite3"
PLUGINS = ("physics-sim", "agent-sim")
# agent-sim runs at most 10,000 entities and physics-sim 100,000: some runtimes must fail.
ENTITY_CHOICES = (100, 1000, 5000, 20000, 200000)
LIVE = frozenset({"pending", "starting", "running", "stopping"})
SETTLED = frozenset({"running", "stopped", "failed"})
# The runtime state machine of the contract, as (status before, status after).
TRANSITIONS = frozenset(
    {
        ("pending", "starting"),
        ("pending", "stopping"),
        ("starting", "running"),
        ("starting", "failed"),
        ("starting", "stopping"),
        ("running", "stopping"),
        ("stopping", "stopped"),
    }
)
# Operation name → relative weight in the mix.
MIX = {
    "create_world": 14,
    "update_world": 18,
    "get_world": 14,
    "delete_world": 6,
    "start_runtime": 8,
    "stop_runtime": 7,
    "delete_runtime": 4,
    "get_runtime": 5,
    "list_runtimes": 3,
    "list_worlds": 6,
    "list_events": 6,
    "stream_events": 5,
    "world_events": 4,
    "foreign_world": 4,
}
# What each operation may answer when other clients race it; anything else is a violation.
ALLOWED = {
    "login": {200},
    "create_world": {201},
    "update_world": {200, 404, 412},
    "get_world": {200, 404},
    "refresh_world": {200, 404},
    "delete_world": {204, 404, 409, 412},
    "start_runtime": {202, 404},
    "stop_runtime": {202, 404, 409},
    "delete_runtime": {204, 404, 409},
    "get_runtime": {200, 404},
    "list_runtimes": {200},
    "list_worlds": {200},
    "list_events": {200},
    "stream_events": {200},
    "world_events": {200},
    "foreign_world": {404},
}
LIST_TAIL_LIMIT = 50
# One TLS context for every client: httpx would otherwise load the CA bundle once per client (~35 ms each).
TLS = ssl.create_default_context()
MAX_MESSAGES_PER_KIND = 15


# --- the model of what was acknowledged -------------------------------------------------------


@dataclass
class WorldRecord:
    world_id: str
    tenant: str
    acked: dict[int, dict[str, Any]]  # version → the representation an answer acknowledged
    created_at: float  # when the 201 arrived (monotonic)
    latest: int = 1  # the highest version any answer showed: the If-Match hint
    delete_requests: int = 0
    first_delete_sent: float | None = None
    deleted_at: float | None = None  # when a 204 arrived
    uncertain_updates: int = 0  # updates left unanswered by a kill
    uncertain_delete: bool = False
    runtimes: set[str] = field(default_factory=set)

    @property
    def max_acked(self) -> int:
        return max(self.acked)


@dataclass
class RuntimeRecord:
    runtime_id: str
    tenant: str
    world_id: str
    created: dict[str, Any]  # the 202's body
    started_at: float
    stop_acks: dict[int, dict[str, Any]] = field(default_factory=dict)  # version → a `stopping` answer
    max_seen: int = 1
    delete_requests: int = 0
    deleted_at: float | None = None
    uncertain_stops: int = 0
    uncertain_delete: bool = False


class Pool:
    """A set with O(1) random choice: the ids an operation may pick from."""

    def __init__(self) -> None:
        self._items: list[str] = []
        self._index: dict[str, int] = {}

    def __len__(self) -> int:
        return len(self._items)

    def add(self, item: str) -> None:
        if item not in self._index:
            self._index[item] = len(self._items)
            self._items.append(item)

    def discard(self, item: str) -> None:
        position = self._index.pop(item, None)
        if position is None:
            return
        last = self._items.pop()
        if position < len(self._items):
            self._items[position] = last
            self._index[last] = position

    def choice(self, rng: random.Random) -> str | None:
        return rng.choice(self._items) if self._items else None


@dataclass
class TenantState:
    tenant: str
    worlds: dict[str, WorldRecord] = field(default_factory=dict)
    live_worlds: Pool = field(default_factory=Pool)
    runtimes: dict[str, RuntimeRecord] = field(default_factory=dict)
    live_runtimes: Pool = field(default_factory=Pool)
    uncertain_creates: set[str] = field(default_factory=set)  # names
    uncertain_starts: Counter[str] = field(default_factory=Counter)  # world ids
    unknown_listed: set[str] = field(default_factory=set)  # worlds a walk met before their 201
    event_fingerprints: dict[int, int] = field(default_factory=dict)  # event id → fingerprint, first sighting


@dataclass
class Tail:
    """One client's reading of its tenant's event log from the start, as pages or as a stream."""

    tenant: str
    kind: str
    ids: array[int] = field(default_factory=lambda: array("q"))
    cursor: str | None = None  # the cursor of the last page read (None: the first page)
    since_cursor: list[int] = field(default_factory=list)  # ids read from that page so far

    @property
    def last_id(self) -> int:
        return self.ids[-1] if self.ids else 0


@dataclass
class WorldWalk:
    started_at: float
    cursor: str | None = None
    seen: set[str] = field(default_factory=set)
    pages: int = 0


class Violations:
    """Every broken rule, counted by kind, with the first few messages of each kind kept."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.messages: dict[str, list[str]] = defaultdict(list)

    def add(self, kind: str, message: str) -> None:
        self.counts[kind] += 1
        if len(self.messages[kind]) < MAX_MESSAGES_PER_KIND:
            self.messages[kind].append(message)

    def __bool__(self) -> bool:
        return bool(self.counts)

    def lines(self) -> list[str]:
        lines = []
        for kind, count in self.counts.most_common():
            lines.append(f"{kind}: {count}")
            lines.extend(f"    {message}" for message in self.messages[kind])
        return lines


@dataclass
class Ledger:
    tenants: dict[str, TenantState]
    violations: Violations = field(default_factory=Violations)
    statuses: Counter[tuple[str, int]] = field(default_factory=Counter)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    transport_errors: Counter[str] = field(default_factory=Counter)
    tails: list[Tail] = field(default_factory=list)
    walks_completed: int = 0

    def tenant_of(self, world_id: str) -> TenantState | None:
        return next((state for state in self.tenants.values() if world_id in state.worlds), None)


def fingerprint(event: dict[str, Any]) -> int:
    """What identifies an event's content cheaply (re-encoding every event read costs the generator dearly)."""
    data = event["data"]
    return hash((event["type"], event["subject"], event["time"], data.get("version"), data.get("description")))


# --- the target, which a kill replaces -------------------------------------------------------


class Target:
    """Where the server listens now; a kill takes it down and a restart brings up the next generation.

    `stop_at` is when the load ends. A restart moves it so that the load after the restart lasts as
    long as it was meant to: on a busy machine the restart alone can take longer than what was left,
    and a load that ended before the new server came up would prove nothing about it.
    """

    def __init__(self, base_url: str, stop_at: float) -> None:
        self.base_url = base_url
        self.stop_at = stop_at
        self.generation = 0
        self.up = asyncio.Event()
        self.up.set()

    def take_down(self) -> None:
        self.up.clear()

    def bring_up(self, base_url: str, load_after: float) -> None:
        self.base_url = base_url
        self.generation += 1
        self.stop_at = max(self.stop_at, time.monotonic() + load_after)
        self.up.set()


class Unanswered(Exception):
    """The request got no HTTP answer (connection refused, reset, or timed out)."""


# --- one client -------------------------------------------------------------------------------


class LoadClient:
    def __init__(self, index: int, tenant: str, ledger: Ledger, target: Target, seed: int, timeout: float) -> None:
        self.index = index
        self.tenant = tenant
        self.state = ledger.tenants[tenant]
        self.other = next(state for name, state in ledger.tenants.items() if name != tenant)
        self.ledger = ledger
        self.target = target
        self.rng = random.Random(seed * 1000 + index)
        self.timeout = timeout
        self.counter = 0
        self.http: httpx.AsyncClient | None = None
        self.generation = -1
        self.logged_in = False
        self.walk: WorldWalk | None = None
        self.list_tail = Tail(tenant, "list")
        self.stream_tail = Tail(tenant, "stream")
        ledger.tails.extend([self.list_tail, self.stream_tail])
        self._operations = list(MIX)
        self._weights = list(MIX.values())

    # --- plumbing ----------------------------------------------------------------------------

    def unique(self, prefix: str) -> str:
        self.counter += 1
        return f"{prefix}-c{self.index:03d}-{self.counter:06d}"

    async def session(self) -> bool:
        """Be logged in on the target's current generation; False once the load is over."""
        while not (self.logged_in and self.generation == self.target.generation):
            if time.monotonic() >= self.target.stop_at:
                return False
            await self.target.up.wait()
            if self.http is None or self.generation != self.target.generation:
                if self.http is not None:
                    await self.http.aclose()
                self.generation = self.target.generation
                self.logged_in = False
                self.http = httpx.AsyncClient(
                    base_url=self.target.base_url,
                    timeout=self.timeout,
                    verify=TLS,
                    limits=httpx.Limits(max_connections=1, max_keepalive_connections=1),
                )
            client_id, secret = CLIENTS[self.tenant]
            credentials = {"client_id": client_id, "client_secret": secret}
            try:
                answer = await self.call("login", "POST", "/auth/login", json=credentials)
            except Unanswered:
                await asyncio.sleep(0.05)
                continue
            if answer.status_code == 200:
                self.http.headers["Authorization"] = f"Bearer {answer.json()['access_token']}"
                self.logged_in = True
            else:
                await asyncio.sleep(0.5)
        return True

    def expected_outage(self, generation: int) -> bool:
        return generation != self.target.generation or not self.target.up.is_set()

    async def call(self, operation: str, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One request, timed and counted; Unanswered when no answer came."""
        assert self.http is not None
        generation = self.generation
        started = time.perf_counter()
        try:
            response = await self.http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            self.unanswered(operation, generation, exc)
            raise Unanswered from exc
        self.record(operation, response.status_code, time.perf_counter() - started, response.text)
        return response

    def unanswered(self, operation: str, generation: int, error: Exception) -> None:
        self.ledger.transport_errors[operation] += 1
        if not self.expected_outage(generation):
            self.ledger.violations.add("no answer", f"{operation}: {type(error).__name__}: {error}")

    def record(self, operation: str, status: int, elapsed: float, text: str) -> None:
        self.ledger.statuses[(operation, status)] += 1
        self.ledger.latencies[operation].append(elapsed)
        if status >= 500:
            self.ledger.violations.add("5xx", f"{operation} → {status}: {text[:300]}")
        elif status not in ALLOWED[operation]:
            self.ledger.violations.add("unexpected status", f"{operation} → {status}: {text[:300]}")

    def violation(self, kind: str, message: str) -> None:
        self.ledger.violations.add(kind, f"{message} (client {self.index})")

    def check_etag(self, operation: str, response: httpx.Response, version: int) -> None:
        if response.headers.get("etag") != f'"{version}"':
            self.violation("wrong ETag", f"{operation}: ETag {response.headers.get('etag')!r} for version {version}")

    # --- the loop ----------------------------------------------------------------------------

    async def run(self) -> None:
        try:
            while time.monotonic() < self.target.stop_at:
                if not await self.session():
                    break
                operation = self.rng.choices(self._operations, self._weights)[0]
                try:
                    await getattr(self, operation)()
                except Unanswered:
                    if self.expected_outage(self.generation):
                        await self.target.up.wait()
        finally:
            if self.http is not None:
                await self.http.aclose()

    # --- worlds ------------------------------------------------------------------------------

    def pick_world(self) -> WorldRecord | None:
        world_id = self.state.live_worlds.choice(self.rng)
        return None if world_id is None else self.state.worlds[world_id]

    async def create_world(self) -> None:
        name = self.unique(f"load-{self.tenant[-1]}")
        body: dict[str, Any] = {
            "name": name,
            "description": f"made by client {self.index}",
            "labels": {"client": f"c{self.index}", "phase": "load"},
            "settings": {"tick_rate_hz": self.rng.randint(1, 240), "max_entities": self.rng.choice(ENTITY_CHOICES)},
        }
        try:
            answer = await self.call("create_world", "POST", "/worlds", json=body)
        except Unanswered:
            self.state.uncertain_creates.add(name)
            raise
        if answer.status_code != 201:
            return
        world = answer.json()
        if world["name"] != name or world["version"] != 1 or world["settings"] != body["settings"]:
            self.violation("wrong create answer", f"{world} for {body}")
        if answer.headers.get("location") != f"/v2/worlds/{world['id']}":
            self.violation("wrong Location", f"create_world: {answer.headers.get('location')!r}")
        self.check_etag("create_world", answer, 1)
        self.state.worlds[world["id"]] = WorldRecord(world["id"], self.tenant, {1: world}, time.monotonic())
        self.state.live_worlds.add(world["id"])

    def saw_version(self, record: WorldRecord, world: dict[str, Any], operation: str, floor: int) -> None:
        """A 200 showed `world`: no older than `floor`, and the same as any acknowledged twin."""
        version = world["version"]
        if version < floor:
            self.violation(
                "stale read", f"{operation} {record.world_id}: version {version} after {floor} was acknowledged"
            )
        acked = record.acked.get(version)
        if acked is not None and acked != world:
            self.violation("two representations of one version", f"{operation} {record.world_id} v{version}")
        record.latest = max(record.latest, version)

    def vanished(self, record: WorldRecord, operation: str) -> None:
        """A 404 for a world of the model: only fine once someone asked to delete it."""
        if record.delete_requests == 0:
            self.violation("acknowledged world vanished", f"{operation} {record.world_id} → 404 without a delete")
        self.state.live_worlds.discard(record.world_id)

    async def update_world(self) -> None:
        record = self.pick_world()
        if record is None:
            return await self.create_world()
        patch: dict[str, Any] = {"description": self.unique("edit")}
        roll = self.rng.random()
        if roll < 0.3:
            patch["labels"] = {"phase": None if self.rng.random() < 0.5 else "updated", "touched": f"c{self.index}"}
        elif roll < 0.45:
            patch["settings"] = {"max_entities": self.rng.choice(ENTITY_CHOICES)}
        elif roll < 0.55:
            patch["name"] = self.unique(f"renamed-{self.tenant[-1]}")
        if_match = "*" if self.rng.random() < 0.1 else f'"{record.latest}"'
        headers = {"If-Match": if_match, "Content-Type": "application/merge-patch+json"}
        floor = record.max_acked
        try:
            answer = await self.call(
                "update_world", "PATCH", f"/worlds/{record.world_id}", content=json.dumps(patch), headers=headers
            )
        except Unanswered:
            record.uncertain_updates += 1
            raise
        if answer.status_code == 200:
            world = answer.json()
            version = world["version"]
            self.check_etag("update_world", answer, version)
            if version in record.acked:
                self.violation("lost update", f"{record.world_id}: version {version} acknowledged twice")
            elif version <= floor:
                self.violation("stale update", f"{record.world_id}: version {version} after {floor}")
            if if_match != "*" and version != int(if_match.strip('"')) + 1:
                self.violation("If-Match ignored", f"{record.world_id}: If-Match {if_match} answered v{version}")
            if world["description"] != patch["description"]:
                self.violation("update not applied", f"{record.world_id}: {world['description']!r}")
            if "client" not in world["labels"]:
                # No patch ever names the creator's label: a merge keeps it, a replacement loses it.
                self.violation("patch did not merge", f"{record.world_id}: labels {world['labels']}")
            record.acked[version] = world
            record.latest = max(record.latest, version)
        elif answer.status_code == 412:
            if if_match == "*":
                self.violation("If-Match * refused", f"{record.world_id} → 412")
            await self.refresh(record)
        elif answer.status_code == 404:
            self.vanished(record, "update_world")

    async def refresh(self, record: WorldRecord) -> None:
        floor = record.max_acked
        answer = await self.call("refresh_world", "GET", f"/worlds/{record.world_id}")
        if answer.status_code == 200:
            world = answer.json()
            self.check_etag("refresh_world", answer, world["version"])
            self.saw_version(record, world, "refresh_world", floor)
        elif answer.status_code == 404:
            self.vanished(record, "refresh_world")

    async def get_world(self) -> None:
        record = self.pick_world()
        if record is None:
            return await self.create_world()
        floor = record.max_acked
        answer = await self.call("get_world", "GET", f"/worlds/{record.world_id}")
        if answer.status_code == 200:
            world = answer.json()
            self.check_etag("get_world", answer, world["version"])
            self.saw_version(record, world, "get_world", floor)
        elif answer.status_code == 404:
            self.vanished(record, "get_world")

    async def delete_world(self) -> None:
        record = self.pick_world()
        if record is None:
            return await self.create_world()
        headers = {"If-Match": f'"{record.latest}"'} if self.rng.random() < 0.3 else {}
        record.delete_requests += 1
        if record.first_delete_sent is None:
            record.first_delete_sent = time.monotonic()
        try:
            answer = await self.call("delete_world", "DELETE", f"/worlds/{record.world_id}", headers=headers)
        except Unanswered:
            record.uncertain_delete = True
            raise
        if answer.status_code == 204:
            if record.deleted_at is not None:
                self.violation("deleted twice", f"{record.world_id}: a second 204")
            record.deleted_at = time.monotonic()
            self.state.live_worlds.discard(record.world_id)
            for runtime_id in record.runtimes:
                self.state.live_runtimes.discard(runtime_id)
        elif answer.status_code == 404:
            if record.delete_requests < 2:
                self.violation("acknowledged world vanished", f"delete_world {record.world_id} → 404, no other delete")
            self.state.live_worlds.discard(record.world_id)
        elif answer.status_code == 409 and record.runtimes:
            # Live runtimes hold the world: ask one of them to stop, so the world can go later.
            runtime = self.state.runtimes[self.rng.choice(sorted(record.runtimes))]
            await self.stop(runtime)

    async def list_worlds(self) -> None:
        if self.walk is None:
            self.walk = WorldWalk(started_at=time.monotonic())
        walk = self.walk
        params: dict[str, Any] = {"limit": self.rng.choice((1, 7, 20, 50, 100))}
        if walk.cursor is not None:
            params["cursor"] = walk.cursor
        answer = await self.call("list_worlds", "GET", "/worlds", params=params)
        if answer.status_code != 200:
            self.walk = None
            return
        page = answer.json()
        walk.pages += 1
        if len(page["items"]) > params["limit"]:
            self.violation("limit ignored", f"/worlds?limit={params['limit']} answered {len(page['items'])} items")
        for world in page["items"]:
            world_id = world["id"]
            if world_id in walk.seen:
                self.violation("walk repeats", f"/worlds walk: {world_id} twice")
            walk.seen.add(world_id)
            record = self.state.worlds.get(world_id)
            if record is None:
                if world_id in self.other.worlds:
                    self.violation("tenant leak", f"/worlds of {self.tenant} lists {world_id}")
                else:
                    self.state.unknown_listed.add(world_id)
            elif record.deleted_at is not None and record.deleted_at < walk.started_at:
                self.violation("deleted world listed", f"{world_id} deleted before the walk began")
        walk.cursor = page["next_cursor"]
        if walk.cursor is None:
            self.finish_walk(walk)
            self.walk = None

    def finish_walk(self, walk: WorldWalk) -> None:
        """Every world acknowledged before the walk began and not asked to be deleted until now was listed."""
        ended = time.monotonic()
        for world_id, record in list(self.state.worlds.items()):
            existed_throughout = record.created_at < walk.started_at and (
                record.first_delete_sent is None or record.first_delete_sent > ended
            )
            if existed_throughout and world_id not in walk.seen:
                self.violation("walk gap", f"/worlds walk of {walk.pages} pages missed {world_id}")
        self.ledger.walks_completed += 1

    async def foreign_world(self) -> None:
        world_id = self.other.live_worlds.choice(self.rng)
        if world_id is None:
            return
        method = "DELETE" if self.rng.random() < 0.3 else "GET"
        await self.call("foreign_world", method, f"/worlds/{world_id}")

    # --- runtimes ----------------------------------------------------------------------------

    def pick_runtime(self) -> RuntimeRecord | None:
        runtime_id = self.state.live_runtimes.choice(self.rng)
        return None if runtime_id is None else self.state.runtimes[runtime_id]

    def runtime_delete_requested(self, runtime: RuntimeRecord) -> bool:
        return runtime.delete_requests > 0 or self.state.worlds[runtime.world_id].delete_requests > 0

    def runtime_vanished(self, runtime: RuntimeRecord, operation: str) -> None:
        if not self.runtime_delete_requested(runtime):
            self.violation("acknowledged runtime vanished", f"{operation} {runtime.runtime_id} → 404 without a delete")
        self.state.live_runtimes.discard(runtime.runtime_id)

    async def start_runtime(self) -> None:
        record = self.pick_world()
        if record is None:
            return await self.create_world()
        body = {
            "world_id": record.world_id,
            "plugin": self.rng.choice(PLUGINS),
            "parameters": {"seed": str(self.rng.randint(0, 10**6))},
        }
        try:
            answer = await self.call("start_runtime", "POST", "/runtimes", json=body)
        except Unanswered:
            self.state.uncertain_starts[record.world_id] += 1
            raise
        if answer.status_code == 202:
            runtime = answer.json()
            if runtime["status"] != "pending" or runtime["version"] != 1 or runtime["world_id"] != record.world_id:
                self.violation("wrong start answer", f"{runtime}")
            if answer.headers.get("location") != f"/v2/runtimes/{runtime['id']}":
                self.violation("wrong Location", f"start_runtime: {answer.headers.get('location')!r}")
            self.state.runtimes[runtime["id"]] = RuntimeRecord(
                runtime["id"], self.tenant, record.world_id, runtime, time.monotonic()
            )
            self.state.live_runtimes.add(runtime["id"])
            record.runtimes.add(runtime["id"])
        elif answer.status_code == 404:
            self.vanished(record, "start_runtime")

    async def stop_runtime(self) -> None:
        runtime = self.pick_runtime()
        if runtime is None:
            return await self.start_runtime()
        await self.stop(runtime)

    async def stop(self, runtime: RuntimeRecord) -> None:
        try:
            answer = await self.call("stop_runtime", "POST", f"/runtimes/{runtime.runtime_id}/stop")
        except Unanswered:
            runtime.uncertain_stops += 1
            raise
        if answer.status_code == 202:
            body = answer.json()
            if body["status"] != "stopping":
                self.violation("wrong stop answer", f"{runtime.runtime_id}: status {body['status']}")
            self.check_etag("stop_runtime", answer, body["version"])
            runtime.stop_acks[body["version"]] = body
            runtime.max_seen = max(runtime.max_seen, body["version"])
        elif answer.status_code == 404:
            self.runtime_vanished(runtime, "stop_runtime")

    async def delete_runtime(self) -> None:
        runtime = self.pick_runtime()
        if runtime is None:
            return await self.start_runtime()
        runtime.delete_requests += 1
        try:
            answer = await self.call("delete_runtime", "DELETE", f"/runtimes/{runtime.runtime_id}")
        except Unanswered:
            runtime.uncertain_delete = True
            raise
        if answer.status_code == 204:
            runtime.deleted_at = time.monotonic()
            self.state.live_runtimes.discard(runtime.runtime_id)
        elif answer.status_code == 404:
            if runtime.delete_requests < 2 and self.state.worlds[runtime.world_id].delete_requests == 0:
                self.violation("acknowledged runtime vanished", f"delete_runtime {runtime.runtime_id} → 404")
            self.state.live_runtimes.discard(runtime.runtime_id)
        elif answer.status_code == 409 and self.rng.random() < 0.5:
            await self.stop(runtime)

    async def get_runtime(self) -> None:
        runtime = self.pick_runtime()
        if runtime is None:
            return await self.start_runtime()
        floor = runtime.max_seen
        answer = await self.call("get_runtime", "GET", f"/runtimes/{runtime.runtime_id}")
        if answer.status_code == 200:
            body = answer.json()
            self.check_etag("get_runtime", answer, body["version"])
            if body["version"] < floor:
                self.violation("stale read", f"get_runtime {runtime.runtime_id}: v{body['version']} after v{floor}")
            if body["status"] == "failed" and not body["failure_reason"]:
                self.violation("failed without reason", runtime.runtime_id)
            runtime.max_seen = max(runtime.max_seen, body["version"])
        elif answer.status_code == 404:
            self.runtime_vanished(runtime, "get_runtime")

    async def list_runtimes(self) -> None:
        record = self.pick_world()
        if record is None:
            return await self.create_world()
        sent = time.monotonic()
        answer = await self.call(
            "list_runtimes", "GET", "/runtimes", params={"world_id": record.world_id, "limit": 100}
        )
        if answer.status_code != 200:
            return
        page = answer.json()
        listed = {runtime["id"] for runtime in page["items"]}
        if any(runtime["world_id"] != record.world_id for runtime in page["items"]):
            self.violation("filter ignored", f"/runtimes?world_id={record.world_id} lists another world's runtime")
        if page["next_cursor"] is None:
            for runtime_id in record.runtimes:
                runtime = self.state.runtimes[runtime_id]
                if (
                    runtime.started_at < sent
                    and not self.runtime_delete_requested(runtime)
                    and runtime_id not in listed
                ):
                    self.violation("runtime not listed", f"{runtime_id} missing from its world's runtimes")

    # --- events ------------------------------------------------------------------------------

    def saw_event(self, tail: Tail, event: dict[str, Any]) -> None:
        event_id = int(event["id"])
        if event_id <= tail.last_id:
            self.violation("events out of order", f"{tail.kind} tail: {event_id} after {tail.last_id}")
            return
        checksum = fingerprint(event)
        first = self.state.event_fingerprints.setdefault(event_id, checksum)
        if first != checksum:
            self.violation("event changed", f"event {event_id} read twice with different content")
        subject = event["subject"].split("/", 1)[1]
        if subject in self.other.worlds or subject in self.other.runtimes:
            self.violation("tenant leak", f"{self.tenant} sees event {event_id} about {event['subject']}")
        tail.ids.append(event_id)

    async def list_events(self) -> None:
        tail = self.list_tail
        params: dict[str, Any] = {"limit": LIST_TAIL_LIMIT}
        if tail.cursor is not None:
            params["cursor"] = tail.cursor
        answer = await self.call("list_events", "GET", "/events", params=params)
        if answer.status_code != 200:
            return
        page = answer.json()
        items = page["items"]
        # The page of the stored cursor again: what was read from it before comes first, unchanged.
        again = [int(event["id"]) for event in items[: len(tail.since_cursor)]]
        if again != tail.since_cursor:
            self.violation("cursor not stable", f"re-read {again[:5]}… where {tail.since_cursor[:5]}… was read")
            return
        for event in items[len(tail.since_cursor) :]:
            self.saw_event(tail, event)
            tail.since_cursor.append(int(event["id"]))
        if page["next_cursor"] is not None:
            tail.cursor = page["next_cursor"]
            tail.since_cursor = []

    async def world_events(self) -> None:
        """One world's events (a filtered list): its history so far, one event per version, in order."""
        record = self.pick_world()
        if record is None:
            return await self.create_world()
        floor = record.max_acked
        subject = f"worlds/{record.world_id}"
        answer = await self.call("world_events", "GET", "/events", params={"subject": subject, "limit": 100})
        if answer.status_code != 200:
            return
        page = answer.json()
        events = page["items"]
        if any(event["subject"] != subject for event in events):
            self.violation("filter ignored", f"/events?subject={subject} lists another subject")
            return
        if not events or events[0]["type"] != "world.created" or events[0]["data"] != record.acked[1]:
            self.violation("change without event", f"{subject}: no world.created matching its 201")
            return
        types = [event["type"] for event in events]
        if "world.deleted" in types[:-1]:
            self.violation("event after deletion", f"{subject}: {types}")
        versions = [event["data"].get("version") for event in events if event["type"] == "world.updated"]
        if versions != list(range(2, 2 + len(versions))):
            self.violation("duplicate or missing event", f"{subject}: world.updated versions {versions}")
        elif page["next_cursor"] is None and types[-1] != "world.deleted" and 1 + len(versions) < floor:
            self.violation(
                "change without event", f"{subject}: v{floor} acknowledged, events reach v{1 + len(versions)}"
            )

    async def stream_events(self) -> None:
        tail = self.stream_tail
        headers = {"Last-Event-ID": str(tail.last_id)} if tail.ids else {}
        # Mostly the backlog alone; now and then a long poll that waits a second for news.
        params = {"max_events": self.rng.randint(1, 100), "wait": 1 if self.rng.random() < 0.1 else 0}
        assert self.http is not None
        generation = self.generation
        started = time.perf_counter()
        try:
            async with self.http.stream("GET", "/events/stream", params=params, headers=headers) as answer:
                if answer.status_code != 200:
                    await answer.aread()
                    self.record("stream_events", answer.status_code, time.perf_counter() - started, answer.text)
                    return
                if answer.headers.get("content-type", "").split(";")[0] != "text/event-stream":
                    self.violation("wrong stream media type", answer.headers.get("content-type", ""))
                message: dict[str, str] = {}
                async for line in answer.aiter_lines():
                    if line:
                        name, _, value = line.partition(": ")
                        message[name] = value
                        continue
                    if message:
                        event = json.loads(message["data"])
                        if event["id"] != message.get("id") or event["type"] != message.get("event"):
                            self.violation("stream framing", f"{message}")
                        self.saw_event(tail, event)
                    message = {}
        except httpx.TransportError as exc:
            self.unanswered("stream_events", generation, exc)
            raise Unanswered from exc
        self.record("stream_events", 200, time.perf_counter() - started, "")


# --- after the load: walks, the SQLite file, and the model ------------------------------------


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
        client_id, secret = CLIENTS[tenant]
        login = await http.post("/auth/login", json={"client_id": client_id, "client_secret": secret})
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


# --- the run ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoadConfig:
    clients: int = 50
    duration: float = 60.0
    kill_after: float | None = None
    seed: int = 1
    runtime_step_ms: int = 50
    request_timeout: float = 30.0
    data_dir: Path | None = None  # None: a temporary directory
    log_file: Path | None = None  # the server's stderr (JSON logs); None: discarded
    faults: tuple[str, ...] = ()  # reference faults to serve with, proving the checks can fail


@dataclass
class LoadReport:
    config: LoadConfig
    seconds: float
    statuses: Counter[tuple[str, int]]
    latencies: dict[str, list[float]]
    transport_errors: Counter[str]
    violations: Violations
    kills: int
    final_counts: dict[str, dict[str, int]]
    verified_changes: int
    tail_events: int
    walks_completed: int
    uncertain: dict[str, int]
    resumed: int = 0
    server_cpu: float = 0.0  # CPU seconds the server processes used during the load
    generator_cpu: float = 0.0  # and this load generator

    @property
    def requests(self) -> int:
        return sum(self.statuses.values()) + sum(self.transport_errors.values())

    @property
    def ok(self) -> bool:
        return not self.violations

    def acknowledged(self, operation: str, status: int) -> int:
        return self.statuses[(operation, status)]

    def percentile(self, fraction: float, operation: str | None = None) -> float:
        """Latency in ms; without an operation, over every request but the event stream (a long poll)."""
        samples = sorted(
            value
            for name, values in self.latencies.items()
            if name == operation or (operation is None and name != "stream_events")
            for value in values
        )
        if not samples:
            return 0.0
        return samples[min(len(samples) - 1, int(fraction * len(samples)))] * 1000.0

    def summary(self) -> dict[str, Any]:
        return {
            "clients": self.config.clients,
            "duration_s": round(self.seconds, 1),
            "kills": self.kills,
            "requests": self.requests,
            "rps": round(self.requests / self.seconds, 1) if self.seconds else 0.0,
            "p50_ms": round(self.percentile(0.50), 2),
            "p99_ms": round(self.percentile(0.99), 2),
            "max_ms": round(self.percentile(1.0), 2),
            "status_5xx": sum(count for (_, status), count in self.statuses.items() if status >= 500),
            "transport_errors": sum(self.transport_errors.values()),
            "verified_changes": self.verified_changes,
            "tail_events": self.tail_events,
            "walks_completed": self.walks_completed,
            "final": self.final_counts,
            "uncertain": self.uncertain,
            "resumed_runtimes": self.resumed,
            "server_cpu_s": round(self.server_cpu, 1),
            "generator_cpu_s": round(self.generator_cpu, 1),
            "violations": sum(self.violations.counts.values()),
        }

    def render(self) -> str:
        summary = self.summary()
        lines = [
            f"load: {self.config.clients} clients, {summary['duration_s']} s, 2 tenants, file-backed store, "
            f"runtime step {self.config.runtime_step_ms} ms, seed {self.config.seed}"
            + (f", SIGKILL after {self.config.kill_after} s and restart" if self.config.kill_after else ""),
            f"requests: {summary['requests']} ({summary['rps']}/s), latency p50 {summary['p50_ms']} ms, "
            f"p99 {summary['p99_ms']} ms, max {summary['max_ms']} ms; 5xx: {summary['status_5xx']}; "
            f"unanswered: {summary['transport_errors']}",
            f"CPU during the load: server {summary['server_cpu_s']} s, this generator {summary['generator_cpu_s']} s "
            f"(of {summary['duration_s']} s on {os.cpu_count()} cores)",
            "",
            f"  {'operation':<16}{'requests':>9}{'p50 ms':>9}{'p99 ms':>9}  statuses",
        ]
        for operation in sorted(self.latencies):
            statuses = {status: count for (name, status), count in sorted(self.statuses.items()) if name == operation}
            lines.append(
                f"  {operation:<16}{len(self.latencies[operation]):>9}"
                f"{self.percentile(0.5, operation):>9.2f}{self.percentile(0.99, operation):>9.2f}  "
                + " ".join(f"{status}×{count}" for status, count in statuses.items())
            )
        lines.append("")
        for tenant, counts in self.final_counts.items():
            lines.append(
                f"  {tenant}: {counts['worlds']} worlds, {counts['runtimes']} runtimes, {counts['events']} events "
                "walked and matched against the SQLite file"
            )
        lines.append(
            f"  verified: {self.verified_changes} changes each with exactly one event, {self.tail_events} events "
            f"read by tails during the load, {self.walks_completed} concurrent /worlds walks"
        )
        if self.kills:
            lines.append(f"  left unanswered by the kill: {self.uncertain}")
            lines.append(
                f"  runtimes caught mid-transition by the kill that moved on after the restart: {self.resumed}"
            )
        lines.append("")
        if self.violations:
            lines.append(f"VIOLATIONS ({sum(self.violations.counts.values())}):")
            lines.extend("  " + line for line in self.violations.lines())
        else:
            lines.append("violations: 0")
        return "\n".join(lines)


async def run(config: LoadConfig) -> LoadReport:
    """Serve, load, optionally kill and restart, verify; the report holds every violation."""
    if config.data_dir is not None:
        return await _run(config, config.data_dir)
    with tempfile.TemporaryDirectory(prefix="phase2-load-") as data_dir:
        return await _run(config, Path(data_dir))


def _start(config: LoadConfig, data_dir: Path) -> Reference:
    faults = [argument for name in config.faults for argument in ("--fault", name)]
    return Reference(
        "--runtime-step-ms", str(config.runtime_step_ms), *faults, data_dir=data_dir, log_file=config.log_file
    )


async def _run(config: LoadConfig, data_dir: Path) -> LoadReport:
    loop = asyncio.get_running_loop()
    server = await loop.run_in_executor(None, _start, config, data_dir)
    servers = [server]
    try:
        ledger = Ledger({tenant: TenantState(tenant) for tenant in CLIENTS})
        started = time.monotonic()
        target = Target(server.base_url, stop_at=started + config.duration)
        tenants = list(CLIENTS)
        clients = [
            LoadClient(index, tenants[index % len(tenants)], ledger, target, config.seed, config.request_timeout)
            for index in range(config.clients)
        ]
        generator_cpu_start = time.process_time()
        server_cpu = 0.0
        tasks = [asyncio.create_task(client.run()) for client in clients]
        kills = 0
        caught: dict[str, str] = {}
        if config.kill_after is not None:
            await asyncio.sleep(config.kill_after)
            target.take_down()
            server_cpu += cpu_seconds(server.process.pid)
            server.kill()
            kills += 1
            caught = mid_transition(data_dir / DATABASE_FILE, ledger.violations)
            server = await loop.run_in_executor(None, _start, config, data_dir)
            servers.append(server)
            target.bring_up(server.base_url, load_after=config.duration - config.kill_after)
        await asyncio.gather(*tasks)
        seconds = time.monotonic() - started
        server_cpu += cpu_seconds(server.process.pid)
        generator_cpu = time.process_time() - generator_cpu_start
        violations = ledger.violations
        rng = random.Random(config.seed)
        settle = max(5.0, 40 * config.runtime_step_ms / 1000.0)
        finals = {
            tenant: await read_final_state(server.base_url, tenant, settle, rng, violations) for tenant in CLIENTS
        }
        verified = 0
        final_counts: dict[str, dict[str, int]] = {}
        for tenant, final in finals.items():
            compare_with_store(data_dir / DATABASE_FILE, tenant, final, violations)
            check_event_order(tenant, final.events, violations)
            by_subject: dict[str, list[dict[str, Any]]] = defaultdict(list)
            for event in final.events:
                by_subject[event["subject"]].append(event)
            state = ledger.tenants[tenant]
            verified += check_worlds(state, final, by_subject, violations)
            verified += check_runtimes(state, final, by_subject, violations)
            final_counts[tenant] = {
                "worlds": len(final.worlds),
                "runtimes": len(final.runtimes),
                "events": len(final.events),
            }
        tail_events = check_tails(ledger, finals, violations)
        resumed = check_resumed(caught, finals, violations)
        uncertain = {
            "creates": sum(len(state.uncertain_creates) for state in ledger.tenants.values()),
            "updates": sum(r.uncertain_updates for state in ledger.tenants.values() for r in state.worlds.values()),
            "world deletes": sum(
                r.uncertain_delete for state in ledger.tenants.values() for r in state.worlds.values()
            ),
            "starts": sum(sum(state.uncertain_starts.values()) for state in ledger.tenants.values()),
            "stops": sum(r.uncertain_stops for state in ledger.tenants.values() for r in state.runtimes.values()),
            "runtime deletes": sum(
                r.uncertain_delete for state in ledger.tenants.values() for r in state.runtimes.values()
            ),
        }
        return LoadReport(
            config=config,
            seconds=seconds,
            statuses=ledger.statuses,
            latencies=dict(ledger.latencies),
            transport_errors=ledger.transport_errors,
            violations=violations,
            kills=kills,
            final_counts=final_counts,
            verified_changes=verified,
            tail_events=tail_events,
            walks_completed=ledger.walks_completed,
            uncertain=uncertain,
            resumed=resumed,
            server_cpu=server_cpu,
            generator_cpu=generator_cpu,
        )
    finally:
        for each in servers:
            if each.process.poll() is None:
                each.stop()


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of load")
    parser.add_argument("--kill-after", type=float, help="SIGKILL the server this many seconds in, then restart it")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--runtime-step-ms", type=int, default=50)
    parser.add_argument("--data-dir", type=Path, help="keep the SQLite store here (default: a temporary directory)")
    parser.add_argument("--server-log", type=Path, help="write the server's JSON logs here")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON here")
    parser.add_argument(
        "--fault", action="append", default=[], help="serve with this reference fault (test-only: the checks must fail)"
    )
    args = parser.parse_args(argv)
    if args.clients < 2:
        parser.error("--clients must be at least 2 (one per tenant)")
    if args.kill_after is not None and not 0 < args.kill_after < args.duration:
        parser.error("--kill-after must lie inside the duration")
    return args


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    if importlib.util.find_spec("sniffio") is None:
        # httpcore runs `import sniffio` on every request; when it is absent each miss searches
        # sys.path again (a fifth of the generator's CPU). A None entry makes the miss immediate.
        # Only here, in the script's own process: find_spec raises on such an entry.
        sys.modules["sniffio"] = None  # type: ignore[assignment]
    config = LoadConfig(
        clients=args.clients,
        duration=args.duration,
        kill_after=args.kill_after,
        seed=args.seed,
        runtime_step_ms=args.runtime_step_ms,
        data_dir=args.data_dir,
        log_file=args.server_log,
        faults=tuple(args.fault),
    )
    try:
        import uvloop  # the load generator shares two cores with the server: spend less on the loop
    except ImportError:
        report = asyncio.run(run(config))
    else:
        report = uvloop.run(run(config))
    print(report.render())
    if args.json is not None:
        args.json.write_text(json.dumps(report.summary(), indent=2) + "\n")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
