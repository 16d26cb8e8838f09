"""Auth store: the protocol and its engines."""

from __future__ import annotations

from pathlib import Path

from smart_auth.store.base import AuthStore, Record
from smart_auth.store.sqlite import SQLiteAuthStore

__all__ = ["AuthStore", "Record", "SQLiteAuthStore", "open_auth_store"]


def open_auth_store(data_dir: Path, store_url: str | None = None) -> AuthStore:
    """The auth store for a data directory (SQLite `DIR/auth.sqlite3`).

    A MongoDB engine would be chosen here from `store_url`; until it exists, the auth state
    stays in SQLite even when resources live in MongoDB.
    """
    return SQLiteAuthStore(Path(data_dir) / "auth.sqlite3")
