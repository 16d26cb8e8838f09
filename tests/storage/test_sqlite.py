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
