"""Storage engines behind one protocol (see base.py)."""

from __future__ import annotations

from pathlib import Path

from fhir_server.storage.base import Store


def open_store(data_dir: str | Path, url: str | None = None) -> Store:
    """The SQLite store in `data_dir`, or the engine named by `url`."""
    if url and url.startswith("mongodb"):
        import sys

        try:
            from fhir_server.storage.mongo import MongoStore
        except ImportError as exc:  # pymongo is an optional extra
            raise ValueError("the MongoDB store needs pymongo: pip install 'noskhe[mongo]'") from exc
        store = MongoStore(url)
        if store.startup_error is not None:
            # The app reads the store at start-up: say why in one line and stop (exit
            # status 3; `fhir-server serve` opens the store before it starts workers).
            print(f"fhir-server: {store.startup_error}", file=sys.stderr)
            store.close()
            raise SystemExit(3)
        return store
    from fhir_server.storage.sqlite import SQLiteStore

    return SQLiteStore(Path(data_dir) / "noskhe.sqlite3")
