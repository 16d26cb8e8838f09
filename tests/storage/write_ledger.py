"""Which MongoDB documents write units write, seen on the wire (a pymongo command
listener): the contention test lists them per kind of unit, and bench/mongo_bench.py
tells a conflict between units that wrote a common document (the server's design) from
one the storage engine made up on its own (the test server's multikey index entries).

Every insert, update, delete and findAndModify is recorded as `collection/_id`, with the
transaction attempt it ran in (logical session id and transaction number) and when.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from pymongo import monitoring

WRITES = {"insert": "documents", "update": "updates", "delete": "deletes", "findAndModify": ""}
AttemptKey = tuple[Any, ...]


@dataclass
class Attempt:
    """One transaction attempt (or one write outside any transaction)."""

    session: Any
    docs: set[str] = field(default_factory=set)
    started: float = 0.0
    ended: float = 0.0
    conflicted: bool = False  # failed with a transient transaction error


def written_ids(name: str, command: dict[str, Any]) -> list[str]:
    coll = str(command[name])
    if name == "insert":
        return [f"{coll}/{d.get('_id')}" for d in command["documents"]]
    if name == "findAndModify":
        return [f"{coll}/{command.get('query', {}).get('_id', '*')}"]
    return [f"{coll}/{op.get('q', {}).get('_id', '*')}" for op in command[WRITES[name]]]


class WriteLedger(monitoring.CommandListener):
    _registered: WriteLedger | None = None

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.active = False
        self.attempts: dict[AttemptKey, Attempt] = {}
        self._requests: dict[int, AttemptKey] = {}
        self._units: list[set[str]] = []

    @classmethod
    @contextmanager
    def listening(cls) -> Iterator[WriteLedger]:
        """Record the writes of every MongoClient made from now on (pymongo keeps
        listeners for good: one is registered per process, switched on and off)."""
        if cls._registered is None:
            cls._registered = WriteLedger()
            monitoring.register(cls._registered)
        ledger = cls._registered
        with ledger.lock:
            ledger.attempts.clear()
            ledger._requests.clear()
            ledger.active = True
        try:
            yield ledger
        finally:
            ledger.active = False

    @contextmanager
    def unit(self) -> Iterator[set[str]]:
        """The documents written while the block runs (for one unit at a time)."""
        written: set[str] = set()
        with self.lock:
            self._units.append(written)
        try:
            yield written
        finally:
            with self.lock:
                self._units.remove(written)

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if not self.active:
            return
        command, now = event.command, time.monotonic()
        lsid = command.get("lsid", {}).get("id")
        txn = command.get("txnNumber")
        key: AttemptKey = (lsid, txn) if txn is not None else ("single", event.request_id)
        with self.lock:
            attempt = self.attempts.setdefault(key, Attempt(lsid, started=now))
            attempt.ended = now
            self._requests[event.request_id] = key
            if event.command_name in WRITES:
                docs = written_ids(event.command_name, command)
                attempt.docs.update(docs)
                for unit in self._units:
                    unit.update(docs)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        self._finished(event.request_id, False)

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        failure = event.failure or {}
        self._finished(event.request_id, "TransientTransactionError" in failure.get("errorLabels", []))

    def _finished(self, request_id: int, conflicted: bool) -> None:
        if not self.active:
            return
        with self.lock:
            key = self._requests.pop(request_id, None)
            if key is not None:
                self.attempts[key].ended = time.monotonic()
                self.attempts[key].conflicted |= conflicted

    def conflicts(self) -> tuple[int, int]:
        """(conflicts with a concurrent attempt of another session over a common document,
        conflicts without one: made up by the storage engine)."""
        with self.lock:
            attempts = list(self.attempts.values())
        shared = other = 0
        for a in (x for x in attempts if x.conflicted):
            if any(
                b.session != a.session and b.started <= a.ended and a.started <= b.ended and a.docs & b.docs
                for b in attempts
            ):
                shared += 1
            else:
                other += 1
        return shared, other
