"""MongoDB-only behaviour: topology checks, unreachable servers, indexes, and the
transaction retry that SQLite never needs (its writers wait on one lock instead)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "conformance"))

from noskhe_test_servers import MONGO_ENV, SecantusServer, free_port, with_database

from fhir_server.app import create_app
from fhir_server.config import Settings
from fhir_server.storage import mongo_session, open_store
from fhir_server.storage.base import (
    HistoryQuery,
    ResourceVersion,
    StoreReadOnly,
    StoreUnavailable,
    TransactionConflict,
)
from fhir_server.storage.mongo import MongoStore
from fhir_server.storage.mongo_history import history_doc
from fhir_server.storage.mongo_units import LIFETIME_SECONDS, server_clock

FHIR_JSON = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def mongo_store(mongo_uri: str) -> Iterator[MongoStore]:
    store = MongoStore(with_database(mongo_uri, f"noskhe_m_{uuid.uuid4().hex[:12]}"))
    yield store
    store.client.drop_database(store.db.name)
    store.close()


def pv(id_: str, n: int) -> ResourceVersion:
    body = f'{{"resourceType":"Patient","id":"{id_}"}}'.encode()
    return ResourceVersion("Patient", id_, n, "2026-01-01T00:00:00.000Z", False, body)


def test_open_store_selects_mongodb_and_creates_indexes_idempotently(mongo_store: MongoStore) -> None:
    again = open_store("unused", mongo_store.url)
    assert isinstance(again, MongoStore) and again.transactions
    names = set(mongo_store.db.resources.index_information())
    assert {"type_id", "token", "string", "reference", "date"} <= names
    assert "resource_seq" in mongo_store.db.history.index_information()
    again.close()


def test_a_conflict_that_invalidates_a_read_is_a_transaction_conflict(mongo_store: MongoStore) -> None:
    """A unit of work whose earlier read went stale cannot be replayed: a storage error
    (the API answers 409), nothing written."""
    with pytest.raises(TransactionConflict), mongo_store.session(write=True) as a:
        before = a.history(HistoryQuery(type="Patient"))
        with mongo_store.session(write=True) as b:  # commits while `a` is open
            b.put(pv("y", 1), [], None)
        assert a.current("Patient", "y") is None  # a's snapshot predates b
        assert before.total == 0
        a.put(pv("y", 1), [], None)  # write-write conflict; replaying a's history read fails
    with mongo_store.session() as s:
        assert s.history(HistoryQuery(type="Patient")).total == 1


def test_a_conflict_on_an_unread_document_is_retried_transparently(mongo_store: MongoStore) -> None:
    with mongo_store.session(write=True) as s:
        s.put(pv("z", 1), [], None)
    with mongo_store.session(write=True) as a:
        a.put(pv("other", 1), [], None)
        with mongo_store.session(write=True) as b:
            current = b.current("Patient", "z")
            assert current is not None
            b.put(pv("z", 2), [], 1)
        current = a.current("Patient", "z")  # conflicts (b wrote z after a began): retried
        assert current is not None and current.version == 2
        a.put(pv("z", 3), [], 2)
    with mongo_store.session() as s:
        assert [v.version for v in s.history(HistoryQuery(type="Patient", id="z")).versions] == [3, 2, 1]


def test_unreachable_at_start_is_one_clear_line(capsys: pytest.CaptureFixture[str]) -> None:
    port = free_port()
    url = f"mongodb://127.0.0.1:{port}/noskhe?serverSelectionTimeoutMS=300&connectTimeoutMS=300"
    store = MongoStore(url)  # the store itself stays lazy: reports, does not raise
    assert store.ping() is False
    with pytest.raises(StoreUnavailable, match=f"cannot reach MongoDB at 127.0.0.1:{port}"), store.session():
        pass
    store.close()
    with pytest.raises(SystemExit) as exit_:
        open_store("unused", url)  # what `fhir-server serve --store` calls at start
    assert exit_.value.code == 3
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"fhir-server: cannot reach MongoDB at 127.0.0.1:{port}") and "\n" not in err
    assert "Topology" not in err


def test_server_lost_during_requests_gives_503_then_recovers(tmp_path: Path) -> None:
    if os.environ.get(MONGO_ENV):
        pytest.skip("stops and restarts a server of its own")
    server = SecantusServer(tmp_path / "db")
    url = with_database(server.uri, "noskhe") + "?serverSelectionTimeoutMS=500&connectTimeoutMS=500"
    store = MongoStore(url)
    client = create_app(Settings(data_dir=tmp_path, auth=False), store=store).test_client()
    try:
        kept = {"resourceType": "Patient", "id": "kept"}
        r = client.put("/fhir/Patient/kept", json=kept, headers=FHIR_JSON)
        assert r.status_code == 201
        server.stop()
        for r in (
            client.get("/fhir/Patient/kept"),
            client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON),
            client.get("/fhir/Patient?_id=kept"),
            client.get("/fhir/Patient/kept/_history"),
        ):
            assert r.status_code == 503 and r.get_json()["resourceType"] == "OperationOutcome"
        assert client.get("/readyz").status_code == 503
        server.start()
        # Ready once a primary takes writes again: the restarted replica set elects one first.
        deadline = time.monotonic() + 20
        while (ready := client.get("/readyz")).status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        assert ready.status_code == 200, ready.get_json()
        assert client.get("/fhir/Patient/kept").status_code == 200
    finally:
        store.close()
        server.stop()


def test_standalone_server_serves_reads_and_refuses_writes(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    if os.environ.get(MONGO_ENV):
        pytest.skip("needs a standalone server of its own")
    server = SecantusServer(tmp_path / "standalone", "--standalone")
    try:
        store = MongoStore(with_database(server.uri, "noskhe"))
        assert store.transactions is False
        assert "standalone server" in caplog.text and "replica set" in caplog.text
        with store.session() as s:
            assert s.current("Patient", "x") is None
        with pytest.raises(StoreReadOnly) as err, store.session(write=True):
            pass
        assert "replica set" in str(err.value)
        client = create_app(Settings(data_dir=tmp_path, auth=False), store=store).test_client()
        r = client.post("/fhir/Patient", json={"resourceType": "Patient"}, headers=FHIR_JSON)
        assert r.status_code == 503 and "replica set" in r.get_data(as_text=True)
        assert client.get("/fhir/Patient?gender=male").status_code == 200
        ready = client.get("/readyz")  # it takes no writes: not ready, and says why
        assert ready.status_code == 503 and "replica set" in ready.get_data(as_text=True)
        store.close()
    finally:
        server.stop()


def test_a_later_unit_stays_invisible_until_an_earlier_open_one_ends(mongo_store: MongoStore) -> None:
    with mongo_store.session(write=True) as a:
        a.put(pv("first", 1), [], None)  # registered: holds the watermark back
        with mongo_store.session(write=True) as b:
            b.put(replace(pv("second", 1), last_updated="2026-01-02T00:00:00.000Z"), [], None)
        with mongo_store.session() as r:  # b committed, but positioned after a's start
            assert r.history(HistoryQuery(type="Patient")).versions == []
    with mongo_store.session() as r:
        assert [v.id for v in r.history(HistoryQuery(type="Patient")).versions] == ["second", "first"]
    assert mongo_store.db.inflight.count_documents({}) == 0  # both deregistered


def test_an_abandoned_registration_holds_the_watermark_only_for_its_lifetime(mongo_store: MongoStore) -> None:
    now = server_clock(mongo_store.db)
    with mongo_store.session() as r:
        free = r.watermark()
    mongo_store.db.inflight.insert_one({"_id": "crashed", "s": now - timedelta(seconds=LIFETIME_SECONDS + 1)})
    mongo_store.db.inflight.insert_one({"_id": "open", "s": now - timedelta(seconds=5)})
    with mongo_store.session() as r:
        held = r.watermark()
    assert held == f"{int((now - timedelta(seconds=5) - datetime(1970, 1, 1)).total_seconds() * 1000):012x}"
    mongo_store.db.inflight.delete_one({"_id": "open"})
    with mongo_store.session() as r:
        assert r.watermark() >= free > held  # the crashed one is ignored


def test_a_restart_clears_registrations_of_processes_that_are_gone(mongo_store: MongoStore) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    now = server_clock(mongo_store.db)
    host = socket.gethostname()
    mongo_store.db.inflight.insert_many(
        [
            {"_id": "gone", "s": now, "host": host, "pid": dead.pid},
            {"_id": "alive", "s": now, "host": host, "pid": os.getpid()},
            {"_id": "elsewhere", "s": now, "host": "another-machine", "pid": dead.pid},
        ]
    )
    again = MongoStore(mongo_store.url)
    assert sorted(d["_id"] for d in again.db.inflight.find()) == ["alive", "elsewhere"]
    again.close()


def test_history_of_the_old_sequence_keeps_its_order(mongo_uri: str) -> None:
    """A store written with the store-wide counter gets positions below every new one."""
    url = with_database(mongo_uri, f"noskhe_m_{uuid.uuid4().hex[:12]}")
    old = MongoStore(url)
    for n in (1, 2):
        doc = history_doc(f"Patient/p{n}", pv(f"p{n}", 1))
        old.db.history.insert_one({**doc, "q": n})
    old.close()
    store = MongoStore(url)
    with store.session(write=True) as s:
        s.put(pv("new", 1), [], None)
    with store.session() as s:
        assert [v.id for v in s.history(HistoryQuery()).versions] == ["new", "p2", "p1"]
    store.client.drop_database(store.db.name)
    store.close()


def test_a_unit_that_keeps_losing_gives_up_with_a_transaction_conflict(
    mongo_store: MongoStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past the retry deadline the loser raises the storage error the API answers with 409,
    never the driver's own error (which would be a 500)."""
    monkeypatch.setattr(mongo_session, "RETRY_SECONDS", 0.3)
    with mongo_store.session(write=True) as a:
        a.put(pv("hot", 1), [], None)  # holds the document until a commits
        with pytest.raises(TransactionConflict), mongo_store.session(write=True) as b:
            b.put(pv("hot", 1), [], None)
    with mongo_store.session() as s:
        found = s.current("Patient", "hot")
        assert found is not None and found.version == 1
