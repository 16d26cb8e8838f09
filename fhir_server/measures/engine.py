"""Evaluating a measure incrementally over the store.

The tally of each Measure lives in server records (kind `measure-tally`): a head (the
Measure's fingerprint, the history position counted up to, the months held) and one
record per Jalali month (plus one for what has no date). An evaluation

1. reads the head; without one, or when the Measure changed, counts everything anew
   (the current resources matching each population, through the Repository, in one read
   session);
2. otherwise replays only the resources changed since the head's position: it takes
   away what the version current then counted for and adds what the version current now
   counts for (`search.in_memory` judges any version against the criteria);
3. writes the months it changed and the new head in one write unit, compare-and-set on
   each record, and starts again when another evaluator got there first;
4. answers the MeasureReport of the period from the months it covers.

No write of a resource touches any of this: the cost is paid by the evaluations, in
proportion to what changed since the previous one.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

import orjson

from fhir_server import authorization
from fhir_server.eprescription.store_access import read
from fhir_server.measures import changes
from fhir_server.measures.definitions import MeasureSpec, Population, contributions
from fhir_server.measures.expressions import Lookup
from fhir_server.measures.tally import TIMELESS, Contribution, Tally
from fhir_server.repository.meta import now_instant
from fhir_server.repository.paging import iterate
from fhir_server.search import extract_index
from fhir_server.storage.base import Record, Store, StoreSession, VersionConflict
from fhir_server.tehran import Month

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

KIND = "measure-tally"
REPLAY_LIMIT = 50_000  # versions to replay; more and counting anew is cheaper
ATTEMPTS = 4


@dataclass(frozen=True)
class Head:
    fingerprint: str
    position: changes.Position
    months: tuple[str, ...]
    at: str = ""  # when the tally was last brought up to date (an instant)

    def body(self) -> bytes:
        return orjson.dumps(
            {"fingerprint": self.fingerprint, "position": self.position, "months": self.months, "at": self.at}
        )


def month_of(day: date) -> str:
    return str(Month.of(day))


def tally_for(repo: Repository, store: Store, spec: MeasureSpec, start: date, end: date) -> Tally:
    """The measure's tally, brought up to date, for the months of start..end."""
    for _ in range(ATTEMPTS):
        try:
            return _up_to_date(repo, store, spec, start, end)
        except VersionConflict:
            continue  # another evaluator wrote first: read what it wrote
    return _up_to_date(repo, store, spec, start, end)


def kept(
    repo: Repository, store: Store, spec: MeasureSpec, start: date, end: date, most: int
) -> tuple[Tally, str] | None:
    """The tally as kept, without catching up, and when it was last brought up to date,
    if more than `most` versions of the measure's types were written since (catching up
    would keep a reader waiting); None when catching up is cheap, or nothing is kept yet
    for this definition of the Measure."""
    with store.session() as s:
        head, _ = _head(s, spec)
        if head is None or head.fingerprint != spec.fingerprint or not head.at:
            return None
        now = changes.position(repo, s)
        if head.position == now:
            return None
        if changes.changes(repo, s, spec.types, head.position, now, most) is not None:
            return None
        return _load(s, spec, [*_months(start, end), TIMELESS]), head.at


_CATCHING_UP = threading.Lock()  # one catch-up at a time in this process


def catch_up_in_background(
    repo: Repository, store: Store, specs: Iterable[MeasureSpec]
) -> threading.Thread | None:
    """Bring the tallies of `specs` up to date in a thread of this process (as the
    server), unless one is already doing so; the thread, or None."""
    if not _CATCHING_UP.acquire(blocking=False):
        return None
    pending = list(specs)

    def run() -> None:
        try:
            with authorization.as_system():
                for spec in pending:
                    today = date.today()
                    tally_for(repo, store, spec, today, today)
        finally:
            _CATCHING_UP.release()

    thread = threading.Thread(target=run, name="measure-catch-up", daemon=True)
    thread.start()
    return thread


def _key(spec: MeasureSpec, part: str) -> str:
    return f"{spec.id}|{part}"


def _head(s: StoreSession, spec: MeasureSpec) -> tuple[Head | None, int | None]:
    found = s.record(KIND, _key(spec, "head"))
    if found is None:
        return None, None
    data = orjson.loads(found.body)
    if not isinstance(data.get("position"), str):  # kept before positions were strings: count anew
        return Head("", "", tuple(data.get("months") or ())), found.version
    head = Head(data["fingerprint"], data["position"], tuple(data["months"]), str(data.get("at") or ""))
    return head, found.version


