"""A fuzz run: fixtures, the snapshot, every malformed request, the snapshot again."""

from __future__ import annotations

import time
from pathlib import Path

from benchmarks.fuzz.client import make_fixtures, send_all, send_raw, serve
from benchmarks.fuzz.generator import Generator, Malformed
from benchmarks.fuzz.invariants import snapshot
from benchmarks.fuzz.operations import load_operations
from benchmarks.fuzz.raw import raw_requests
from benchmarks.fuzz.report import Outcome

DATABASE_FILE = "phase2.sqlite3"
RAW_SHARE = 0.02


async def run(
    count: int, seed: int, transport: str, data_dir: Path, concurrency: int = 8, raw_count: int | None = None
) -> Outcome:
    """`count` malformed requests (of them `raw_count`, by default 2%, raw bytes when over HTTP)."""
    outcome = Outcome()
    async with serve(transport, data_dir) as (http, host, port):
        fixtures = await make_fixtures(http)
        operations = load_operations()
        raw = raw_requests(fixtures) if host is not None else []
        raw_count = (int(count * RAW_SHARE) if raw_count is None else raw_count) if raw else 0
        requests = list(Generator(operations, fixtures, seed).requests(count - raw_count))
        outcome.before = snapshot(data_dir / DATABASE_FILE)
        started = time.monotonic()
        raw_target = None if host is None else (host, port)
        await send_all(http, requests, outcome, concurrency, raw_target)
        if raw_target is not None:
            for index in range(raw_count):
                name, payload = raw[index % len(raw)]
                # Nothing a parser refuses can be judged finer than "a 4xx problem".
                request = Malformed("(raw)", name, "RAW", "/", expected=frozenset(range(400, 500)))
                await send_raw(*raw_target, request, payload, outcome)
        outcome.seconds = time.monotonic() - started
        outcome.after = snapshot(data_dir / DATABASE_FILE)
        if outcome.after != outcome.before:
            outcome.violation("something was written", f"{outcome.before} → {outcome.after}")
        still = await http.get("/v2/worlds", headers={"Authorization": f"Bearer {fixtures.admin_token}"})
        if still.status_code != 200:
            outcome.violation("the token was revoked", f"GET /worlds → {still.status_code}")
        operations_hit = {operation.operation_id for operation in operations}
        missing = operations_hit - set(outcome.by_operation)
        if missing:
            outcome.violation("operations not fuzzed", ", ".join(sorted(missing)))
    return outcome
