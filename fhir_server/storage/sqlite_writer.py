"""Group commit for the SQLite store: one writer connection per process, units committed
together, and checkpoints in the background.

A write unit (one `store.session(write=True)` block: a create, a transaction bundle, a
workflow step) runs on the process's writer connection inside a SAVEPOINT of the open
group transaction. When a unit ends and other units of this process are already waiting
for the connection, it leaves the transaction open for them; the last unit of the group
(or one that finds the group full or old) COMMITs, which is one fsync for all of them
(`synchronous=FULL`). Every unit waits for that COMMIT before its block returns, so a
client is told "done" only once its write is on disk; a unit that fails is rolled back
to its savepoint alone and the others commit. If the commit itself fails, every unit of
the group gets the error (none was acknowledged).

Processes take turns through a lock file (flock) before SQLite's own write lock, so a
waiting worker sleeps in the kernel and wakes as soon as the other commits, instead of
polling in SQLite's busy handler (which backs off up to 100 ms and starves).

Request connections never checkpoint (`wal_autocheckpoint=0`): a background thread of
each process runs PASSIVE checkpoints, and a TRUNCATE when the WAL passes a bound.
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from fhir_server.storage.base import StoreUnavailable

MAX_GROUP_UNITS = 64  # a group this large commits even if more units wait
MAX_GROUP_SECONDS = 0.05  # ... and so does one open this long
CHECKPOINT_SECONDS = 1.0  # how often the checkpointer looks at the WAL
TRUNCATE_PAGES = 16_384  # a WAL longer than this (64 MB) is checkpointed and truncated


class GroupFailed(StoreUnavailable):
    """The group a unit was part of could not be committed: the unit's write is lost."""


class _Group:
    def __init__(self) -> None:
        self.started = time.monotonic()
        self.units = 0
        self.done = threading.Event()
        self.error: BaseException | None = None


class GroupWriter:
    """The writer connection of one process and the group transaction open on it."""

    def __init__(self, path: Path, connect: Callable[[], sqlite3.Connection]) -> None:
        self.conn = connect()
        self.lock_path = path.with_name(path.name + "-writer.lock")
        self.lock_fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        self.turn = threading.Lock()  # one unit at a time on the connection
        self.state = threading.Lock()  # guards `waiting`
        self.waiting = 0
        self.owner: int | None = None  # the thread running a unit now
        self.group: _Group | None = None
        self.pause_before_commit = float(os.environ.get("NOSKHE_TEST_COMMIT_PAUSE", "0") or 0)

    @contextmanager
    def unit(self) -> Iterator[sqlite3.Connection]:
        """Run the caller's block as one all-or-nothing unit of the next group commit."""
        if self.owner == threading.get_ident():
            raise RuntimeError("a write session is already open on this thread")
        with self.state:
            self.waiting += 1
        self.turn.acquire()
        with self.state:
            self.waiting -= 1
        self.owner = threading.get_ident()
        try:
            group = self._join()
        except BaseException:
            self.owner = None
            self.turn.release()
            raise
        failed: BaseException | None = None
        try:
            self.conn.execute("SAVEPOINT unit")
            try:
                yield self.conn
            except BaseException:
                self._undo_unit(group)
                raise
            self.conn.execute("RELEASE unit")
        except BaseException as exc:
            failed = exc
        group.units += 1
        self._finish(group)
        if failed is not None:
            raise failed
        group.done.wait()
        if group.error is not None:
            raise GroupFailed(f"the write was not committed: {group.error}") from group.error

    def _join(self) -> _Group:
        if self.group is None:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX)  # this process's turn among the workers
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
                raise
            self.group = _Group()
        return self.group

    def _undo_unit(self, group: _Group) -> None:
        try:
            self.conn.execute("ROLLBACK TO unit")
            self.conn.execute("RELEASE unit")
        except sqlite3.Error as exc:
            group.error = exc
        if not self.conn.in_transaction and group.error is None:
            # SQLite rolled the whole transaction back (a full disk, an I/O error): the
            # earlier units of the group are gone with it.
            group.error = StoreUnavailable("the store rolled the transaction back")

    def _finish(self, group: _Group) -> None:
        """Commit now if nobody else of this process waits (or the group is full or old);
        else hand the connection to the next unit, which joins this group."""
        with self.state:
            others = self.waiting
        full = group.units >= MAX_GROUP_UNITS or time.monotonic() - group.started > MAX_GROUP_SECONDS
        if others and not full and group.error is None:
            self.owner = None
            self.turn.release()
            return
        try:
            self._commit(group)
        finally:
            self.group = None
            self.owner = None
            fcntl.flock(self.lock_fd, fcntl.LOCK_UN)
            group.done.set()
            self.turn.release()

    def _commit(self, group: _Group) -> None:
        if group.error is not None:
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            return
        if self.pause_before_commit:  # tests: a window in which a group is applied, not committed
            Path(str(self.lock_path) + ".pausing").touch()
            time.sleep(self.pause_before_commit)
        try:
            self.conn.execute("COMMIT")
        except sqlite3.Error as exc:
            group.error = exc
            if self.conn.in_transaction:
                self.conn.execute("ROLLBACK")
            return

    def close(self) -> None:
        self.conn.close()
        os.close(self.lock_fd)


class Checkpointer:
    """A daemon thread that keeps the WAL short without making a request wait for it.

    PASSIVE checkpoints copy what they can while readers and writers go on; when the log
    is longer than TRUNCATE_PAGES anyway (readers kept it from restarting), a TRUNCATE
    waits (busy_timeout) for a moment without readers behind it and empties the file."""

    def __init__(self, connect: Callable[[], sqlite3.Connection]) -> None:
        self.connect = connect
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="noskhe-checkpointer", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        conn = self.connect()
        try:
            while not self.stop.wait(CHECKPOINT_SECONDS):
                self.checkpoint(conn)
        finally:
            conn.close()

    @staticmethod
    def checkpoint(conn: sqlite3.Connection) -> None:
        try:
            _, log_pages, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if log_pages > TRUNCATE_PAGES:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except sqlite3.Error:
            pass  # busy or closing: the next round tries again
