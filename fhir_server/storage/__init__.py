"""Storage engines behind one protocol (see base.py)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

from fhir_server.storage.base import Store, StoreUnavailable


def open_store(data_dir: str | Path, url: str | None = None) -> Store:
    """The SQLite store in `data_dir`, or the engine named by `url`.

    A store that cannot be opened (unreachable, a data directory that cannot be created or
    written, a damaged database) stops the program with one line on stderr and exit
    status 3: the app reads the store at start-up (`fhir-server serve` opens it before
    it starts workers)."""
    if url and url.startswith("mongodb"):
        try:
            from fhir_server.storage.mongo import MongoStore
        except ImportError as exc:  # pymongo is an optional extra
            raise ValueError("the MongoDB store needs pymongo: pip install 'noskhe[mongo]'") from exc
        store = MongoStore(url)
        if store.startup_error is not None:
            store.close()
            _stop(store.startup_error)
        return store
    from fhir_server.storage.sqlite import SQLiteStore

    try:
        return SQLiteStore(Path(data_dir) / "noskhe.sqlite3")
    except StoreUnavailable as exc:
        _stop(str(exc))


def _stop(reason: str) -> NoReturn:
    print(f"fhir-server: {reason}", file=sys.stderr)
    raise SystemExit(3)
