"""SQLite engine of the auth store: its own file (DIR/auth.sqlite3), WAL, short transactions.

One connection per thread and process (gunicorn forks; threads may serve requests), each
statement its own transaction, so many workers share one file safely. The signing keys
stay in their own private file next to it (DIR/smart-signing-keys.json), replaced whole
under a lock, its revision the file's identity and modification time.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from smart_auth.files import private_file
from smart_auth.store.base import Record

SCHEMA = """
CREATE TABLE IF NOT EXISTS clients (client_id TEXT PRIMARY KEY, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS users (
    user_id TEXT PRIMARY KEY, username TEXT NOT NULL UNIQUE, doc TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tokens (
    token_id TEXT PRIMARY KEY,
    access_hash TEXT NOT NULL UNIQUE,
    refresh_hash TEXT UNIQUE,
    family TEXT NOT NULL,
    grant_id TEXT,
    revoked INTEGER NOT NULL DEFAULT 0,
    refresh_used INTEGER NOT NULL DEFAULT 0,
    refresh_revoked INTEGER NOT NULL DEFAULT 0,
    expires_at REAL NOT NULL,
    refresh_expires_at REAL,
    doc TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS tokens_family ON tokens (family);
CREATE INDEX IF NOT EXISTS tokens_grant ON tokens (grant_id);
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL, key TEXT NOT NULL, doc TEXT NOT NULL, expires_at REAL NOT NULL,
    PRIMARY KEY (kind, key));
CREATE TABLE IF NOT EXISTS counters (
    key TEXT PRIMARY KEY, count INTEGER NOT NULL, window_end REAL NOT NULL);
"""

TOKEN_COLUMNS = (
    "token_id",
    "access_hash",
    "refresh_hash",
    "family",
    "grant_id",
    "expires_at",
    "refresh_expires_at",
)


KEY_FILE = "smart-signing-keys.json"


class SQLiteAuthStore:
    def __init__(self, path: Path) -> None:
        self.path = private_file(Path(path))  # the data directory 0700, the database 0600
        self.key_file = self.path.parent / KEY_FILE
        self._local = threading.local()
        with self._conn() as conn:
            conn.executescript(SCHEMA)

    def _conn(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = sqlite3.connect(self.path, timeout=10, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=10000")
            self._local.conn, self._local.pid = conn, os.getpid()
        return conn

    def _one(self, sql: str, *args: Any) -> Any:
        row = self._conn().execute(sql, args).fetchone()
        return None if row is None else row[0]

    def _doc(self, sql: str, *args: Any) -> Record | None:
        text = self._one(sql, *args)
        return None if text is None else dict(json.loads(text))

    # clients and users
    def put_client(self, client: Record) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO clients (client_id, doc) VALUES (?, ?)",
            (client["client_id"], json.dumps(client)),
        )

    def get_client(self, client_id: str) -> Record | None:
        return self._doc("SELECT doc FROM clients WHERE client_id = ?", client_id)

    def list_clients(self) -> list[Record]:
        rows = self._conn().execute("SELECT doc FROM clients ORDER BY client_id").fetchall()
        return [json.loads(r[0]) for r in rows]

    def put_user(self, user: Record) -> None:
        try:
            self._conn().execute(
                "INSERT INTO users (user_id, username, doc) VALUES (?, ?, ?) ON CONFLICT (user_id) "
                "DO UPDATE SET username = excluded.username, doc = excluded.doc",
                (user["user_id"], user["username"], json.dumps(user)),
            )
        except sqlite3.IntegrityError:
            raise ValueError(f"username already taken: {user['username']}") from None

    def get_user(self, user_id: str) -> Record | None:
        return self._doc("SELECT doc FROM users WHERE user_id = ?", user_id)

    def find_user(self, username: str) -> Record | None:
        return self._doc("SELECT doc FROM users WHERE username = ?", username)

    # tokens
    def put_token(self, token: Record) -> None:
        values = [token.get(c) for c in TOKEN_COLUMNS]
        self._conn().execute(
            f"INSERT INTO tokens ({', '.join(TOKEN_COLUMNS)}, doc) VALUES ({', '.join('?' * 8)})",
            (*values, json.dumps(token)),
        )

    def _token(self, where: str, value: str) -> Record | None:
        row = (
            self._conn()
            .execute(
                "SELECT doc, revoked, refresh_used, refresh_revoked, expires_at, refresh_expires_at "
                f"FROM tokens WHERE {where} = ?",
                (value,),
            )
            .fetchone()
        )
        if row is None:
            return None
        doc = dict(json.loads(row[0]))  # the columns are authoritative for what changes
        doc["revoked"], doc["refresh_used"], doc["refresh_revoked"] = bool(row[1]), bool(row[2]), bool(row[3])
        doc["expires_at"], doc["refresh_expires_at"] = row[4], row[5]
        return doc

    def token_by_access(self, access_hash: str) -> Record | None:
        return self._token("access_hash", access_hash)

    def token_by_refresh(self, refresh_hash: str) -> Record | None:
        return self._token("refresh_hash", refresh_hash)

    def consume_refresh(self, token_id: str) -> bool:
        cur = self._conn().execute(
            "UPDATE tokens SET refresh_used = 1 "
            "WHERE token_id = ? AND refresh_used = 0 AND refresh_revoked = 0",
            (token_id,),
        )
        return cur.rowcount == 1

    def revoke_token(self, token_id: str) -> None:
        self._conn().execute("UPDATE tokens SET revoked = 1 WHERE token_id = ?", (token_id,))

    def revoke_family(self, family: str) -> int:
        return (
            self._conn()
            .execute("UPDATE tokens SET revoked = 1, refresh_revoked = 1 WHERE family = ?", (family,))
            .rowcount
        )

    def revoke_grant(self, grant_id: str) -> int:
        conn = self._conn()
        families = [r[0] for r in conn.execute("SELECT family FROM tokens WHERE grant_id = ?", (grant_id,))]
        return sum(self.revoke_family(f) for f in set(families))

    # short-lived records
    def put_record(self, kind: str, key: str, value: Record, expires_at: float) -> None:
        self._conn().execute(
            "INSERT OR REPLACE INTO records (kind, key, doc, expires_at) VALUES (?, ?, ?, ?)",
            (kind, key, json.dumps(value), expires_at),
        )

    def get_record(self, kind: str, key: str) -> Record | None:
        return self._doc(
            "SELECT doc FROM records WHERE kind = ? AND key = ? AND expires_at > ?", kind, key, time.time()
        )

    def take_record(self, kind: str, key: str) -> Record | None:
        row = (
            self._conn()
            .execute("DELETE FROM records WHERE kind = ? AND key = ? RETURNING doc, expires_at", (kind, key))
            .fetchone()
        )
        if row is None or row[1] <= time.time():
            return None
        return dict(json.loads(row[0]))

    def delete_record(self, kind: str, key: str) -> None:
        self._conn().execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))

    def add_once(self, kind: str, key: str, expires_at: float) -> bool:
        conn = self._conn()
        conn.execute(
            "DELETE FROM records WHERE kind = ? AND key = ? AND expires_at <= ?", (kind, key, time.time())
        )
        cur = conn.execute(
            "INSERT OR IGNORE INTO records (kind, key, doc, expires_at) VALUES (?, ?, '{}', ?)",
            (kind, key, expires_at),
        )
        return cur.rowcount == 1

    # counters
    def hit(self, key: str, window_seconds: float) -> int:
        now = time.time()
        count = self._one(
            "INSERT INTO counters (key, count, window_end) VALUES (?, 1, ?) ON CONFLICT (key) DO UPDATE SET "
            "count = CASE WHEN window_end <= ? THEN 1 ELSE count + 1 END, "
            "window_end = CASE WHEN window_end <= ? THEN excluded.window_end ELSE window_end END "
            "RETURNING count",
            key,
            now + window_seconds,
            now,
            now,
        )
        return int(count)

    def reset_counter(self, key: str) -> None:
        self._conn().execute("DELETE FROM counters WHERE key = ?", (key,))

    # signing keys
    def signing_keys(self) -> tuple[Record | None, str]:
        try:
            with open(self.key_file) as fh:
                stat = os.fstat(fh.fileno())
                return dict(json.load(fh)), f"{stat.st_ino}:{stat.st_mtime_ns}"
        except FileNotFoundError:
            return None, ""

    def signing_keys_revision(self) -> str:
        try:
            stat = self.key_file.stat()
        except FileNotFoundError:
            return ""
        return f"{stat.st_ino}:{stat.st_mtime_ns}"

    def save_signing_keys(self, doc: Record, revision: str) -> bool:
        """Compare-and-set under a lock file: False when the keys changed since `revision`."""
        lock = self.key_file.with_name(f".{KEY_FILE}.lock")
        with os.fdopen(os.open(lock, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600), "a") as held:
            fcntl.flock(held, fcntl.LOCK_EX)
            if self.signing_keys_revision() != revision:
                return False
            fd, tmp = tempfile.mkstemp(dir=self.key_file.parent, prefix=".keys-")
            with os.fdopen(fd, "w") as fh:
                json.dump(doc, fh)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.key_file)
        return True

    def purge_expired(self) -> None:
        now = time.time()
        conn = self._conn()
        conn.execute("DELETE FROM records WHERE expires_at <= ?", (now,))
        conn.execute("DELETE FROM counters WHERE window_end <= ?", (now,))
        conn.execute(
            "DELETE FROM tokens WHERE expires_at <= ? AND COALESCE(refresh_expires_at, 0) <= ?", (now, now)
        )

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
