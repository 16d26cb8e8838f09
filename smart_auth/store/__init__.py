"""Auth store: the protocol and its engines."""

from __future__ import annotations

from pathlib import Path

from smart_auth.store.base import AuthStore, Record
from smart_auth.store.sqlite import SQLiteAuthStore

__all__ = ["AuthStore", "Record", "SQLiteAuthStore", "open_auth_store"]


def open_auth_store(data_dir: Path, store_url: str | None = None) -> AuthStore:
    """The auth store next to the resources: MongoDB when `store_url` names one (the same
    database, shared by every machine), else SQLite `DIR/auth.sqlite3`."""
    if store_url and store_url.startswith(("mongodb://", "mongodb+srv://")):
        from smart_auth.store.mongo import MongoAuthStore  # pymongo: the `mongo` extra

        return MongoAuthStore(store_url)
    return SQLiteAuthStore(Path(data_dir) / "auth.sqlite3")
