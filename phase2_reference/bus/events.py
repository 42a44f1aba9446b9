"""The event log: one row per state change, written in the transaction of the change itself.

The id is the global SQLite sequence, shown as a decimal string; a tenant sees only its own rows.
Rows store the event's JSON once, so listing and streaming send it without re-encoding.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from phase2_reference.shared.clock import timestamp
from phase2_reference.shared.jsonutil import dumps
from phase2_reference.store.sqlite import Store, Transaction
from phase2_reference.testing.faults import ActiveFaults

MAX_SEQUENCE = 2**63 - 1
NO_FAULTS = ActiveFaults()


@dataclass(frozen=True, slots=True)
class StoredEvent:
    sequence: int
    type: str
    document: bytes  # the Event JSON


def append(
    tx: Transaction,
    tenant: str,
    event_type: str,
    subject: str,
    data: dict[str, Any] | bytes,
    time: str | None = None,
) -> int:
    """Record an event; `data` is the resource after the change, as a dict or already as JSON."""
    encoded = data if isinstance(data, bytes) else dumps(data)
    cursor = tx.execute(
        "INSERT INTO events (tenant, type, subject, time, data) VALUES (?, ?, ?, ?, ?)",
        (tenant, event_type, subject, time or timestamp(), encoded.decode("utf-8")),
    )
    tx.wrote_events = True
    sequence = cursor.lastrowid
    assert sequence is not None
    return sequence


def _render(row: tuple[int, str, str, str, str]) -> StoredEvent:
    sequence, event_type, subject, time, data = row
    # `data` is stored as JSON text already; splice it in rather than parse and re-encode it.
    head = dumps({"id": str(sequence), "type": event_type, "subject": subject, "time": time})
    return StoredEvent(sequence, event_type, head[:-1] + b',"data":' + data.encode("utf-8") + b"}")


def read_after(
    store: Store,
    tenant: str | None,
    after: int,
    limit: int,
    event_type: str | None = None,
    subject: str | None = None,
    faults: ActiveFaults = NO_FAULTS,
) -> list[StoredEvent]:
    """Up to `limit` events with a sequence above `after`, oldest first; `tenant=None` reads every tenant."""
    if faults.active("tenant-leak-events"):
        tenant = None
    if faults.active("event-filter-ignored"):
        event_type, subject = None, None
    clauses = ["seq > ?"]
    parameters: list[object] = [min(after, MAX_SEQUENCE)]
    if tenant is not None:
        clauses.append("tenant = ?")
        parameters.append(tenant)
    if event_type is not None:
        clauses.append("type = ?")
        parameters.append(event_type)
    if subject is not None:
        clauses.append("subject = ?")
        parameters.append(subject)
    parameters.append(limit)
    rows = store.connection.execute(
        f"SELECT seq, type, subject, time, data FROM events WHERE {' AND '.join(clauses)} ORDER BY seq LIMIT ?",
        parameters,
    ).fetchall()
    return [_render(row) for row in rows]
