"""Runtimes and their state machine, persisted with the time of each one's next transition.

    pending → starting → running            (or starting → failed, with a failure_reason)
    pending | starting | running → stopping → stopped

Requests move a runtime into pending or stopping; the orchestrator moves it on when its
`next_transition_at` is due. Storing that time in SQLite is what lets transitions resume after
a restart.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from phase2_reference.bus import events
from phase2_reference.engines.plugins import PLUGINS
from phase2_reference.orchestrator.worlds import LIVE_STATUSES, WorldService
from phase2_reference.shared.clock import timestamp
from phase2_reference.shared.jsonutil import dumps
from phase2_reference.shared.problems import conflict, not_found, unprocessable
from phase2_reference.store.cursors import CursorCodec
from phase2_reference.store.ids import new_id
from phase2_reference.store.paging import Page, effective_limit, make_page
from phase2_reference.store.sqlite import Store, Transaction
from phase2_reference.testing.faults import ActiveFaults

STATUSES = ("pending", "starting", "running", "stopping", "stopped", "failed")


@dataclass(frozen=True, slots=True)
class StoredRuntime:
    tenant: str
    status: str
    version: int
    doc: bytes

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    def as_json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.doc)
        return parsed


class RuntimeService:
    def __init__(
        self,
        store: Store,
        worlds: WorldService,
        codec: CursorCodec,
        faults: ActiveFaults,
        step_seconds: float,
        *,
        transitions: Mapping[str, frozenset[str]],
        fail_from_pending: bool = False,
    ) -> None:
        self.store = store
        self.worlds = worlds
        self.codec = codec
        self.faults = faults
        self.step = step_seconds
        self.transitions = transitions  # the contract's own (RuntimeStatus' x-transitions)
        self.fail_from_pending = fail_from_pending

    # --- reads ---------------------------------------------------------------------------------

    def _find(self, tenant: str, runtime_id: str, *, leak: bool) -> StoredRuntime | None:
        sql = "SELECT tenant, status, version, doc FROM runtimes WHERE id = ?"
        parameters: tuple[object, ...] = (runtime_id,)
        if not leak:
            sql += " AND tenant = ?"
            parameters = (runtime_id, tenant)
        row = self.store.connection.execute(sql, parameters).fetchone()
        return None if row is None else StoredRuntime(row[0], row[1], row[2], row[3].encode("utf-8"))

    def _find_for_write(self, tenant: str, runtime_id: str) -> StoredRuntime | None:
        return self._find(tenant, runtime_id, leak=self.faults.active("tenant-leak-write"))

    def get(self, tenant: str, runtime_id: str) -> StoredRuntime:
        runtime = self._find(tenant, runtime_id, leak=self.faults.active("tenant-leak-read"))
        if runtime is None:
            raise not_found("No runtime with this id.")
        return runtime

    def list(self, tenant: str, limit: int, after: int, filters: dict[str, str]) -> Page:
        limit = effective_limit(limit, self.faults)
        clauses = ["seq > ?"]
        parameters: list[object] = [after]
        if not self.faults.active("tenant-leak-list"):
            clauses.append("tenant = ?")
            parameters.append(tenant)
        if not self.faults.active("runtime-filter-ignored"):
            for column in ("world_id", "status", "plugin"):
                if column in filters:
                    clauses.append(f"{column} = ?")
                    parameters.append(filters[column])
        parameters.append(limit + 1)
        rows = self.store.connection.execute(
            f"SELECT seq, doc FROM runtimes WHERE {' AND '.join(clauses)} ORDER BY seq LIMIT ?", parameters
        ).fetchall()
        return make_page("runtimes", [(seq, doc.encode("utf-8")) for seq, doc in rows], limit, self.codec, self.faults)

    def counts(self, tenant: str) -> tuple[dict[str, int], dict[str, int]]:
        """Runtimes of the tenant by status, and live runtimes by plugin."""
        by_status = dict.fromkeys(STATUSES, 0)
        live_by_plugin = dict.fromkeys(PLUGINS, 0)
        rows = self.store.connection.execute(
            "SELECT status, plugin, COUNT(*) FROM runtimes WHERE tenant = ? GROUP BY status, plugin",
            (tenant,),
        ).fetchall()
        for status, plugin, count in rows:
            by_status[status] = by_status.get(status, 0) + count
            if status in LIVE_STATUSES and plugin in live_by_plugin:
                live_by_plugin[plugin] += count
        return by_status, live_by_plugin

    # --- writes --------------------------------------------------------------------------------

    def start(self, tenant: str, body: dict[str, Any]) -> StoredRuntime:
        if body["plugin"] not in PLUGINS:
            raise unprocessable("The engine has no such plugin.", [{"pointer": "/plugin", "detail": "Unknown plugin."}])
        world_id = body["world_id"].lower()
        now = time.time()
        stamp = timestamp()
        runtime = {
            "id": new_id(),
            "world_id": world_id,
            "plugin": body["plugin"],
            "parameters": dict(body.get("parameters", {})),
            "status": "pending",
            "failure_reason": None,
            "version": 1,
            "created_at": stamp,
            "updated_at": stamp,
        }
        doc = dumps(runtime)
        with self.store.transaction() as tx:
            if self.worlds.find_for_write(tenant, world_id) is None:
                raise not_found("No world with this id.")
            tx.execute(
                "INSERT INTO runtimes (id, tenant, world_id, plugin, status, version, next_transition_at, "
                "doc) VALUES (?, ?, ?, ?, 'pending', 1, ?, ?)",
                (runtime["id"], tenant, world_id, runtime["plugin"], now + self.step, doc.decode("utf-8")),
            )
            events.append(tx, tenant, "runtime.created", f"runtimes/{runtime['id']}", doc)
        return StoredRuntime(tenant, "pending", 1, doc)

    def _move(
        self,
        tx: Transaction,
        stored: StoredRuntime,
        status: str,
        next_at: float | None,
        failure_reason: str | None = None,
    ) -> StoredRuntime:
        if status not in self.transitions.get(stored.status, frozenset()) and not self.faults.active(
            "failed-after-running"
        ):
            raise RuntimeError(f"the contract allows no change from {stored.status} to {status}")
        runtime = stored.as_json()
        runtime.update(status=status, failure_reason=failure_reason, version=stored.version + 1, updated_at=timestamp())
        doc = dumps(runtime)
        tx.execute(
            "UPDATE runtimes SET status = ?, version = ?, next_transition_at = ?, doc = ? WHERE id = ?",
            (status, runtime["version"], next_at, doc.decode("utf-8"), runtime["id"]),
        )
        events.append(tx, stored.tenant, f"runtime.{status}", f"runtimes/{runtime['id']}", doc)
        return StoredRuntime(stored.tenant, status, runtime["version"], doc)

    def stop(self, tenant: str, runtime_id: str) -> StoredRuntime:
        with self.store.transaction() as tx:
            stored = self._find_for_write(tenant, runtime_id)
            if stored is None:
                raise not_found("No runtime with this id.")
            if stored.status == "stopping":
                return stored
            if stored.status in ("stopped", "failed"):
                raise conflict(f"The runtime is already {stored.status}.")
            return self._move(tx, stored, "stopping", time.time() + self.step)

    def delete(self, tenant: str, runtime_id: str) -> None:
        with self.store.transaction() as tx:
            stored = self._find_for_write(tenant, runtime_id)
            if stored is None:
                raise not_found("No runtime with this id.")
            if stored.status not in ("stopped", "failed") and not self.faults.active("delete-running-runtime"):
                raise conflict(f"The runtime is {stored.status}; only stopped or failed runtimes can be deleted.")
            if self.faults.active("not-deleted"):
                return
            tx.execute("DELETE FROM runtimes WHERE id = ?", (runtime_id,))
            events.append(tx, stored.tenant, "runtime.deleted", f"runtimes/{runtime_id}", {"id": runtime_id})

    # --- the orchestrator's side ---------------------------------------------------------------

    def next_due(self) -> float | None:
        row = self.store.connection.execute(
            "SELECT MIN(next_transition_at) FROM runtimes WHERE next_transition_at IS NOT NULL"
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def advance_due(self, now: float) -> int:
        """Move every runtime whose transition is due one step on; returns how many moved."""
        due = self.store.connection.execute(
            "SELECT id FROM runtimes WHERE next_transition_at IS NOT NULL AND next_transition_at <= ? "
            "ORDER BY next_transition_at, seq",
            (now,),
        ).fetchall()
        for (runtime_id,) in due:
            with self.store.transaction() as tx:
                row = tx.execute(
                    "SELECT tenant, status, version, doc, world_id, plugin FROM runtimes WHERE id = ?",
                    (runtime_id,),
                ).fetchone()
                if row is None:
                    continue
                stored = StoredRuntime(row[0], row[1], row[2], row[3].encode("utf-8"))
                self._advance(tx, stored, world_id=row[4], plugin=row[5])
        return len(due)

    def _advance(self, tx: Transaction, stored: StoredRuntime, *, world_id: str, plugin: str) -> None:
        now = time.time()
        if stored.status == "pending":
            reason = self._refusal(tx, world_id, plugin) if self.fail_from_pending else None
            if reason is None:
                self._move(tx, stored, "starting", now + self.step)
            else:
                self._move(tx, stored, "failed", None, reason)
        elif stored.status == "starting":
            if self.faults.active("runtime-stuck-starting"):
                tx.execute("UPDATE runtimes SET next_transition_at = NULL WHERE id = ?", (stored.as_json()["id"],))
                return
            reason = self._refusal(tx, world_id, plugin)
            if reason is None:
                self._move(tx, stored, "running", None)
            else:
                if self.faults.active("failed-after-running"):
                    # Both in one transaction: polling never sees running, only the events record it.
                    stored = self._move(tx, stored, "running", None)
                self._move(
                    tx,
                    stored,
                    "failed",
                    None,
                    None if self.faults.active("failed-without-reason") else reason,
                )
        elif stored.status == "stopping":
            if self.faults.active("stop-never-completes"):
                tx.execute("UPDATE runtimes SET next_transition_at = NULL WHERE id = ?", (stored.as_json()["id"],))
                return
            self._move(tx, stored, "stopped", None)
        else:
            tx.execute("UPDATE runtimes SET next_transition_at = NULL WHERE id = ?", (stored.as_json()["id"],))

    @staticmethod
    def _refusal(tx: Transaction, world_id: str, plugin_name: str) -> str | None:
        row = tx.execute("SELECT doc FROM worlds WHERE id = ?", (world_id,)).fetchone()
        if row is None:
            return "The world no longer exists."
        plugin = PLUGINS.get(plugin_name)
        if plugin is None:
            return f"The engine has no plugin {plugin_name}."
        settings: dict[str, Any] = json.loads(row[0])["settings"]
        return plugin.refusal(settings)
