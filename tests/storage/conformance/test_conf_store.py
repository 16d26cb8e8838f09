"""The Store protocol itself: versions, optimistic concurrency, atomic sessions, history,
bulk reads and index replacement, the same on every engine."""

from __future__ import annotations

import threading
import time

import pytest
from conformance_helpers import ids, patient, version, write
from conftest import StoreFactory

from fhir_server.search import extract_index
from fhir_server.storage.base import (
    STAMP_WINDOW_SECONDS,
    HistoryQuery,
    Record,
    Store,
    VersionConflict,
    instant,
)


def test_put_and_read_versions(store: Store) -> None:
    with store.session(write=True) as s:
        first = s.put(version("a", 1), [], None)
        second = s.put(version("a", 2), [], 1)
    assert second.position > first.position != ""
    with store.session() as s:
        current = s.current("Patient", "a")
        assert current is not None and current.version == 2 and current.body == version("a", 2).body
        old = s.version("Patient", "a", 1)
        assert old is not None and old.body is not None and old.version == 1 and old.method == "PUT"
        assert s.version("Patient", "a", 3) is None
        assert s.current("Patient", "nope") is None


def test_put_with_stale_expected_version_conflicts(store: Store) -> None:
    with store.session(write=True) as s:
        s.put(version("a", 1), [], None)
    with pytest.raises(VersionConflict), store.session(write=True) as s:
        s.put(version("a", 2), [], None)
    with pytest.raises(VersionConflict), store.session(write=True) as s:
        s.put(version("a", 3), [], 2)
    with store.session() as s:
        current = s.current("Patient", "a")
        assert current is not None and current.version == 1


def test_conflict_leaves_the_session_usable(store: Store) -> None:
    with store.session(write=True) as s:
        s.put(version("a", 1), [], None)
    with store.session(write=True) as s:
        with pytest.raises(VersionConflict):
            s.put(version("a", 2), [], 5)
        s.put(version("b", 1), [], None)
    with store.session() as s:
        assert s.current("Patient", "b") is not None


