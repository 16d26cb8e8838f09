"""The shipped conformance resources as a read-only source beside the store.

They are searched with the same engine as stored resources: on first use, each process
indexes them (the same extraction as on write) into a private SQLite file of its own,
which then answers reads and search plans like a store does, and is never written again.
It holds one version of each, `versionId` 1. Building takes a few seconds and happens
once per process, only when a conformance resource is first asked for.
"""

from __future__ import annotations

import atexit
import functools
import os
import shutil
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from fhir_server import search
from fhir_server.conformance.sources import CONFORMANCE_TYPES, shipped_resources
from fhir_server.storage import sqlite_index
from fhir_server.storage.base import ResourceVersion, StoreSession
from fhir_server.storage.sqlite import SCHEMA, SQLiteSession, SQLiteStore

SHIPPED_AT = "2026-11-27T00:00:00.000Z"  # lastUpdated of shipped resources without one of their own


class ShippedConformance:
    """Read-only conformance resources: which (type, id) are shipped, their versions, and
    a store session to run search plans on them."""

    def __init__(self, resources: Callable[[], Iterable[dict[str, Any]]] = shipped_resources) -> None:
        self._resources = resources
        self._lock = threading.Lock()
        self._store: SQLiteStore | None = None
        self._keys: frozenset[tuple[str, str]] = frozenset()
        self._types: frozenset[str] = frozenset()

    @property
    def types(self) -> frozenset[str]:
        return CONFORMANCE_TYPES

    def holds(self, type_: str, id_: str) -> bool:
        return type_ in CONFORMANCE_TYPES and (type_, id_) in self._built()[1]

    def current(self, type_: str, id_: str) -> ResourceVersion | None:
        if not self.holds(type_, id_):
            return None
        with self.session() as s:
            return s.current(type_, id_)

    @contextmanager
    def session(self) -> Iterator[StoreSession]:
        store, _ = self._built()
        with store.session() as s:
            yield s

    def _built(self) -> tuple[SQLiteStore, frozenset[tuple[str, str]]]:
        if self._store is None:
            with self._lock:
                if self._store is None:
                    self._keys, self._store = _build(self._resources())
        return self._store, self._keys


def _build(resources: Iterable[dict[str, Any]]) -> tuple[frozenset[tuple[str, str]], SQLiteStore]:
    folder = Path(tempfile.mkdtemp(prefix="noskhe-conformance-"))
    atexit.register(_remove, folder, os.getpid())
    path = folder / "shipped.sqlite3"
    by_key: dict[tuple[str, str], dict[str, Any]] = {}
    for res in resources:
        if res.get("resourceType") in CONFORMANCE_TYPES and res.get("id"):
            by_key[(res["resourceType"], res["id"])] = res
    # A throwaway file written once: no journal, no fsync.
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(SCHEMA)
    sqlite_index.create_schema(conn)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    session = SQLiteSession(conn)
    for (type_, id_), res in by_key.items():
        stored = _stamped(res)
        rv = ResourceVersion(type_, id_, 1, stored["meta"]["lastUpdated"], False, orjson.dumps(stored))
        session.put(rv, search.extract_index(stored), None)
    conn.execute("COMMIT")
    conn.close()
    return frozenset(by_key), SQLiteStore(path, checkpoints=False)


def _stamped(res: dict[str, Any]) -> dict[str, Any]:
    """The resource as served: versionId 1, lastUpdated its own (in UTC) or SHIPPED_AT."""
    meta = dict(res.get("meta") or {})
    meta["versionId"] = "1"
    meta["lastUpdated"] = _utc(meta.get("lastUpdated")) or SHIPPED_AT
    out = {"resourceType": res["resourceType"], "id": res["id"], "meta": meta}
    out.update((k, v) for k, v in res.items() if k not in out)
    return out


def _utc(instant: Any) -> str | None:
    try:
        when = datetime.fromisoformat(str(instant).replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def _remove(folder: Path, pid: int) -> None:
    if os.getpid() == pid:  # a forked worker inherits the hook; only the builder removes it
        shutil.rmtree(folder, ignore_errors=True)


@functools.cache
def shipped() -> ShippedConformance:
    """The process's one source of shipped conformance resources (immutable data)."""
    return ShippedConformance()
