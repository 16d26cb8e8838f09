"""The SQLite engine: versions, history, atomic sessions, optimistic concurrency."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from fhir_server.storage.base import HistoryQuery, ResourceVersion, VersionConflict
from fhir_server.storage.sqlite import SQLiteStore


def version(
    id_: str, n: int, *, deleted: bool = False, at: str = "2026-01-01T00:00:00.000Z"
) -> ResourceVersion:
    body = None if deleted else f'{{"resourceType":"Patient","id":"{id_}"}}'.encode()
    return ResourceVersion("Patient", id_, n, at, deleted, body, "DELETE" if deleted else "PUT")


def test_put_and_read_versions(store: SQLiteStore) -> None:
    with store.session(write=True) as s:
        s.put(version("a", 1), [], None)
        s.put(version("a", 2), [], 1)
    with store.session() as s:
        current = s.current("Patient", "a")
        assert current is not None and current.version == 2
        first = s.version("Patient", "a", 1)
        assert first is not None and first.body is not None and first.version == 1
        assert s.version("Patient", "a", 3) is None


def test_put_with_stale_expected_version_conflicts(store: SQLiteStore) -> None:
    with store.session(write=True) as s:
        s.put(version("a", 1), [], None)
    with pytest.raises(VersionConflict), store.session(write=True) as s:
        s.put(version("a", 2), [], None)


def test_failed_session_rolls_back_everything(store: SQLiteStore) -> None:
    with pytest.raises(RuntimeError), store.session(write=True) as s:
        s.put(version("a", 1), [], None)
        s.put(version("b", 1), [], None)
        raise RuntimeError("boom")
    with store.session() as s:
        assert s.current("Patient", "a") is None
        assert s.history(HistoryQuery()).total == 0


def test_history_newest_first_with_stable_cursor(store: SQLiteStore) -> None:
    with store.session(write=True) as s:
        for n in range(1, 6):
            s.put(version("a", n), [], n - 1 if n > 1 else None)
    with store.session() as s:
        page1 = s.history(HistoryQuery(type="Patient", id="a", count=2))
    assert [v.version for v in page1.versions] == [5, 4] and page1.total == 5
    with store.session(write=True) as s:  # a write between pages must not shift page 2
        s.put(version("a", 6), [], 5)
    with store.session() as s:
        page2 = s.history(HistoryQuery(type="Patient", id="a", count=2, before_seq=page1.next_cursor))
    assert [v.version for v in page2.versions] == [3, 2]


def test_history_since_and_at(store: SQLiteStore) -> None:
    with store.session(write=True) as s:
        s.put(version("a", 1, at="2026-01-01T00:00:00.000Z"), [], None)
        s.put(version("a", 2, at="2026-02-01T00:00:00.000Z"), [], 1)
        s.put(version("a", 3, at="2026-03-01T00:00:00.000Z"), [], 2)
    with store.session() as s:
        since = s.history(HistoryQuery(since="2026-02-01T00:00:00.000Z"))
        at = s.history(HistoryQuery(at="2026-02-15T00:00:00.000Z"))
    assert [v.version for v in since.versions] == [3, 2]
    assert [v.version for v in at.versions] == [2]


def test_writers_in_two_connections_serialise(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite3"
    SQLiteStore(path).close()
    results: list[str] = []
    barrier = threading.Barrier(8)

    def writer() -> None:
        store = SQLiteStore(path)  # its own connection, as another worker process would have
        barrier.wait()
        try:
            with store.session(write=True) as s:
                current = s.current("Patient", "x")
                expected = current.version if current else None
                s.put(version("x", (expected or 0) + 1), [], expected)
            results.append("ok")
        except VersionConflict:
            results.append("conflict")
        store.close()

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # Each read-check-write is atomic, so every writer succeeds in turn with its own version.
    assert results.count("ok") == 8
    with SQLiteStore(path).session() as s:
        current = s.current("Patient", "x")
        assert current is not None and current.version == 8


def test_read_many_and_iter_current_skip_deleted(store: SQLiteStore) -> None:
    with store.session(write=True) as s:
        for i in range(5):
            s.put(version(f"p{i}", 1), [], None)
        s.put(version("p0", 2, deleted=True), [], 1)
    with store.session() as s:
        got = {v.id for v in s.read_many([("Patient", f"p{i}") for i in range(5)])}
        assert got == {"p1", "p2", "p3", "p4"}
        assert [v.id for v in s.iter_current("Patient", batch=2)] == ["p1", "p2", "p3", "p4"]


def test_wal_is_restarted_when_long(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from fhir_server.storage import sqlite as engine

    monkeypatch.setattr(engine, "CHECKPOINT_EVERY", 1)
    monkeypatch.setattr(engine, "RESTART_PAGES", 0)
    store = SQLiteStore(tmp_path / "wal.sqlite3")
    reader = SQLiteStore(tmp_path / "wal.sqlite3")  # another worker's connection, idle between reads
    for n in range(50):
        with store.session(write=True) as s:
            s.put(version(f"w{n}", 1), [], None)
        with reader.session() as r:
            assert r.current("Patient", f"w{n}") is not None
    # Each commit restarted the log, so it holds about one transaction, not fifty.
    busy, log_pages, _ = store._connection().execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    assert busy == 0 and log_pages < 20
    store.close()
    reader.close()