def test_failed_session_rolls_back_everything(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session(write=True) as s:
        s.put(version("a", 1), [], None)
        s.put(version("b", 1), [], None)
        raise RuntimeError("boom")
    with store.session() as s:
        assert s.current("Patient", "a") is None
        assert s.history(HistoryQuery()).total == 0
    assert ids(store, "Patient", "") == []


def test_delete_marker_is_current_and_blocks_create(store: Store) -> None:
    with store.session(write=True) as s:
        s.put(version("a", 1), [], None)
        s.put(version("a", 2, deleted=True), [], 1)
    with store.session() as s:
        current = s.current("Patient", "a")
        assert current is not None and current.deleted and current.body is None and current.version == 2
        marker = s.version("Patient", "a", 2)
        assert marker is not None and marker.deleted and marker.method == "DELETE"
    with pytest.raises(VersionConflict), store.session(write=True) as s:
        s.put(version("a", 1), [], None)
    with store.session(write=True) as s:  # re-create after delete continues the versions
        s.put(version("a", 3), [], 2)


def test_history_newest_first_with_stable_cursor(store: Store) -> None:
    with store.session(write=True) as s:
        for n in range(1, 6):
            s.put(version("a", n), [], n - 1 if n > 1 else None)
    with store.session() as s:
        page1 = s.history(HistoryQuery(type="Patient", id="a", count=2))
    assert [v.version for v in page1.versions] == [5, 4] and page1.total == 5
    with store.session(write=True) as s:  # a write between pages must not shift page 2
        s.put(version("a", 6), [], 5)
    with store.session() as s:
        page2 = s.history(HistoryQuery(type="Patient", id="a", count=2, before=page1.next_cursor))
        page3 = s.history(HistoryQuery(type="Patient", id="a", count=2, before=page2.next_cursor))
    assert [v.version for v in page2.versions] == [3, 2]
    assert [v.version for v in page3.versions] == [1] and page3.next_cursor is None


def test_history_levels(store: Store) -> None:
    with store.session(write=True) as s:
        s.put(version("a", 1), [], None)
        s.put(version("b", 1), [], None)
        s.put(version("a", 2, deleted=True), [], 1)
        obs = version("o", 1)
        s.put(type(obs)("Observation", "o", 1, obs.last_updated, False, b"{}", "POST"), [], None)
    with store.session() as s:
        system = s.history(HistoryQuery())
        by_type = s.history(HistoryQuery(type="Patient"))
        instance = s.history(HistoryQuery(type="Patient", id="a"))
    assert [(v.type, v.id, v.version) for v in system.versions] == [
        ("Observation", "o", 1),
        ("Patient", "a", 2),
        ("Patient", "b", 1),
        ("Patient", "a", 1),
    ]
    assert system.versions[0].method == "POST" and system.versions[1].deleted
    assert by_type.total == 3 and instance.total == 2


def test_history_since_and_at(store: Store) -> None:
    with store.session(write=True) as s:
        s.put(version("a", 1, at="2026-01-01T00:00:00.000Z"), [], None)
        s.put(version("a", 2, at="2026-02-01T00:00:00.000Z"), [], 1)
        s.put(version("a", 3, at="2026-03-01T00:00:00.000Z"), [], 2)
        s.put(version("b", 1, at="2026-02-10T00:00:00.000Z"), [], None)
    with store.session() as s:
        since = s.history(HistoryQuery(since="2026-02-01T00:00:00.000Z"))
        at = s.history(HistoryQuery(at="2026-02-15T00:00:00.000Z"))
        at_a = s.history(HistoryQuery(type="Patient", id="a", at="2026-02-15T00:00:00.000Z"))
        before = s.history(HistoryQuery(at="2025-12-31T00:00:00.000Z"))
    assert [(v.id, v.version) for v in since.versions] == [("b", 1), ("a", 3), ("a", 2)]
    assert [(v.id, v.version) for v in at.versions] == [("b", 1), ("a", 2)] and at.total == 2
    assert [v.version for v in at_a.versions] == [2]
    assert before.versions == [] and before.total == 0


def test_read_many_and_iter_current_skip_deleted(store: Store) -> None:
    with store.session(write=True) as s:
        for i in range(5):
            s.put(version(f"p{i}", 1), [], None)
        s.put(version("p0", 2, deleted=True), [], 1)
    with store.session() as s:
        got = {v.id for v in s.read_many([("Patient", f"p{i}") for i in range(5)] + [("Patient", "zz")])}
        assert got == {"p1", "p2", "p3", "p4"}
        assert [v.id for v in s.iter_current("Patient", batch=2)] == ["p1", "p2", "p3", "p4"]
        assert [v.id for v in s.iter_current("Observation")] == []
        assert len(list(s.iter_current(None, batch=3))) == 4


def test_replace_index_changes_what_search_finds(store: Store) -> None:
    write(store, patient("a", gender="male"))
    assert ids(store, "Patient", "gender=male") == ["a"]
    with store.session(write=True) as s:
        s.replace_index("Patient", "a", extract_index(patient("a", gender="female")))
    assert ids(store, "Patient", "gender=male") == []
    assert ids(store, "Patient", "gender=female") == ["a"]


def test_update_replaces_index_entries(store: Store) -> None:
    write(store, patient("a", gender="male", name=[{"family": "Ahmadi"}]))
    write(store, patient("a", gender="female"))
    assert ids(store, "Patient", "gender=male") == []
    assert ids(store, "Patient", "name=ahmadi") == []
    assert ids(store, "Patient", "gender=female") == ["a"]


def test_ping(store: Store) -> None:
    assert store.ping() is True


def test_writers_in_two_connections_serialise(store_factory: StoreFactory) -> None:
    """Read-check-write units on one resource from separate stores (as separate worker
    processes would have) all succeed in turn, each with its own version."""
    store_factory()  # creates the schema / indexes
    results: list[str] = []
    barrier = threading.Barrier(8)

    def writer() -> None:
        store = store_factory()
        barrier.wait()
        try:
            with store.session(write=True) as s:
                current = s.current("Patient", "x")
                expected = current.version if current else None
                s.put(version("x", (expected or 0) + 1), [], expected)
            results.append("ok")
        except VersionConflict:
            results.append("conflict")

    threads = [threading.Thread(target=writer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count("ok") == 8
    with store_factory().session() as s:
        current = s.current("Patient", "x")
        assert current is not None and current.version == 8
        assert s.history(HistoryQuery(type="Patient", id="x")).total == 8


def test_concurrent_writers_of_different_resources(store: Store) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        try:
            for i in range(10):
                with store.session(write=True) as s:
                    s.put(version(f"w{n}-{i}", 1), [], None)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with store.session() as s:
        page = s.history(HistoryQuery(count=100))
    assert page.total == 40 and len({v.position for v in page.versions}) == 40


def test_claims_are_unique_owned_and_released(store: Store) -> None:
    with store.session(write=True) as s:
        assert s.claim("prescription-id|1", "a") == "a"
        assert s.claim("prescription-id|1", "a") == "a"  # the owner again: still its own
        assert s.claim("prescription-id|1", "b") == "a"  # another owner: refused, told who
    with store.session(write=True) as s:
        assert s.claim("prescription-id|1", "b") == "a"
        s.release("prescription-id|1", "b")  # not the holder: nothing happens
        assert s.claim("prescription-id|1", "b") == "a"
        s.release("prescription-id|1", "a")
        assert s.claim("prescription-id|1", "b") == "b"


def test_a_claim_rolls_back_with_its_unit(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session(write=True) as s:
        assert s.claim("tracking-code|p|123456", "a") == "a"
        raise RuntimeError("the unit fails")
    with store.session(write=True) as s:
        assert s.claim("tracking-code|p|123456", "b") == "b"


def test_concurrent_claims_of_one_key_have_one_winner(store_factory: StoreFactory) -> None:
    """Two processes (two store handles) and threads in each claim one key at once."""
    stores = [store_factory(), store_factory()]
    holders: list[str] = []
    lock = threading.Lock()

    def claim(n: int) -> None:
        with stores[n % 2].session(write=True) as s:
            holder = s.claim("item-fingerprint|x", f"owner-{n}")
        with lock:
            holders.append(holder)

    threads = [threading.Thread(target=claim, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(holders) == 8 and len(set(holders)) == 1


def test_stamps_count_bumps_and_roll_back_with_their_unit(store: Store) -> None:
    with store.session() as s:
        assert s.stamp("patient-items|p1") == 0
    with store.session(write=True) as s:
        s.bump("patient-items|p1")
        s.bump("patient-items|p1")
        assert s.stamp("patient-items|p1") == 2
    with pytest.raises(RuntimeError), store.session(write=True) as s:
        s.bump("patient-items|p1")
        raise RuntimeError("the unit fails")
    with store.session() as s:
        assert s.stamp("patient-items|p1") == 2 and s.stamp("patient-items|p2") == 0


def test_records_are_compare_and_set_and_stay_out_of_history(store: Store) -> None:
    job = Record("bulk-job", "j1", 1, b'{"state":"queued"}')
    with store.session(write=True) as s:
        first = s.put_record(job, None)
    assert first.version == 1
    with pytest.raises(VersionConflict), store.session(write=True) as s:
        s.put_record(job, None)  # it exists already
    with store.session(write=True) as s:
        second = s.put_record(Record("bulk-job", "j1", 2, b'{"state":"running"}'), 1)
    assert second.version == 2
    with pytest.raises(VersionConflict), store.session(write=True) as s:
        s.put_record(Record("bulk-job", "j1", 2, b'{"state":"stale"}'), 1)  # a lost lease
    with store.session(write=True) as s:
        s.put_record(Record("bulk-job", "j2", 1, b"{}"), None)
        s.put_record(Record("other", "j3", 1, b"{}"), None)
    with store.session() as s:
        found = s.record("bulk-job", "j1")
        assert found is not None and (found.version, found.body) == (2, b'{"state":"running"}')
        assert s.record_keys("bulk-job") == ["j1", "j2"]
        assert s.history(HistoryQuery()).versions == []  # not resources
    with store.session(write=True) as s:
        s.delete_record("bulk-job", "j1")
    with store.session() as s:
        assert s.record("bulk-job", "j1") is None and s.record_keys("bulk-job") == ["j2"]


def test_a_version_that_commits_late_never_joins_pages_already_served(store: Store) -> None:
    """The watermark: what a reader saw below it is final, whatever commits afterwards."""
    with store.session(write=True) as s:
        for n in range(3):
            s.put(version(f"old{n}", 1), [], None)
    with store.session(write=True) as w:
        late = w.put(version("late", 1), [], None)  # written, not yet committed
        with store.session() as r:
            mark = r.watermark()
            page1 = r.history(HistoryQuery(type="Patient", count=2))
        assert [v.id for v in page1.versions] == ["old2", "old1"] and page1.total == 3
    assert late.position >= mark  # it can only appear above what was served
    with store.session() as r:
        page2 = r.history(HistoryQuery(type="Patient", count=2, before=page1.next_cursor))
        fresh = r.history(HistoryQuery(type="Patient"))
    assert [v.id for v in page2.versions] == ["old0"] and page2.next_cursor is None
    assert [v.id for v in fresh.versions] == ["late", "old2", "old1", "old0"]


def test_nothing_stamped_by_the_settled_instant_commits_after_it(store: Store) -> None:
    """A unit holds a version stamped now while another thread takes the settled instant:
    SQLite waits for the unit, MongoDB answers an instant before its stamp; either way a
    reader bounded by the instant (bulk export) cannot miss the version for good."""
    stamped = instant(time.time())
    held, took = threading.Event(), threading.Event()

    def writer() -> None:
        with store.session(write=True) as s:
            s.put(version("late", 1, at=stamped), [], None)
            held.set()
            took.wait(2)  # SQLite: the settled instant waits for this unit meanwhile

    thread = threading.Thread(target=writer)
    thread.start()
    assert held.wait(10)
    timer = threading.Timer(0.5, took.set)
    timer.start()
    settled = store.settled_instant()
    with store.session() as r:
        seen = r.current("Patient", "late") is not None
    thread.join()
    timer.join()
    assert seen or stamped > settled, (stamped, settled)
    assert settled < instant(time.time() - STAMP_WINDOW_SECONDS / 2)  # it trails the clock
    with store.session() as r:
        assert r.current("Patient", "late") is not None


def test_increments_between_watermarks_have_no_gaps_or_repeats(store: Store) -> None:
    """How an incremental reader ($export `_since`, dashboards) reads: [previous, current)."""
    seen: list[str] = []
    previous: str | None = None
    for batch in range(3):
        with store.session(write=True) as s:
            for n in range(2):
                s.put(version(f"b{batch}-{n}", 1), [], None)
        with store.session() as r:
            mark = r.watermark()
            page = r.history(HistoryQuery(after=previous, count=100))
        seen += [v.id for v in page.versions if v.position < mark]
        assert all(v.position < mark for v in page.versions)
        previous = mark
    assert sorted(seen) == sorted(f"b{b}-{n}" for b in range(3) for n in range(2))
