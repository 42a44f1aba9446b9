"""Handlers of the health and telemetry tags: liveness, readiness and metrics."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from typing import Any

from phase2_reference.gateway.handlers.registry import operation
from phase2_reference.gateway.http import Call, Reply
from phase2_reference.gateway.state import AppState
from phase2_reference.shared.clock import timestamp
from phase2_reference.shared.jsonutil import dumps
from phase2_reference.store.sqlite import StoreUnavailable

RETRY_AFTER_SECONDS = 1


@operation("getLiveness")
@operation("headLiveness")
async def liveness(state: AppState, call: Call) -> Reply:
    if state.faults.active("slow-liveness"):
        await asyncio.sleep(0.3)
    uptime = round(time.monotonic() - state.started_at, 3)
    return Reply(200, dumps({"status": "ok", "version": state.version, "uptime_seconds": uptime}))


def readiness_checks(state: AppState) -> dict[str, dict[str, Any]]:
    checks: dict[str, dict[str, Any]] = {}
    try:
        checks["data_store"] = {"status": "pass", "latency_ms": round(state.store.ping(), 3)}
    except (StoreUnavailable, sqlite3.Error):
        checks["data_store"] = {"status": "fail", "detail": "data store unavailable"}
    if state.orchestrator.alive:
        checks["event_bus"] = {"status": "pass"}
    else:
        checks["event_bus"] = {"status": "fail", "detail": "the orchestrator task is not running"}
    if state.faults.active("readyz-always-ready"):
        checks = {name: {"status": "pass"} for name in checks}
    if state.faults.active("readyz-no-components"):
        checks = {}
    return checks


@operation("getReadiness")
@operation("headReadiness")
async def readiness(state: AppState, call: Call) -> Reply:
    checks = readiness_checks(state)
    ready = all(check["status"] == "pass" for check in checks.values())
    document = {"status": "ready" if ready else "not_ready", "checks": checks, "observed_at": timestamp()}
    if ready:
        return Reply(200, dumps(document))
    return Reply(503, dumps(document), headers=[("retry-after", str(RETRY_AFTER_SECONDS))])


@operation("getMetrics")
async def metrics(state: AppState, call: Call) -> Reply:
    body, content_type = state.metrics.render(call.context.headers.get("accept", ""))
    return Reply(200, body, content_type=content_type)
