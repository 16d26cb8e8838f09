"""The MongoDB engine (pymongo): a replica set for transactions, a sharded cluster for scale.

Collections (in the URL's database, default `noskhe`):

- `resources`: one document per resource, `_id` = `Type/id`, holding the current version
  (`v`, `lu`, `d` deleted, `b` the JSON body as binary) and its search index entries
  (arrays per kind, see `mongo_index`), so a search is one query on one collection;
- `history`: one document per version, `_id` = `Type/id/version`, `q` its position, which
  orders history (see `mongo_units`: no counter, no document every write touches);
- `inflight`: one document per open write unit that stores versions (the watermark);
- `claims`: unique keys (prescription ids, tracking codes, fingerprints); `stamps`:
  change counters; `locks`: what conditional interactions depend on (see `mongo_session`).

Every write session is one multi-document transaction (resource + history + index entries
commit together or not at all), so MongoDB must run as a replica set (one node is
enough) or a sharded cluster. Against a standalone server the store starts, says so at
start-up, serves reads, and refuses every write with a 503: nothing is written that could
be left half-done.

Indexes are created at start (idempotently: `createIndexes` with the same specs is a no-op)
and again on the first request after the database was unreachable at start.

**Shard key.** Shard `resources` on `{_id: "hashed"}`, `history` on `{t: 1, i: "hashed"}`,
`claims`, `stamps` and `locks` on `{_id: "hashed"}`; leave `inflight` unsharded (small: one
document per open unit; its one clock is the watermark's). Hashing the resource key
spreads writes evenly whatever the id scheme (server ids are random UUIDs; client ids are
often sequential). What it means for queries: a read, vread, update or delete of one
resource and the history of one resource go to one shard; every search (by any
parameter, because the index entries live in the resource document) and type- or
system-level history ask all shards and merge, which is fine as long as each shard answers
from its indexes. What it means for transactions: a write touches the resource's shard and
its history's shard (often two), so it commits as a distributed (two-phase) transaction;
transaction bundles span as many shards as they touch. No document is written by every
unit: positions come from the server's clock (see `mongo_units`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

from pymongo import MongoClient
from pymongo.database import Database
from pymongo.errors import ConnectionFailure, PyMongoError

from fhir_server.storage.base import StoreFull, StoreReadOnly, StoreUnavailable, is_disk_full
from fhir_server.storage.mongo_index import HISTORY_INDEXES, RESOURCE_INDEXES
from fhir_server.storage.mongo_session import MongoSession, unavailable
from fhir_server.storage.mongo_units import INFLIGHT_INDEXES, clear_dead_units, settled_instant

log = logging.getLogger("noskhe.storage")

DEFAULT_TIMEOUT_MS = 5000
STANDALONE = (
    "MongoDB at {where} is a standalone server: writes need multi-document transactions, "
    "which need a replica set (a single-node replica set is enough: start mongod with "
    "--replSet and run rs.initiate()). Serving reads only; every write is refused."
)


def _where(url: str) -> str:
    """Host part of the URL, without credentials, for messages."""
    netloc = urlsplit(url).netloc
    return netloc.rsplit("@", 1)[-1] or url


def _reason(exc: Exception) -> str:
    """The first line of a pymongo error, without the topology dump."""
    text = str(exc)
    for cut in (" (configured timeouts", ", Timeout:", ", full error"):
        text = text.split(cut, 1)[0]
    return text


def _positions_from_sequence(db: Database[Any]) -> None:
    """History written under the old store-wide sequence (numeric `q`) gets positions that
    keep its order and sort before every clock-made one (once; a no-op after)."""
    while True:
        docs = list(db.history.find({"q": {"$type": "number"}}, {"q": 1}).limit(1000))
        if not docs:
            return
        for doc in docs:
            db.history.update_one({"_id": doc["_id"]}, {"$set": {"q": f"{0:012x}{int(doc['q']):018x}"}})


def _client_options(url: str) -> dict[str, Any]:
    lowered = url.lower()
    options: dict[str, Any] = {"appname": "noskhe", "tz_aware": False}
    for key in ("serverSelectionTimeoutMS", "connectTimeoutMS"):
        if key.lower() not in lowered:
            options[key] = DEFAULT_TIMEOUT_MS
    return options


class MongoStore:
    """A Store on a MongoDB database; one client (and connection pool) per process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = _where(url)
        self.client: MongoClient[dict[str, Any]] = MongoClient(url, **_client_options(url))
        self.db = self.client.get_default_database(default="noskhe")
        self.transactions = False
        self._ready = False
        self._lock = threading.Lock()
        self.startup_error: str | None = None
        try:
            self._prepare()
        except StoreUnavailable as exc:
            self.startup_error = str(exc)
            log.error("%s; requests get 503 until it is reachable", exc)

    def _prepare(self) -> None:
        """Check the topology and create the indexes, once per process."""
        if self._ready:
            return
        with self._lock:
            if self._ready:
                return
            try:
                hello = self.client.admin.command("hello")
                self.transactions = "setName" in hello or hello.get("msg") == "isdbgrid"
                self.db.resources.create_indexes(RESOURCE_INDEXES)
                self.db.history.create_indexes(HISTORY_INDEXES)
                self.db.inflight.create_index(INFLIGHT_INDEXES)
                clear_dead_units(self.db)
                _positions_from_sequence(self.db)
            except ConnectionFailure as exc:
                raise StoreUnavailable(f"cannot reach MongoDB at {self.where}: {_reason(exc)}") from exc
            if not self.transactions:
                log.error(STANDALONE.format(where=self.where))
            self._ready = True

    @contextmanager
    def session(self, write: bool = False) -> Iterator[MongoSession]:
        self._prepare()
        if write and not self.transactions:
            raise StoreReadOnly(STANDALONE.format(where=self.where))
        session = MongoSession(self, write)
        ok = False
        try:
            session.begin()
            yield session
            session.commit()
            ok = True
        except ConnectionFailure as exc:
            raise unavailable(exc) from exc
        except PyMongoError as exc:
            if is_disk_full(exc):
                raise StoreFull(f"MongoDB at {self.where} is out of disk space: {exc}") from exc
            raise
        finally:
            session.end(ok)

    def settled_instant(self) -> str:
        self._prepare()
        try:
            return settled_instant(self.db)
        except ConnectionFailure as exc:
            raise unavailable(exc) from exc

    def ping(self) -> bool:
        try:
            self.client.admin.command("ping")
            self._prepare()
        except (PyMongoError, StoreUnavailable):
            return False
        return True

    def ready(self) -> list[str]:
        """A primary answers and takes a write."""
        try:
            hello = self.client.admin.command("hello")
        except PyMongoError as exc:
            return [f"MongoDB at {self.where} does not answer: {_reason(exc)}"]
        if not (hello.get("isWritablePrimary") or hello.get("msg") == "isdbgrid"):
            return [f"MongoDB at {self.where} has no primary to write to"]
        if not ("setName" in hello or hello.get("msg") == "isdbgrid"):
            return [STANDALONE.format(where=self.where)]
        try:
            self.db.health.update_one({"_id": "readyz"}, {"$inc": {"n": 1}}, upsert=True)
        except PyMongoError as exc:
            return [f"MongoDB at {self.where} refuses writes: {_reason(exc)}"]
        return []

    def close(self) -> None:
        self.client.close()
