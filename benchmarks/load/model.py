"""The model of what was acknowledged: records, pools, tenants, the ledger, and the operation mix."""

from __future__ import annotations

import random
import ssl
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from benchmarks.clients import OAuthClient, admin, other_tenant
from conformance.contract import load_contract


def tenant_clients() -> dict[str, OAuthClient]:
    """The full-scope client of each of the two tenants of fixtures/clients.yaml, by tenant."""
    return {client.tenant: client for client in (admin(), other_tenant())}


DATABASE_FILE = "phase2.sqlite3"
PLUGINS = ("physics-sim", "agent-sim")
# agent-sim runs at most 10,000 entities and physics-sim 100,000: some runtimes must fail.
ENTITY_CHOICES = (100, 1000, 5000, 20000, 200000)
LIVE = frozenset({"pending", "starting", "running", "stopping"})
SETTLED = frozenset({"running", "stopped", "failed"})
# The runtime state machine of the contract (RuntimeStatus' x-transitions), as (status before, status after).
TRANSITIONS = frozenset(
    (before, after) for before, following in load_contract().runtime_transitions().items() for after in following
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
