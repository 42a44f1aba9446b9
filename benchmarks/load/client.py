"""One load client: a random mix of operations, each answer recorded against the model."""

from __future__ import annotations

import asyncio
import json
import random
import time
from typing import Any

import httpx

from benchmarks.load.model import (
    ALLOWED,
    ENTITY_CHOICES,
    LIST_TAIL_LIMIT,
    MIX,
    PLUGINS,
    TLS,
    Ledger,
    RuntimeRecord,
    Tail,
    WorldRecord,
    WorldWalk,
    fingerprint,
    tenant_clients,
)

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
            credentials = tenant_clients()[self.tenant].login_body()
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
