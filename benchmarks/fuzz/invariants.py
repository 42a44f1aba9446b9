"""The rules every answer and the store must keep: a 4xx problem with the expected status, nothing written."""

from __future__ import annotations

import contextlib
import json
import sqlite3
from pathlib import Path
from typing import Any

from benchmarks.fuzz.generator import Malformed
from benchmarks.fuzz.report import Outcome


def judge(outcome: Outcome, request: Malformed, status: int, content_type: str, body: bytes) -> None:
    outcome.count += 1
    outcome.statuses[status] += 1
    outcome.by_defect[request.defect] += 1
    outcome.by_operation[request.operation] += 1
    label = f"{request.method} {request.target()[:120]} ({request.operation}, {request.defect}, noise {request.noise})"
    if not 400 <= status < 500:
        outcome.violation("not 4xx", f"{status} for {label}: {body[:200]!r}")
        return
    if content_type.split(";")[0].strip() != "application/problem+json":
        outcome.violation("not problem+json", f"{status} {content_type!r} for {label}")
        return
    if request.method != "HEAD":
        try:
            problem = json.loads(body)
        except ValueError:
            outcome.violation("unreadable problem", f"{status} for {label}")
            return
        if not isinstance(problem, dict) or problem.get("status") != status or not problem.get("title"):
            outcome.violation("wrong problem", f"{status} for {label}: {body[:200]!r}")
            return
    if request.expected and status not in request.expected:
        outcome.violation("unexpected 4xx", f"{status} (wanted {sorted(request.expected)}) for {label}: {body[:160]!r}")


def snapshot(database: Path) -> dict[str, Any]:
    """What the store holds, by table: row counts and a sum that moves with any change."""
    queries = {
        "worlds": "SELECT COUNT(*), TOTAL(version), TOTAL(length(doc)) FROM worlds",
        "runtimes": "SELECT COUNT(*), TOTAL(version), TOTAL(length(doc)) FROM runtimes",
        "events": "SELECT COUNT(*), MAX(seq), TOTAL(length(data)) FROM events",
        "refresh_tokens": "SELECT COUNT(*), TOTAL(used) FROM refresh_tokens",
        "revoked_families": "SELECT COUNT(*) FROM revoked_families",
        "revoked_access_tokens": "SELECT COUNT(*) FROM revoked_access_tokens",
    }
    with contextlib.closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
        return {name: list(connection.execute(sql).fetchone()) for name, sql in queries.items()}
