"""The SQLite store: file layout and pragmas, transactions, commit callbacks, the outage switch."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from phase2_reference.store.sqlite import Store, StoreUnavailable


def test_a_file_store_uses_wal_and_normal_sync(tmp_path: Path) -> None:
    store = Store(tmp_path)
    assert (tmp_path / "phase2.sqlite3").exists()
    assert store.connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.connection.execute("PRAGMA synchronous").fetchone()[0] == 1
    store.close()


def test_memory_store_and_ping() -> None:
    store = Store(None)
    assert store.path == ":memory:"
    assert store.ping() >= 0


def test_a_failed_transaction_leaves_nothing_and_skips_callbacks() -> None:
    store = Store(None)
    calls: list[int] = []
    store.on_commit(lambda: calls.append(1))

    def failing_change() -> None:
        with store.transaction() as tx:
            tx.execute("INSERT INTO events (tenant, type, subject, time, data) VALUES ('t', 'x', 's', 'now', '{}')")
            tx.wrote_events = True
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        failing_change()
    assert store.connection.execute("SELECT COUNT(*) FROM events").fetchone()[0] == 0
    assert calls == []
    with store.transaction() as tx:
        tx.execute("INSERT INTO events (tenant, type, subject, time, data) VALUES ('t', 'x', 's', 'now', '{}')")
        tx.wrote_events = True
    assert calls == [1]
    with store.transaction() as tx:
        tx.execute("SELECT 1")
    assert calls == [1], "a transaction without events notifies nobody"


def test_the_outage_switch() -> None:
    store = Store(None)
    store.available = False
    with pytest.raises(StoreUnavailable):
        store.ping()
    with pytest.raises(StoreUnavailable), store.transaction():
        pass
    store.available = True
    assert store.ping() >= 0


def test_data_survives_reopening(tmp_path: Path) -> None:
    store = Store(tmp_path)
    with store.transaction() as tx:
        tx.execute("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ('j', 1)")
    store.close()
    reopened = Store(tmp_path)
    assert reopened.connection.execute("SELECT jti FROM revoked_access_tokens").fetchall() == [("j",)]


def test_changes_on_the_event_loop_share_one_commit_and_fail_alone() -> None:
    store = Store(None)
    notified: list[int] = []
    store.on_commit(lambda: notified.append(1))
    insert = "INSERT INTO events (tenant, type, subject, time, data) VALUES ('t', ?, 's', 'now', '{}')"

    def change(kind: str, fail: bool = False) -> None:
        with store.transaction() as tx:
            tx.execute(insert, (kind,))
            tx.wrote_events = True
            if fail:
                raise RuntimeError("this change fails")

    async def main() -> None:
        change("first")
        with pytest.raises(RuntimeError):
            change("failing", fail=True)
        change("second")
        assert notified == [], "nothing is announced before the commit"
        await store.settled()
        assert notified == [1], "one commit for the whole group"
        await store.settled()  # nothing pending: returns at once

    asyncio.run(main())
    kinds = [row[0] for row in store.connection.execute("SELECT type FROM events ORDER BY seq")]
    assert kinds == ["first", "second"]


def test_a_failed_group_commit_reaches_every_waiter(tmp_path: Path) -> None:
    store = Store(tmp_path)

    async def main() -> None:
        with store.transaction() as tx:
            tx.execute("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ('j', 1)")
        store._connection.close()  # the commit scheduled above can no longer succeed
        with pytest.raises(StoreUnavailable):
            await store.settled()

    asyncio.run(main())


def test_a_cancelled_waiter_leaves_the_others_waiting_for_the_commit() -> None:
    store = Store(None)

    async def change_then_wait() -> None:
        with store.transaction() as tx:  # opens the group; its commit is queued behind the tasks below
            tx.execute("INSERT INTO revoked_access_tokens (jti, expires_at) VALUES ('a', 1)")
        await store.settled()

    async def main() -> None:
        impatient = asyncio.ensure_future(change_then_wait())
        patient = asyncio.ensure_future(store.settled())
        canceller = asyncio.get_running_loop().call_soon(impatient.cancel)
        assert canceller is not None
        await asyncio.gather(impatient, patient, return_exceptions=True)
        assert impatient.cancelled()
        assert patient.result() is None

    asyncio.run(main())
    assert store.connection.execute("SELECT jti FROM revoked_access_tokens").fetchall() == [("a",)]