def _months(start: date, end: date) -> list[str]:
    months, month = [], Month.of(start)
    while month.first_day <= end:
        months.append(str(month))
        month = month.next()
    return months


def _up_to_date(repo: Repository, store: Store, spec: MeasureSpec, start: date, end: date) -> Tally:
    with store.session() as s:
        head, head_version = _head(s, spec)
        now = changes.position(repo, s)
        lookup = _lookup(s)
        if head is not None and head.fingerprint == spec.fingerprint and head.position == now:
            return _load(s, spec, [*_months(start, end), TIMELESS])
        replay = None
        if head is not None and head.fingerprint == spec.fingerprint:
            replay = changes.changes(repo, s, spec.types, head.position, now, REPLAY_LIMIT)
        if replay is None:  # first evaluation, a changed Measure, or too much to replay
            counted = _count_all(repo, s, spec, lookup)
            parts = counted.split(month_of)
            written = {m: t for m, t in parts.items()}
            old_months: tuple[str, ...] = head.months if head else ()
            touched = sorted(set(written) | set(old_months))
        else:
            delta = list(_replay(s, spec, replay, lookup))
            touched = sorted({month_of(c.day) if c.day else TIMELESS for c, _ in delta})
            held = _load(s, spec, touched)
            for contribution, sign in delta:
                held.add(contribution, sign)
            written = held.split(month_of)
            old_months = head.months if head else ()
    months = tuple(sorted(set(old_months) | set(written)))
    _save(store, spec, Head(spec.fingerprint, now, months, now_instant()), head_version, touched, written)
    with store.session() as s:
        return _load(s, spec, [*_months(start, end), TIMELESS])


def _lookup(s: StoreSession) -> Lookup:
    """resolve() for the measure's expressions: the server's own reads, cached."""
    cache: dict[str, dict[str, Any] | None] = {}

    def lookup(ref: str) -> dict[str, Any] | None:
        if ref not in cache:
            type_, _, id_ = ref.partition("/")
            cache[ref] = read(s, type_, id_)
        return cache[ref]

    return lookup


def _count_all(repo: Repository, s: StoreSession, spec: MeasureSpec, lookup: Lookup) -> Tally:
    tally = Tally()
    done: set[tuple[str, tuple[tuple[str, str], ...]]] = set()
    for population in _populations(spec):
        query = (population.type, population.query)
        if query in done:
            continue  # populations sharing criteria are counted from one pass
        done.add(query)
        with authorization.as_system():
            for resource in iterate(repo, s, population.type, list(population.query)):
                for contribution in contributions(
                    spec, resource, extract_index(resource), lookup, population.query
                ):
                    tally.add(contribution)
    return tally


def _populations(spec: MeasureSpec) -> Iterable[Population]:
    return (p for g in spec.groups for p in g.populations)


def _replay(
    s: StoreSession, spec: MeasureSpec, replay: list[changes.Change], lookup: Lookup
) -> Iterable[tuple[Contribution, int]]:
    for change in replay:
        if change.before:
            old = s.version(change.type, change.id, change.before)
            if old is not None and old.body is not None:
                body = orjson.loads(old.body)
                for contribution in contributions(spec, body, extract_index(body), lookup):
                    yield contribution, -1
        if change.after.body is not None:
            body = orjson.loads(change.after.body)
            for contribution in contributions(spec, body, extract_index(body), lookup):
                yield contribution, 1


def _load(s: StoreSession, spec: MeasureSpec, months: Iterable[str]) -> Tally:
    parts = []
    for month in months:
        found = s.record(KIND, _key(spec, month))
        if found is not None:
            parts.append(Tally.from_json(orjson.loads(found.body)))
    return Tally.merged(parts)


def _save(
    store: Store,
    spec: MeasureSpec,
    head: Head,
    head_version: int | None,
    touched: Iterable[str],
    written: dict[str, Tally],
) -> None:
    """The changed months and the head, in one unit; VersionConflict when another
    evaluator wrote the head first (nothing is written then)."""
    with store.session(write=True) as s:
        s.put_record(Record(KIND, _key(spec, "head"), 0, head.body()), head_version)
        for month in touched:
            current = s.record(KIND, _key(spec, month))
            version = current.version if current else None
            tally = written.get(month)
            if tally is None or not tally.keys():
                if current is not None:
                    s.delete_record(KIND, _key(spec, month))
                continue
            s.put_record(Record(KIND, _key(spec, month), 0, orjson.dumps(tally.to_json())), version)
