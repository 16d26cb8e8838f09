"""Storage engines behind one protocol (see base.py)."""

from __future__ import annotations

from pathlib import Path

from fhir_server.storage.base import Store


def open_store(data_dir: str | Path, url: str | None = None) -> Store:
    """The SQLite store in `data_dir`, or the engine named by `url`."""
    if url and url.startswith("mongodb"):
        raise ValueError("the MongoDB store is not available yet")
    from fhir_server.storage.sqlite import SQLiteStore

    return SQLiteStore(Path(data_dir) / "noskhe.sqlite3")
