"""A MongoDB store session: the StoreSession protocol on one multi-document transaction.

MongoDB transactions are optimistic: a transaction that writes a document another open
(or since-committed) transaction wrote fails at once with a `TransientTransactionError`
instead of waiting for a lock, as SQLite's single writer would. Two rules make a write
session behave like the SQLite engine's `BEGIN IMMEDIATE` anyway:

1. **Claim before read.** In a write session `current()` writes to the document it reads
   (`$inc` of a claim counter; for an absent resource, an upsert in `locks`), and a unit
   that depends on a search's answer locks what the answer depends on first (`lock`:
   the key's document in `locks`; see `repository.conditional`; the workflow claims a
   patient's items by their change stamp). Two read-check-write units on the same
   resource (or two conditional creates on one identifier) therefore always collide on
   a write, never both pass on a stale read (no write skew); searches themselves write
   nothing, so units on different patients or identifiers share no document.
2. **Retry with replay.** On a transient error the transaction is aborted and restarted
   after a short back-off, and every operation the caller already saw is run again; if
   each read returns what it returned before, the caller's decisions still hold and the
   session carries on as if nothing happened. If a read now differs, the unit of work
   cannot be salvaged: the caller gets a 409 conflict. The operation that failed is run
   fresh, so the loser of a claim simply waits until the winner commits, then reads the
   winner's version.

Read sessions use no transaction: each read sees the latest committed data.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from pymongo import ReturnDocument
from pymongo.client_session import ClientSession
from pymongo.errors import ConnectionFailure, OperationFailure, PyMongoError

from fhir_server import definitions
from fhir_server.storage.base import (
    HistoryPage,
    HistoryQuery,
    Record,
    ResourceVersion,
    StoreUnavailable,
    TransactionConflict,
    VersionConflict,
)
from fhir_server.storage.mongo_clauses import all_of
from fhir_server.storage.mongo_history import from_history, history_doc, history_page
from fhir_server.storage.mongo_index import index_fields, unset_fields
from fhir_server.storage.mongo_search import MongoSearch
from fhir_server.storage.mongo_units import Unit, watermark

if TYPE_CHECKING:
    from fhir_server.storage.mongo import MongoStore

RETRY_SECONDS = 30.0  # as long as the SQLite engine's busy_timeout
_CURRENT_FIELDS = {"t": 1, "i": 1, "v": 1, "lu": 1, "d": 1, "b": 1, "q": 1}


def key_of(type_: str, id_: str) -> str:
    return f"{type_}/{id_}"


def from_resource(doc: dict[str, Any]) -> ResourceVersion:
    return ResourceVersion(
        doc["t"], doc["i"], doc["v"], doc["lu"], doc["d"], doc.get("b"), "PUT", doc.get("q", "")
    )


def is_transient(exc: PyMongoError) -> bool:
    if not isinstance(exc, OperationFailure):
        return False
    # WriteConflict and NoSuchTransaction carry the label on MongoDB; the codes are a fallback.
    return exc.has_error_label("TransientTransactionError") or exc.code in (112, 251)


def unavailable(exc: PyMongoError) -> StoreUnavailable:
    text = str(exc)
    for cut in (" (configured timeouts", ", Timeout:"):
        text = text.split(cut, 1)[0]
    return StoreUnavailable(f"MongoDB is unreachable: {text}")


def _give_up_after(deadline: float, exc: PyMongoError) -> None:
    """Past the deadline a unit that keeps losing to concurrent ones stops trying."""
    if time.monotonic() > deadline:
        raise TransactionConflict(
            f"Still conflicting with concurrent writes after {RETRY_SECONDS:g} s; nothing was written, retry"
        ) from exc


class _Diverged(Exception):
    """A replayed read returned something else: the unit of work cannot be salvaged."""


class MongoSession:
    def __init__(self, store: MongoStore, write: bool) -> None:
        self.store = store
        self.write = write
        self.db = store.db
        self.resources = store.db.resources
        self.history_coll = store.db.history
        self.locks = store.db.locks
        self._client_session: ClientSession | None = None
        self._log: list[tuple[Callable[..., Any], tuple[Any, ...], Any, bool]] = []
        self._replaying = False
        self._locked: set[str] = set()
        self._unit = Unit(store.db) if write else None
        self._watermark: str | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def begin(self) -> None:
        if not self.write:
            return
        self._client_session = self.store.client.start_session(causal_consistency=False)
        self._start()

    def _start(self) -> None:
        assert self._client_session is not None
        self._client_session.start_transaction()

    def commit(self) -> None:
        if self._client_session is None:
            return
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            try:
                if self._unit is not None:
                    self._unit.check_alive()
                self._client_session.commit_transaction()
                return
            except ConnectionFailure as exc:
                raise unavailable(exc) from exc
            except OperationFailure as exc:
                if not is_transient(exc):
                    raise
                _give_up_after(deadline, exc)
                attempt += 1
                self._restart(attempt, deadline)

    def end(self, ok: bool) -> None:
        cs = self._client_session
        if cs is None:
            return
        try:
            if self._unit is not None:
                self._unit.end()  # after commit or abort: the watermark may pass it now
        except PyMongoError:
            pass  # ignored by readers after its lifetime
        try:
            if not ok and cs.in_transaction:
                cs.abort_transaction()
        except PyMongoError:
            pass  # the server aborts it anyway when the session expires
        finally:
            cs.end_session()
            self._client_session = None

    # -- retry and replay -----------------------------------------------------------------

    def _run(self, fn: Callable[..., Any], *args: Any, is_write: bool = False) -> Any:
        """Run one operation (retrying transient failures) and log it for replay."""
        deadline = time.monotonic() + RETRY_SECONDS
        attempt = 0
        while True:
            try:
                result = fn(*args)
                break
            except ConnectionFailure as exc:
                raise unavailable(exc) from exc
            except OperationFailure as exc:
                if self._client_session is None or not is_transient(exc):
                    raise
                _give_up_after(deadline, exc)
                attempt += 1
                self._restart(attempt, deadline)
        if self._client_session is not None:
            self._log.append((fn, args, result, is_write))
        return result

    def _restart(self, attempt: int, deadline: float) -> None:
        """Abort, back off, start a new transaction and replay the log (until it holds)."""
        assert self._client_session is not None
        while True:
            try:
                if self._client_session.in_transaction:
                    self._client_session.abort_transaction()
            except PyMongoError:
                pass
            time.sleep(random.uniform(0, min(0.1, 0.002 * 2**attempt)))
            self._start()
            try:
                self._replay()
                return
            except ConnectionFailure as exc:
                raise unavailable(exc) from exc
            except OperationFailure as exc:
                if not is_transient(exc):
                    raise
                _give_up_after(deadline, exc)
                attempt += 1
            except (_Diverged, VersionConflict) as exc:
                raise TransactionConflict(
                    "A concurrent transaction changed data this one had read; retry"
                ) from exc

    def _replay(self) -> None:
        for fn, args, result, is_write in self._log:
            again = fn(*args)
            if not is_write and again != result:
                raise _Diverged()

    # -- StoreSession ---------------------------------------------------------------------

    def current(self, type_: str, id_: str) -> ResourceVersion | None:
        fn = self._claim_current if self._client_session is not None else self._read_current
        result: ResourceVersion | None = self._run(fn, type_, id_)
        return result

    def peek(self, type_: str, id_: str) -> ResourceVersion | None:
        result: ResourceVersion | None = self._run(self._read_current, type_, id_)
        return result

    def _read_current(self, type_: str, id_: str) -> ResourceVersion | None:
        doc = self.resources.find_one(
            {"_id": key_of(type_, id_)}, _CURRENT_FIELDS, session=self._client_session
        )
        return from_resource(doc) if doc else None

    def _claim_current(self, type_: str, id_: str) -> ResourceVersion | None:
        key = key_of(type_, id_)
        doc = self.resources.find_one_and_update(
            {"_id": key},
            {"$inc": {"claim": 1}},
            projection=_CURRENT_FIELDS,
            return_document=ReturnDocument.AFTER,
            session=self._client_session,
        )
        if doc is None:
            self.locks.update_one({"_id": key}, {"$inc": {"n": 1}}, upsert=True, session=self._client_session)
            return None
        return from_resource(doc)

    def version(self, type_: str, id_: str, version: int) -> ResourceVersion | None:
        result: ResourceVersion | None = self._run(self._version, type_, id_, version)
        return result

    def _version(self, type_: str, id_: str, version: int) -> ResourceVersion | None:
        doc = self.history_coll.find_one(
            {"_id": f"{key_of(type_, id_)}/{version}"}, session=self._client_session
        )
        return from_history(doc) if doc else None

    def put(self, rv: ResourceVersion, index: Sequence[Any], expected_version: int | None) -> ResourceVersion:
        if self._client_session is None or self._unit is None:
            raise StoreUnavailable("writes need a write session")
        previous = ""
        if expected_version is not None:
            found = self._run(self._read_current, rv.type, rv.id)  # claimed already by current()
            previous = found.position if found else ""
        position = self._unit.position(previous)
        written: ResourceVersion = self._run(
            self._put, replace(rv, position=position), index_fields(index), expected_version, is_write=True
        )
        return written

    def _put(self, rv: ResourceVersion, fields: dict[str, Any], expected: int | None) -> ResourceVersion:
        key = key_of(rv.type, rv.id)
        doc = {
            "_id": key,
            "t": rv.type,
            "i": rv.id,
            "v": rv.version,
            "lu": rv.last_updated,
            "d": rv.deleted,
            "b": rv.body,
            "q": rv.position,
            **fields,
        }
        cs = self._client_session
        if expected is None:
            res = self.resources.update_one({"_id": key}, {"$setOnInsert": doc}, upsert=True, session=cs)
            ok = res.upserted_id is not None
        else:
            ok = self.resources.replace_one({"_id": key, "v": expected}, doc, session=cs).matched_count == 1
        if not ok:
            found = self.resources.find_one({"_id": key}, {"v": 1}, session=cs)
            raise VersionConflict(
                f"{rv.type}/{rv.id}: expected {expected}, found {found['v'] if found else None}"
            )
        self.history_coll.insert_one(history_doc(key, rv), session=cs)
        return rv

    def history(self, query: HistoryQuery) -> HistoryPage:
        page: HistoryPage = self._run(self._history, query)
        return page

    def _history(self, query: HistoryQuery) -> HistoryPage:
        visible = None
        if query.only is not None:
            types = (query.type,) if query.type else tuple(sorted(definitions.resource_types()))
            cond = MongoSearch(self.resources, self._client_session).compiler.compile(query.only, types)

            def visible(keys: list[tuple[str, str]]) -> set[tuple[str, str]]:
                where = all_of([{"_id": {"$in": [key_of(t, i) for t, i in keys]}, "d": False}, cond])
                docs = self.resources.find(where, {"t": 1, "i": 1}, session=self._client_session)
                return {(d["t"], d["i"]) for d in docs}

        return history_page(self.history_coll, self._client_session, query, self.watermark(), visible)

    def watermark(self) -> str:
        if self._watermark is None:  # once per session: its pages agree with each other
            self._watermark = watermark(self.db)
        return self._watermark

    def search(self, plan: Any) -> Any:
        return self._run(self._search, plan)

    def lock(self, key: str) -> None:
        if self._client_session is None:
            raise StoreUnavailable("locks need a write session")
        if key not in self._locked:
            self._run(self._lock, key, is_write=True)
            self._locked.add(key)

    def _lock(self, key: str) -> None:
        self.locks.update_one({"_id": key}, {"$inc": {"n": 1}}, upsert=True, session=self._client_session)

    def _search(self, plan: Any) -> Any:
        return MongoSearch(self.resources, self._client_session).execute(plan)

    def read_many(self, keys: Sequence[tuple[str, str]]) -> list[ResourceVersion]:
        result: list[ResourceVersion] = self._run(self._read_many, tuple(keys))
        return result

    def _read_many(self, keys: Sequence[tuple[str, str]]) -> list[ResourceVersion]:
        out: list[ResourceVersion] = []
        for start in range(0, len(keys), 1000):
            ids = [key_of(t, i) for t, i in keys[start : start + 1000]]
            docs = self.resources.find(
                {"_id": {"$in": ids}, "d": False}, _CURRENT_FIELDS, session=self._client_session
            )
            out.extend(from_resource(d) for d in docs)
        return out

    def iter_current(self, type_: str | None, batch: int = 500) -> Iterator[ResourceVersion]:
        last: tuple[str, str] | None = None
        while True:
            docs: list[ResourceVersion] = self._run(self._current_batch, type_, last, batch)
            if not docs:
                return
            yield from docs
            last = (docs[-1].type, docs[-1].id)

    def _current_batch(
        self, type_: str | None, last: tuple[str, str] | None, batch: int
    ) -> list[ResourceVersion]:
        cond: dict[str, Any] = {"d": False}
        if type_ is not None:
            cond["t"] = type_
        if last is not None:
            cond["$or"] = [{"t": {"$gt": last[0]}}, {"t": last[0], "i": {"$gt": last[1]}}]
        docs = self.resources.find(cond, _CURRENT_FIELDS, session=self._client_session)
        return [from_resource(d) for d in docs.sort([("t", 1), ("i", 1)]).limit(batch)]

    def replace_index(self, type_: str, id_: str, index: Sequence[Any]) -> None:
        if self._client_session is None:
            raise StoreUnavailable("writes need a write session")
        self._run(self._replace_index, key_of(type_, id_), index_fields(index), is_write=True)

    def claim(self, key: str, owner: str) -> str:
        if self._client_session is None:
            raise StoreUnavailable("writes need a write session")
        # A read for replay: if another unit took the key meanwhile, the replay differs (409).
        holder: str = self._run(self._claim, key, owner)
        return holder

    def _claim(self, key: str, owner: str) -> str:
        doc = self.db.claims.find_one_and_update(
            {"_id": key},
            {"$setOnInsert": {"owner": owner}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=self._client_session,
        )
        assert doc is not None  # upserted
        return str(doc["owner"])

    def release(self, key: str, owner: str) -> None:
        if self._client_session is None:
            raise StoreUnavailable("writes need a write session")
        self._run(self._release, key, owner, is_write=True)

    def _release(self, key: str, owner: str) -> None:
        self.db.claims.delete_one({"_id": key, "owner": owner}, session=self._client_session)

    def stamp(self, key: str) -> int:
        fn = self._claim_stamp if self._client_session is not None else self._read_stamp
        value: int = self._run(fn, key)
        return value

    def _read_stamp(self, key: str) -> int:
        doc = self.db.stamps.find_one({"_id": key}, session=self._client_session)
        return int(doc["n"]) if doc else 0

    def _claim_stamp(self, key: str) -> int:
        """Read the counter by writing its document (claim before read, as `current()`):
        a unit that bumps it concurrently collides with this one."""
        doc = self.db.stamps.find_one_and_update(
            {"_id": key},
            {"$inc": {"claim": 1}, "$setOnInsert": {"n": 0}},
            upsert=True,
            return_document=ReturnDocument.AFTER,
            session=self._client_session,
        )
        return int(doc["n"]) if doc else 0

    def bump(self, key: str) -> None:
        if self._client_session is None:
            raise StoreUnavailable("writes need a write session")
        self._run(self._bump, key, is_write=True)

    def _bump(self, key: str) -> None:
        self.db.stamps.update_one({"_id": key}, {"$inc": {"n": 1}}, upsert=True, session=self._client_session)

    # -- server records (bulk jobs) ---------------------------------------------------------

    def record(self, kind: str, key: str) -> Record | None:
        found: Record | None = self._run(self._record, kind, key)
        return found

    def _record(self, kind: str, key: str) -> Record | None:
        doc = self.db.records.find_one({"_id": f"{kind}/{key}"}, session=self._client_session)
        return Record(kind, key, int(doc["v"]), bytes(doc["b"])) if doc else None

    def put_record(self, record: Record, expected_version: int | None) -> Record:
        if self._client_session is None:
            raise StoreUnavailable("writes need a write session")
        written: Record = self._run(self._put_record, record, expected_version, is_write=True)
        return written

    def _put_record(self, record: Record, expected: int | None) -> Record:
        version = (expected or 0) + 1
        doc = {"_id": f"{record.kind}/{record.key}", "k": record.kind, "key": record.key, "v": version}
        doc["b"] = record.body
        cs = self._client_session
        if expected is None:
            res = self.db.records.update_one(
                {"_id": doc["_id"]}, {"$setOnInsert": doc}, upsert=True, session=cs
            )
            ok = res.upserted_id is not None
        else:
            ok = (
                self.db.records.replace_one({"_id": doc["_id"], "v": expected}, doc, session=cs).matched_count
                == 1
            )
        if not ok:
            raise VersionConflict(f"record {record.kind}/{record.key}: expected {expected}")
        return Record(record.kind, record.key, version, record.body)

    def delete_record(self, kind: str, key: str) -> None:
        if self._client_session is None:
            raise StoreUnavailable("writes need a write session")
        self._run(self._delete_record, kind, key, is_write=True)

    def _delete_record(self, kind: str, key: str) -> None:
        self.db.records.delete_one({"_id": f"{kind}/{key}"}, session=self._client_session)

    def record_keys(self, kind: str) -> list[str]:
        keys: list[str] = self._run(self._record_keys, kind)
        return keys

    def _record_keys(self, kind: str) -> list[str]:
        docs = self.db.records.find({"k": kind}, {"key": 1}, session=self._client_session)
        return sorted(str(d["key"]) for d in docs)

    def _replace_index(self, key: str, fields: dict[str, Any]) -> None:
        change = {"$set": fields, **({"$unset": gone} if (gone := unset_fields(fields)) else {})}
        self.resources.update_one({"_id": key}, change, session=self._client_session)
