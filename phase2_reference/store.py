"""The data store: one SQLite database (WAL, synchronous=NORMAL), or `:memory:`.

Every change and the event that records it are written in one transaction, and the API answers
only after COMMIT; a process killed afterwards loses nothing it acknowledged. All access happens
on the server's event loop, through one connection, so transactions never interleave.

A test-only switch makes the store unavailable: every access then raises `StoreUnavailable`,
which the gateway answers with 503.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

SCHEMA = """
CREATE TABLE IF NOT EXISTS worlds (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS worlds_by_tenant ON worlds (tenant, seq);
CREATE INDEX IF NOT EXISTS worlds_by_name ON worlds (tenant, name);
CREATE TABLE IF NOT EXISTS runtimes (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    tenant TEXT NOT NULL,
    world_id TEXT NOT NULL,
    plugin TEXT NOT NULL,
    status TEXT NOT NULL,
    version INTEGER NOT NULL,
    next_transition_at REAL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS runtimes_by_tenant ON runtimes (tenant, seq);
CREATE INDEX IF NOT EXISTS runtimes_by_world ON runtimes (world_id);
CREATE INDEX IF NOT EXISTS runtimes_due ON runtimes (next_transition_at) WHERE next_transition_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    tenant TEXT NOT NULL,
    type TEXT NOT NULL,
    subject TEXT NOT NULL,
    time TEXT NOT NULL,
    data TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS events_by_tenant ON events (tenant, seq);
CREATE TABLE IF NOT EXISTS refresh_tokens (
    token_hash TEXT PRIMARY KEY,
    family TEXT NOT NULL,
    client_id TEXT NOT NULL,
    tenant TEXT NOT NULL,
    scope TEXT NOT NULL,
    expires_at REAL NOT NULL,
    used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS refresh_tokens_by_family ON refresh_tokens (family);
CREATE TABLE IF NOT EXISTS revoked_families (
    family TEXT PRIMARY KEY
);
CREATE TABLE IF NOT EXISTS revoked_access_tokens (
    jti TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
"""

DATABASE_FILE = "phase2.sqlite3"


class StoreUnavailable(Exception):
    """The data store cannot be reached (or was switched off by a test control)."""


class Store:
    def __init__(self, data_dir: Path | None) -> None:
        """Open (and create) the database in `data_dir`, or in memory when it is None."""
        self.path = ":memory:" if data_dir is None else str(data_dir / DATABASE_FILE)
        # One connection shared by the event loop's tasks; created before the loop may exist.
        self._connection = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._connection.execute("PRAGMA journal_mode=WAL")
        self._connection.execute("PRAGMA synchronous=NORMAL")
        self._connection.execute("PRAGMA foreign_keys=ON")
        self._connection.executescript(SCHEMA)
        self.available = True
        self._after_commit: list[Callable[[], None]] = []

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every transaction that wrote events has committed."""
        self._after_commit.append(callback)

    @property
    def connection(self) -> sqlite3.Connection:
        if not self.available:
            raise StoreUnavailable("data store unavailable")
        return self._connection

    @contextmanager
    def transaction(self) -> Iterator[Transaction]:
        connection = self.connection
        connection.execute("BEGIN IMMEDIATE")
        tx = Transaction(connection)
        try:
            yield tx
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
        if tx.wrote_events:
            for callback in self._after_commit:
                callback()

    def ping(self) -> float:
        """Run `SELECT 1` and return its latency in milliseconds."""
        started = time.perf_counter()
        self.connection.execute("SELECT 1").fetchone()
        return (time.perf_counter() - started) * 1000.0

    def close(self) -> None:
        self._connection.close()


class Transaction:
    """The connection inside BEGIN … COMMIT, remembering whether events were written."""

    __slots__ = ("connection", "wrote_events")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.wrote_events = False

    def execute(self, sql: str, parameters: tuple[object, ...] = ()) -> sqlite3.Cursor:
        return self.connection.execute(sql, parameters)
