"""What only the SQLite engine does (the store behaviours shared with MongoDB are in
tests/storage/conformance/)."""

from __future__ import annotations

from pathlib import Path

import pytest

from fhir_server.storage.base import ResourceVersion
from fhir_server.storage.sqlite import SQLiteStore


def version(
    id_: str, n: int, *, deleted: bool = False, at: str = "2026-01-01T00:00:00.000Z"
) -> ResourceVersion:
    body = None if deleted else f'{{"resourceType":"Patient","id":"{id_}"}}'.encode()
    return ResourceVersion("Patient", id_, n, at, deleted, body, "DELETE" if deleted else "PUT")


def test_checkpointer_truncates_a_long_wal_while_requests_never_checkpoint(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from fhir_server.storage import sqlite_writer

    monkeypatch.setattr(sqlite_writer, "TRUNCATE_PAGES", 10)
    store = SQLiteStore(tmp_path / "wal.sqlite3", checkpoints=False)
    reader = SQLiteStore(tmp_path / "wal.sqlite3", checkpoints=False)  # another worker, idle between reads
    wal = tmp_path / "wal.sqlite3-wal"
    sizes = []
    for n in range(50):
        with store.session(write=True) as s:
            s.put(version(f"w{n}", 1), [], None)
        with reader.session() as r:
            assert r.current("Patient", f"w{n}") is not None
        sizes.append(wal.stat().st_size)
    # Request connections never checkpoint: the log only grew.
    assert sizes == sorted(sizes) and sizes[-1] > sizes[0]
    store.checkpoint()  # one round of the background checkpointer: PASSIVE, then TRUNCATE
    assert wal.stat().st_size == 0
    with reader.session() as r:
        assert all(r.current("Patient", f"w{n}") is not None for n in range(50))
    store.close()
    reader.close()


def test_units_of_one_group_commit_together_and_a_failing_unit_alone_is_undone(tmp_path: Path) -> None:
    """Threads writing at once share commits; a unit that raises is rolled back to its
    savepoint while the others of its group are kept."""
    import threading

    store = SQLiteStore(tmp_path / "group.sqlite3", checkpoints=False)
    start = threading.Barrier(8)
    errors: list[BaseException] = []

    def write(n: int) -> None:
        start.wait()
        for k in range(20):
            try:
                with store.session(write=True) as s:
                    s.put(version(f"g{n}-{k}", 1), [], None)
                    if k % 5 == 4:
                        raise ValueError("refused")
            except ValueError:
                pass
            except BaseException as exc:  # pragma: no cover - reported below
                errors.append(exc)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.session() as s:
        for n in range(8):
            for k in range(20):
                assert (s.current("Patient", f"g{n}-{k}") is None) == (k % 5 == 4)
    store.close()


def test_a_nested_write_session_is_refused_not_deadlocked(tmp_path: Path) -> None:
    store = SQLiteStore(tmp_path / "nested.sqlite3", checkpoints=False)
    with store.session(write=True) as s:
        s.put(version("outer", 1), [], None)
        with pytest.raises(RuntimeError), store.session(write=True):
            pass
    with store.session() as s:
        assert s.current("Patient", "outer") is not None
    store.close()


def test_a_scanning_thread_maps_nothing_and_caches_little(tmp_path: Path) -> None:
    """scan_reads (the Bulk export's thread): that thread's read connection has no mmap and
    an 8 MB page cache; other threads keep theirs."""
    import threading

    store = SQLiteStore(tmp_path / "s.sqlite3")
    seen: dict[str, tuple[int, int]] = {}

    def pragmas(name: str, scan: bool) -> None:
        if scan:
            store.scan_reads()
        with store.session() as s:
            mmap = s.conn.execute("PRAGMA mmap_size").fetchone()[0]
            cache = s.conn.execute("PRAGMA cache_size").fetchone()[0]
        seen[name] = (mmap, cache)

    for name, scan in (("export", True), ("request", False)):
        thread = threading.Thread(target=pragmas, args=(name, scan))
        thread.start()
        thread.join()
    pragmas("main, connection opened before", True)
    assert seen["export"] == (0, -8192)
    assert seen["request"] == (268435456, -65536)
    assert seen["main, connection opened before"] == (0, -8192)
    store.close()
