"""The embedded SQLite engine: one file, WAL, group commit.

A write session is one unit of the process's group commit (see sqlite_writer.py): it
runs inside the group's BEGIN IMMEDIATE transaction, which holds SQLite's single writer
lock, so a read-check-write inside a session is atomic across threads and across worker
processes (two `If-Match` updates of one resource can never both win), and it returns
only after the group's COMMIT is on disk (`synchronous=FULL`). Read sessions run on a
connection per thread and see only committed data.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fhir_server.storage import sqlite_index
from fhir_server.storage.base import (
    STAMP_WINDOW_SECONDS,
    HistoryPage,
    HistoryQuery,
    Record,
    ResourceVersion,
    StoreFull,
    StoreUnavailable,
    VersionConflict,
    instant,
    is_disk_full,
)
from fhir_server.storage.sqlite_writer import Checkpointer, GroupWriter
from smart_auth.files import private_file

SCHEMA = """
CREATE TABLE IF NOT EXISTS resources (
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    body BLOB,
    PRIMARY KEY (type, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS history (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    type TEXT NOT NULL,
    id TEXT NOT NULL,
    version INTEGER NOT NULL,
    last_updated TEXT NOT NULL,
    deleted INTEGER NOT NULL,
    method TEXT NOT NULL,
    body BLOB,
    UNIQUE (type, id, version)
);
CREATE INDEX IF NOT EXISTS history_by_type ON history (type, seq);
CREATE TABLE IF NOT EXISTS claims (
    key TEXT PRIMARY KEY,
    owner TEXT NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stamps (
    key TEXT PRIMARY KEY,
    n INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS records (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    version INTEGER NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
"""

_COLUMNS = "type, id, version, last_updated, deleted, body, method, seq"
# Not ready below this much free disk (NOSKHE_MIN_FREE_MB) or this many pages to the size limit.
MIN_FREE_BYTES = int(os.environ.get("NOSKHE_MIN_FREE_MB", "64")) * 2**20
MIN_FREE_PAGES = 64
WAL_SIZE_LIMIT = 64 * 1024 * 1024  # bytes the WAL file is truncated to after a restart


def _reason(exc: BaseException) -> str:
    """Why a database would not open, in words for the operator."""
    text = str(exc)
    if "readonly" in text or isinstance(exc, PermissionError):
        return f"{text} (the data directory or the database file is read-only for this user)"
    if "not a database" in text or "malformed" in text:
        return f"{text} (the file is damaged or not a Noskhe database; restore it from a backup)"
    return text


def _row_to_version(row: tuple[Any, ...]) -> ResourceVersion:
    type_, id_, version, last_updated, deleted, body, method, seq = row
    return ResourceVersion(type_, id_, version, last_updated, bool(deleted), body, method, _position(seq))


def _position(seq: int) -> str:
    """History's row id as a position: one writer at a time assigns them in commit order."""
    return f"{seq:016x}" if seq else ""


def _seq(position: str) -> int:
    return int(position[:16], 16) if position else 0


class SQLiteSession:
    """All reads and writes of one unit of work, on one connection inside one transaction."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def current(self, type_: str, id_: str) -> ResourceVersion | None:
        row = self.conn.execute(
            "SELECT type, id, version, last_updated, deleted, body, 'PUT', 0 "
            "FROM resources WHERE type = ? AND id = ?",
            (type_, id_),
        ).fetchone()
        return _row_to_version(row) if row else None

    def peek(self, type_: str, id_: str) -> ResourceVersion | None:
        return self.current(type_, id_)

    def version(self, type_: str, id_: str, version: int) -> ResourceVersion | None:
        row = self.conn.execute(
            f"SELECT {_COLUMNS} FROM history WHERE type = ? AND id = ? AND version = ?",
            (type_, id_, version),
        ).fetchone()
        return _row_to_version(row) if row else None

    def put(self, rv: ResourceVersion, index: Sequence[Any], expected_version: int | None) -> ResourceVersion:
        row = self.conn.execute(
            "SELECT version FROM resources WHERE type = ? AND id = ?", (rv.type, rv.id)
        ).fetchone()
        found = row[0] if row else None
        if found != expected_version:
            raise VersionConflict(f"{rv.type}/{rv.id}: expected {expected_version}, found {found}")
        self.conn.execute(
            "INSERT OR REPLACE INTO resources (type, id, version, last_updated, deleted, body) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (rv.type, rv.id, rv.version, rv.last_updated, int(rv.deleted), rv.body),
        )
        cur = self.conn.execute(
            "INSERT INTO history (type, id, version, last_updated, deleted, method, body) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (rv.type, rv.id, rv.version, rv.last_updated, int(rv.deleted), rv.method, rv.body),
        )
        sqlite_index.replace_index(self.conn, rv.type, rv.id, index, fresh=row is None)
        position = _position(cur.lastrowid or 0)
        return ResourceVersion(
            rv.type, rv.id, rv.version, rv.last_updated, rv.deleted, rv.body, rv.method, position
        )

    def history(self, query: HistoryQuery) -> HistoryPage:
        where, args = self._history_filter(query)
        total = None
        if query.only is None:
            total = self.conn.execute(f"SELECT count(*) FROM history {where}", args).fetchone()[0]
        page_where, page_args = where, list(args)
        if query.before is not None:
            page_where += (" AND " if page_where else "WHERE ") + "seq < ?"
            page_args.append(_seq(query.before))
        rows = self.conn.execute(
            f"SELECT {_COLUMNS} FROM history {page_where} ORDER BY seq DESC LIMIT ?",
            (*page_args, query.count + 1),
        ).fetchall()
        versions = [_row_to_version(r) for r in rows[: query.count]]
        next_cursor = versions[-1].position if len(rows) > query.count else None
        return HistoryPage(versions, total, next_cursor)

    def watermark(self) -> str:
        """Everything committed: the single writer commits history rows in row-id order,
        and this connection's snapshot sees none of a group still open."""
        row = self.conn.execute("SELECT max(seq) FROM history").fetchone()
        return _position((row[0] or 0) + 1)

    @staticmethod
    def _history_filter(query: HistoryQuery) -> tuple[str, list[Any]]:
        clauses: list[str] = []
        args: list[Any] = []
        if query.type is not None:
            clauses.append("type = ?")
            args.append(query.type)
        if query.id is not None:
            clauses.append("id = ?")
            args.append(query.id)
        if query.since is not None:
            clauses.append("last_updated >= ?")
            args.append(query.since)
        if query.after is not None:
            clauses.append("seq >= ?")
            args.append(_seq(query.after))
        if query.at is not None:
            # The version current at `at`: written at or before it, and not replaced by then.
            clauses.append(
                "last_updated <= ? AND NOT EXISTS (SELECT 1 FROM history h2 WHERE "
                "h2.type = history.type AND h2.id = history.id AND h2.version > history.version "
                "AND h2.last_updated <= ?)"
            )
            args.extend([query.at, query.at])
        if query.only is not None:
            sql, only_args = sqlite_index.visible_now(query.only, query.type)
            clauses.append(sql)
            args.extend(only_args)
        return ("WHERE " + " AND ".join(clauses)) if clauses else "", args

    def search(self, plan: Any) -> Any:
        return sqlite_index.run_search(self.conn, plan)

    def read_many(self, keys: Sequence[tuple[str, str]]) -> list[ResourceVersion]:
        out: list[ResourceVersion] = []
        for start in range(0, len(keys), 400):
            chunk = keys[start : start + 400]
            cond = " OR ".join("(type = ? AND id = ?)" for _ in chunk)
            args = [v for key in chunk for v in key]
            rows = self.conn.execute(
                "SELECT type, id, version, last_updated, deleted, body, 'PUT', 0 "
                f"FROM resources WHERE deleted = 0 AND ({cond})",
                args,
            ).fetchall()
            out.extend(_row_to_version(r) for r in rows)
        return out

    def iter_current(self, type_: str | None, batch: int = 500) -> Iterator[ResourceVersion]:
        last = ("", "")
        while True:
            sql = (
                "SELECT type, id, version, last_updated, deleted, body, 'PUT', 0 FROM resources "
                "WHERE deleted = 0 AND (type, id) > (?, ?)"
            )
            args: list[Any] = [*last]
            if type_ is not None:
                sql += " AND type = ?"
                args.append(type_)
            rows = self.conn.execute(sql + " ORDER BY type, id LIMIT ?", (*args, batch)).fetchall()
            if not rows:
                return
            yield from (_row_to_version(r) for r in rows)
            last = (rows[-1][0], rows[-1][1])

    def replace_index(self, type_: str, id_: str, index: Sequence[Any]) -> None:
        sqlite_index.replace_index(self.conn, type_, id_, index)

    def claim(self, key: str, owner: str) -> str:
        cur = self.conn.execute(
            "INSERT INTO claims (key, owner) VALUES (?, ?) ON CONFLICT (key) DO NOTHING", (key, owner)
        )
        if cur.rowcount == 1:
            return owner
        return str(self.conn.execute("SELECT owner FROM claims WHERE key = ?", (key,)).fetchone()[0])

    def release(self, key: str, owner: str) -> None:
        self.conn.execute("DELETE FROM claims WHERE key = ? AND owner = ?", (key, owner))

    def stamp(self, key: str) -> int:
        row = self.conn.execute("SELECT n FROM stamps WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def bump(self, key: str) -> None:
        self.conn.execute(
            "INSERT INTO stamps (key, n) VALUES (?, 1) ON CONFLICT (key) DO UPDATE SET n = n + 1", (key,)
        )

    def record(self, kind: str, key: str) -> Record | None:
        row = self.conn.execute(
            "SELECT version, body FROM records WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return Record(kind, key, row[0], row[1]) if row else None

    def put_record(self, record: Record, expected_version: int | None) -> Record:
        found = self.record(record.kind, record.key)
        if (found.version if found else None) != expected_version:
            raise VersionConflict(f"record {record.kind}/{record.key}: expected {expected_version}")
        version = (expected_version or 0) + 1
        self.conn.execute(
            "INSERT OR REPLACE INTO records (kind, key, version, body) VALUES (?, ?, ?, ?)",
            (record.kind, record.key, version, record.body),
        )
        return Record(record.kind, record.key, version, record.body)

    def delete_record(self, kind: str, key: str) -> None:
        self.conn.execute("DELETE FROM records WHERE kind = ? AND key = ?", (kind, key))

    def record_keys(self, kind: str) -> list[str]:
        rows = self.conn.execute("SELECT key FROM records WHERE kind = ? ORDER BY key", (kind,)).fetchall()
        return [r[0] for r in rows]

    def lock(self, key: str) -> None:
        """Nothing to do: the write session holds the single writer lock."""


def _scan_pragmas(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA mmap_size=0")
    conn.execute("PRAGMA cache_size=-8192")


class SQLiteStore:
    """A Store on one SQLite file: a read connection per thread, and per process one
    group-commit writer and one background checkpointer, all opened lazily (after a fork,
    the child opens its own)."""

    def __init__(self, path: str | Path, *, checkpoints: bool = True, max_pages: int | None = None) -> None:
        """`max_pages` caps the database's size (PRAGMA max_page_count, pages of 4 KB)."""
        self.path = Path(path)
        self.checkpoints = checkpoints
        self.max_pages = max_pages
        self._local = threading.local()
        self._lock = threading.Lock()
        self._writer: GroupWriter | None = None
        self._checkpointer: Checkpointer | None = None
        self._pid = os.getpid()
        try:
            private_file(self.path)
            conn = self._connection()
            conn.executescript(SCHEMA)
            sqlite_index.create_schema(conn)
        except (OSError, sqlite3.Error, StoreUnavailable) as exc:
            raise StoreUnavailable(f"cannot open the database {self.path}: {_reason(exc)}") from exc

    def _open(self) -> sqlite3.Connection:
        try:
            conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise StoreUnavailable(str(exc)) from exc
        # FULL: a commit is on disk (the WAL fsynced) before anyone is told it is done;
        # group commit makes that one fsync per group, not per write.
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA wal_autocheckpoint=0")  # the checkpointer thread does it
        conn.execute("PRAGMA busy_timeout=30000")
        conn.execute("PRAGMA foreign_keys=OFF")
        conn.execute("PRAGMA cache_size=-65536")
        conn.execute(f"PRAGMA journal_size_limit={WAL_SIZE_LIMIT}")
        conn.execute("PRAGMA mmap_size=268435456")
        if self.max_pages is not None:
            conn.execute(f"PRAGMA max_page_count={int(self.max_pages)}")
        return conn

    def _connection(self) -> sqlite3.Connection:
        conn: sqlite3.Connection | None = getattr(self._local, "conn", None)
        if conn is None or getattr(self._local, "pid", None) != os.getpid():
            conn = self._open()
            self._local.conn, self._local.pid = conn, os.getpid()
            if getattr(self._local, "scanning", False):
                _scan_pragmas(conn)
        return conn

    def scan_reads(self) -> None:
        """This thread is about to read the whole store once (a Bulk Data export): its read
        connection maps nothing and keeps a small page cache, so the process's memory does
        not grow with the store (each connection may otherwise map 256 MB and cache 64 MB;
        a 100k-resource export peaked at 815 MB, 422 MB with this)."""
        self._local.scanning = True
        conn = getattr(self._local, "conn", None)
        if conn is not None and getattr(self._local, "pid", None) == os.getpid():
            _scan_pragmas(conn)

    def _group_writer(self) -> GroupWriter:
        with self._lock:
            if self._pid != os.getpid():  # forked: the parent's writer is not ours
                self._writer, self._checkpointer, self._pid = None, None, os.getpid()
            if self._writer is None:
                self._writer = GroupWriter(self.path, self._open)
                if self.checkpoints:
                    self._checkpointer = Checkpointer(self._open)
            return self._writer

    @contextmanager
    def session(self, write: bool = False) -> Iterator[SQLiteSession]:
        if write:
            try:
                with self._group_writer().unit() as conn:
                    yield SQLiteSession(conn)
            except (sqlite3.Error, StoreUnavailable) as exc:
                if is_disk_full(exc):
                    raise StoreFull(f"the database {self.path.name} is full: {exc}") from exc
                raise
            return
        conn = self._connection()
        conn.execute("BEGIN")
        try:
            yield SQLiteSession(conn)
        finally:
            conn.execute("ROLLBACK")  # a read transaction: nothing to keep

    def settled_instant(self) -> str:
        """A unit that reached the writer before `now` is committed once this (empty) unit
        is; one reaching it later was stamped at most the window before it."""
        with self.session(write=True):
            now = time.time()
        return instant(now - STAMP_WINDOW_SECONDS)

    def checkpoint(self) -> None:
        """One round of the background checkpointer, now (tests, tools)."""
        Checkpointer.checkpoint(self._connection())

    def ping(self) -> bool:
        try:
            self._connection().execute("SELECT 1").fetchone()
        except sqlite3.Error:
            return False
        return True

    def ready(self) -> list[str]:
        """A write commits; the disk has MIN_FREE_BYTES left; the database is not at its
        page limit (a write that fits in a page already there proves little about that)."""
        problems = []
        try:
            with self.session(write=True) as s:
                s.conn.execute(
                    "INSERT OR REPLACE INTO claims (key, owner) VALUES ('readyz', ?)", (str(os.getpid()),)
                )
        except (sqlite3.Error, StoreUnavailable, StoreFull) as exc:
            problems.append(f"the store refuses writes: {exc}")
        free = shutil.disk_usage(self.path.parent).free
        if free < MIN_FREE_BYTES:
            problems.append(f"{free // 2**20} MB left on the data directory's disk")
        conn = self._connection()
        pages, limit = (conn.execute(f"PRAGMA {p}").fetchone()[0] for p in ("page_count", "max_page_count"))
        if limit - pages < MIN_FREE_PAGES:
            problems.append(f"the database is at its size limit ({pages} of {limit} pages)")
        return problems

    def close(self) -> None:
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None
        with self._lock:
            if self._checkpointer is not None and self._pid == os.getpid():
                self._checkpointer.stop.set()
            if self._writer is not None and self._pid == os.getpid():
                self._writer.close()
            self._writer = self._checkpointer = None
