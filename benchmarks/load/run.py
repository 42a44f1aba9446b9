"""A load run: serve, load, optionally kill and restart, verify."""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks.launch import Reference
from benchmarks.load.client import LoadClient, Target
from benchmarks.load.config import LoadConfig
from benchmarks.load.invariants import (
    check_event_order,
    check_resumed,
    check_runtimes,
    check_tails,
    check_worlds,
    compare_with_store,
    cpu_seconds,
    mid_transition,
    read_final_state,
)
from benchmarks.load.model import DATABASE_FILE, Ledger, TenantState, tenant_clients
from benchmarks.load.report import LoadReport


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
        ledger = Ledger({tenant: TenantState(tenant) for tenant in tenant_clients()})
        started = time.monotonic()
        target = Target(server.base_url, stop_at=started + config.duration)
        tenants = list(tenant_clients())
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
            tenant: await read_final_state(server.base_url, tenant, settle, rng, violations)
            for tenant in tenant_clients()
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
