"""The data store: one SQLite database (WAL, synchronous=NORMAL), or `:memory:`.

Every change and the event that records it are written atomically, and the API answers only after
COMMIT; a process killed afterwards loses nothing it acknowledged. All access happens on the
server's event loop, through one connection, so changes never interleave.

Group commit: on the event loop, each change runs in a SAVEPOINT of a shared transaction that is
committed once the loop has run the requests ready alongside it (`loop.call_soon`); a failed change
rolls back to its savepoint and leaves the others alone. The gateway awaits `settled()` before it
answers, so no answer (and no event on the stream) goes out before its COMMIT. Without a running
loop (start-up, seeding) each change commits on its own.

A test-only switch makes the store unavailable: every access then raises `StoreUnavailable`,
which the gateway answers with 503.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable
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
        # 64 MiB of page cache instead of 2: index pages stay in memory as the tables grow.
        self._connection.execute("PRAGMA cache_size=-65536")
        self._connection.execute("PRAGMA foreign_keys=ON")
        self._connection.executescript(SCHEMA)
        self.available = True
        self._after_commit: list[Callable[[], None]] = []
        self._batch_open = False
        self._batch_waiters: list[asyncio.Future[None]] = []
        self._batch_wrote_events = False

    def on_commit(self, callback: Callable[[], None]) -> None:
        """Call `callback` after every transaction that wrote events has committed."""
        self._after_commit.append(callback)

    @property
    def connection(self) -> sqlite3.Connection:
        if not self.available:
            raise StoreUnavailable("data store unavailable")
        return self._connection

    def transaction(self) -> Change:
        """One change with its events: all of it is committed, or none of it (`with store.transaction() as tx`)."""
        return Change(self, self.connection)

    def join_batch(self, connection: sqlite3.Connection) -> bool:
        """Open (or join) the loop turn's shared transaction; False when no event loop runs here."""
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return False
        if not self._batch_open:
            connection.execute("BEGIN IMMEDIATE")
            self._batch_open = True
            loop.call_soon(self._commit_batch)
        return True

    def _commit_batch(self) -> None:
        if not self._batch_open:
            return
        waiters, self._batch_waiters = self._batch_waiters, []
        wrote_events, self._batch_wrote_events = self._batch_wrote_events, False
        self._batch_open = False
        failure: StoreUnavailable | None = None
        try:
            self._connection.execute("COMMIT")
        except sqlite3.Error:
            with contextlib.suppress(sqlite3.Error):
                self._connection.execute("ROLLBACK")
            failure = StoreUnavailable("the data store could not commit")
        for waiter in waiters:
            if not waiter.done():  # a waiter whose request was cancelled is done already
                if failure is None:
                    waiter.set_result(None)
                else:
                    waiter.set_exception(failure)
        if failure is None and wrote_events:
            self.notify()

    async def settled(self) -> None:
        """Return once every change made so far is committed; StoreUnavailable if its commit failed."""
        if self._batch_open:
            # A future per waiter: cancelling one request must not cancel the others' wait.
            waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            self._batch_waiters.append(waiter)
            await waiter

    def note_events(self, wrote_events: bool) -> None:
        self._batch_wrote_events = self._batch_wrote_events or wrote_events

    def notify(self) -> None:
        for callback in self._after_commit:
            callback()

    def ping(self) -> float:
        """Run `SELECT 1` and return its latency in milliseconds."""
        started = time.perf_counter()
        self.connection.execute("SELECT 1").fetchone()
        return (time.perf_counter() - started) * 1000.0

    def close(self) -> None:
        self._commit_batch()
        self._connection.close()


class Change:
    """The context manager of one change: a SAVEPOINT in the loop turn's group, or its own transaction."""

    __slots__ = ("_batched", "_connection", "_store", "_tx")

    def __init__(self, store: Store, connection: sqlite3.Connection) -> None:
        self._store = store
        self._connection = connection
        self._batched = False
        self._tx = Transaction(connection)

    def __enter__(self) -> Transaction:
        self._batched = self._store.join_batch(self._connection)
        self._connection.execute("SAVEPOINT change" if self._batched else "BEGIN IMMEDIATE")
        return self._tx

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: object) -> None:
        connection = self._connection
        if kind is not None:
            if self._batched:
                connection.execute("ROLLBACK TO change")
                connection.execute("RELEASE change")
            else:
                connection.execute("ROLLBACK")
            return
        if self._batched:
            connection.execute("RELEASE change")
            self._store.note_events(self._tx.wrote_events)
        else:
            connection.execute("COMMIT")
            if self._tx.wrote_events:
                self._store.notify()


class Transaction:
    """The connection inside BEGIN … COMMIT, remembering whether events were written."""

    __slots__ = ("connection", "wrote_events")

    def __init__(self, connection: sqlite3.Connection) -> None:
        self.connection = connection
        self.wrote_events = False

    def execute(self, sql: str, parameters: tuple[object, ...] = ()) -> sqlite3.Cursor:
        return self.connection.execute(sql, parameters)
