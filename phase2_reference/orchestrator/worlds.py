"""Worlds: creation, reads, merge-patch updates and deletion, each change with its event.

A world belongs to the tenant that created it; every query is scoped by tenant, so another
tenant's world is indistinguishable from one that never existed (404).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from phase2_reference.bus import events
from phase2_reference.engines.plugins import PLUGINS
from phase2_reference.shared.clock import timestamp
from phase2_reference.shared.jsonutil import dumps
from phase2_reference.shared.problems import ProblemError, conflict, not_found, unprocessable
from phase2_reference.store.cursors import CursorCodec
from phase2_reference.store.ids import new_id
from phase2_reference.store.paging import Page, effective_limit, make_page
from phase2_reference.store.sqlite import Store, Transaction
from phase2_reference.testing.faults import ActiveFaults

DEFAULT_SETTINGS = {"tick_rate_hz": 30, "max_entities": 1000}
MAX_LABELS = 16
LIVE_STATUSES = ("pending", "starting", "running", "stopping")


@dataclass(frozen=True, slots=True)
class StoredWorld:
    tenant: str
    version: int
    doc: bytes
    id: str = ""

    @property
    def etag(self) -> str:
        return f'"{self.version}"'

    def as_json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.doc)
        return parsed


def etag_matches(if_match: str, version: int) -> bool:
    return if_match == "*" or if_match == f'"{version}"'


def _settings(given: dict[str, Any] | None, base: dict[str, Any]) -> dict[str, int]:
    merged = {**base, **(given or {})}
    # JSON Schema counts 60.0 as an integer; keep the representation an integer too.
    return {key: int(merged[key]) for key in ("tick_rate_hz", "max_entities")}


class WorldService:
    def __init__(self, store: Store, codec: CursorCodec, faults: ActiveFaults) -> None:
        self.store = store
        self.codec = codec
        self.faults = faults

    # --- reads ---------------------------------------------------------------------------------

    def _find(self, tenant: str, world_id: str, *, leak: bool) -> StoredWorld | None:
        if leak:
            row = self.store.connection.execute(
                "SELECT tenant, version, doc FROM worlds WHERE id = ? AND deleted = 0", (world_id,)
            ).fetchone()
        else:
            row = self.store.connection.execute(
                "SELECT tenant, version, doc FROM worlds WHERE id = ? AND tenant = ? AND deleted = 0",
                (world_id, tenant),
            ).fetchone()
        return None if row is None else StoredWorld(row[0], row[1], row[2].encode("utf-8"))

    def get(self, tenant: str, world_id: str) -> StoredWorld:
        world = self._find(tenant, world_id, leak=self.faults.active("tenant-leak-read"))
        if world is None:
            raise not_found("No world with this id.")
        return world

    def find_for_write(self, tenant: str, world_id: str) -> StoredWorld | None:
        return self._find(tenant, world_id, leak=self.faults.active("tenant-leak-write"))

    def list(self, tenant: str, limit: int, after: int) -> Page:
        limit = effective_limit(limit, self.faults)
        visible = "" if self.faults.active("soft-delete-visible") else " AND deleted = 0"
        if self.faults.active("tenant-leak-list"):
            rows = self.store.connection.execute(
                f"SELECT seq, doc FROM worlds WHERE seq > ?{visible} ORDER BY seq LIMIT ?", (after, limit + 1)
            ).fetchall()
        else:
            rows = self.store.connection.execute(
                f"SELECT seq, doc FROM worlds WHERE tenant = ? AND seq > ?{visible} ORDER BY seq LIMIT ?",
                (tenant, after, limit + 1),
            ).fetchall()
        return make_page("worlds", [(seq, doc.encode("utf-8")) for seq, doc in rows], limit, self.codec, self.faults)

    def preview(self, tenant: str, world_id: str) -> dict[str, Any]:
        world = self.get(tenant, world_id).as_json()
        settings = world["settings"]
        entities = settings["max_entities"]
        return {
            "world_id": world["id"],
            # A rough model: a fixed engine overhead plus a per-entity cost scaled by the tick rate.
            "estimated_memory_mb": round(16.0 + entities * 0.012 * (1 + settings["tick_rate_hz"] / 240), 1),
            "compatible_plugins": [name for name, plugin in PLUGINS.items() if plugin.max_entities >= entities],
            "generated_at": timestamp(),
        }

    # --- writes --------------------------------------------------------------------------------

    def _name_taken(self, tx: Transaction, tenant: str, name: str, except_id: str | None) -> bool:
        if self.faults.active("duplicate-name-allowed"):
            return False
        row = tx.execute(
            "SELECT id FROM worlds WHERE tenant = ? AND name = ? AND deleted = 0 AND id != ?",
            (tenant, name, except_id or ""),
        ).fetchone()
        return row is not None

    def _reject_labels(self, labels: dict[str, Any] | None) -> None:
        if labels and self.faults.active("reject-valid-labels"):
            raise unprocessable("The labels are invalid.", [{"pointer": "/labels", "detail": "Labels are refused."}])

    def create(self, tenant: str, body: dict[str, Any]) -> StoredWorld:
        self._reject_labels(body.get("labels"))
        now = timestamp()
        world = {
            "id": new_id(),
            "name": body["name"],
            "description": body.get("description", ""),
            "labels": dict(body.get("labels", {})),
            "settings": _settings(body.get("settings"), DEFAULT_SETTINGS),
            "version": 1,
            "created_at": now,
            "updated_at": now,
        }
        doc = dumps(world)
        allow_duplicates = self.faults.active("duplicate-name-allowed")
        with self.store.transaction() as tx:
            # The uniqueness check and the insert in one statement: one round trip less per create.
            inserted = tx.execute(
                "INSERT INTO worlds (id, tenant, name, version, doc) SELECT ?, ?, ?, 1, ? "
                "WHERE ? OR NOT EXISTS (SELECT 1 FROM worlds WHERE tenant = ? AND name = ? AND deleted = 0)",
                (
                    world["id"],
                    tenant,
                    world["name"],
                    doc.decode("utf-8"),
                    allow_duplicates,
                    tenant,
                    world["name"],
                ),
            ).rowcount
            if inserted == 0:
                raise conflict("A world with this name already exists.")
            events.append(tx, tenant, "world.created", f"worlds/{world['id']}", doc, now)
        return StoredWorld(tenant, 1, doc, world["id"])

    def _merged(self, current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
        merged = dict(current)
        for key in ("name", "description"):
            if key in patch:
                merged[key] = patch[key]
        if "labels" in patch:
            labels = {} if self.faults.active("patch-replaces") else dict(current["labels"])
            for key, value in patch["labels"].items():
                if value is None:
                    labels.pop(key, None)
                else:
                    labels[key] = value
            if len(labels) > MAX_LABELS:
                raise unprocessable(
                    "The update would leave more than 16 labels.",
                    [{"pointer": "/labels", "detail": f"A world holds at most {MAX_LABELS} labels."}],
                )
            merged["labels"] = labels
        if "settings" in patch:
            merged["settings"] = _settings(patch["settings"], current["settings"])
        return merged

    def update(self, tenant: str, world_id: str, if_match: str | None, patch: dict[str, Any]) -> StoredWorld:
        self._reject_labels({key: value for key, value in patch.get("labels", {}).items() if value is not None})
        with self.store.transaction() as tx:
            stored = self.find_for_write(tenant, world_id)
            if stored is None:
                raise not_found("No world with this id.")
            if (
                if_match is not None
                and not etag_matches(if_match, stored.version)
                and not self.faults.active("ignore-if-match")
            ):
                raise ProblemError(412, "precondition-failed", "The world changed since this ETag was read.")
            current = stored.as_json()
            merged = self._merged(current, patch)
            if merged == current:
                return stored  # nothing changed: no new version, no event
            if merged["name"] != current["name"] and self._name_taken(tx, stored.tenant, merged["name"], world_id):
                raise conflict("A world with this name already exists.")
            merged["version"] = stored.version + 1
            merged["updated_at"] = timestamp()
            doc = dumps(merged)
            tx.execute(
                "UPDATE worlds SET name = ?, version = ?, doc = ? WHERE id = ?",
                (merged["name"], merged["version"], doc.decode("utf-8"), world_id),
            )
            if not self.faults.active("missing-update-events"):
                copies = 2 if self.faults.active("duplicate-events") else 1
                for _ in range(copies):
                    events.append(tx, stored.tenant, "world.updated", f"worlds/{world_id}", doc)
        return StoredWorld(stored.tenant, merged["version"], doc)

    def delete(self, tenant: str, world_id: str, if_match: str | None) -> None:
        with self.store.transaction() as tx:
            stored = self.find_for_write(tenant, world_id)
            if stored is None:
                raise not_found("No world with this id.")
            if if_match is not None and not etag_matches(if_match, stored.version):
                raise ProblemError(412, "precondition-failed", "The world changed since this ETag was read.")
            runtimes = tx.execute(
                "SELECT id, tenant, status FROM runtimes WHERE world_id = ? ORDER BY seq", (world_id,)
            ).fetchall()
            live = [row for row in runtimes if row[2] in LIVE_STATUSES]
            if live and not self.faults.active("delete-with-live-runtimes"):
                raise conflict("The world has live runtimes; stop them first.")
            for runtime_id, runtime_tenant, _ in runtimes:
                tx.execute("DELETE FROM runtimes WHERE id = ?", (runtime_id,))
                events.append(tx, runtime_tenant, "runtime.deleted", f"runtimes/{runtime_id}", {"id": runtime_id})
            if self.faults.active("soft-delete-visible"):
                tx.execute("UPDATE worlds SET deleted = 1 WHERE id = ?", (world_id,))
            else:
                tx.execute("DELETE FROM worlds WHERE id = ?", (world_id,))
            events.append(tx, stored.tenant, "world.deleted", f"worlds/{world_id}", {"id": world_id})

    def seed(self, tenant: str, body: dict[str, Any]) -> bool:
        """Create a seed world unless its name exists in the tenant; True when created."""
        row = self.store.connection.execute(
            "SELECT 1 FROM worlds WHERE tenant = ? AND name = ? AND deleted = 0", (tenant, body["name"])
        ).fetchone()
        if row is not None:
            return False
        self.create(tenant, body)
        return True
