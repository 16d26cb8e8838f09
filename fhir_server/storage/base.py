"""The Store protocol: documents, versions and index entries, engine-neutral.

A `Store` hands out `StoreSession`s. Everything done inside one write session is one
atomic unit (SQLite: one BEGIN IMMEDIATE transaction; MongoDB: one multi-document
transaction). Index entries are produced by `fhir_server.search` and are opaque here:
each engine has an index module that writes and queries them.

**Positions.** Every stored version has a position: an opaque string of lowercase hex
digits that orders history (newest first) and serves as the paging cursor. Positions of
one store compare as strings; they come from no shared counter (SQLite: its single
writer's row id; MongoDB: the write unit's start time, a random tie-breaker and a count,
see `mongo_units`), so no document is touched by every write. Because a unit may commit
after a later-positioned one, readers never go past `StoreSession.watermark()`.

**Settled instants.** `last_updated` is taken before a version reaches its store (the
Repository stamps a resource before its write session), so a version stamped before an
instant may still commit after a reader passed that instant. A version reaches the store
within STAMP_WINDOW_SECONDS of its stamp (the Repository re-stamps one that took longer),
which lets each engine name an instant after which nothing stamped at or before it can
still commit: `Store.settled_instant()`, used where `last_updated` bounds an increment
(bulk export's transactionTime and `_since`).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

STAMP_WINDOW_SECONDS = 0.5  # from a version's last_updated to its write in the store, at most


def instant(seconds: float) -> str:
    """A Unix time as a FHIR instant in UTC, millisecond precision (rounded down)."""
    return datetime.fromtimestamp(seconds, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class ResourceVersion:
    """One stored version of a resource. `body` is the JSON text (with meta) or None if deleted."""

    type: str
    id: str
    version: int
    last_updated: str  # FHIR instant, UTC, millisecond precision
    deleted: bool
    body: bytes | None
    method: str = "PUT"  # POST | PUT | PATCH | DELETE: how this version came to be
    position: str = ""  # where history places it (see "Positions"); "" when not read from history


@dataclass(frozen=True, slots=True)
class HistoryQuery:
    type: str | None = None
    id: str | None = None
    since: str | None = None  # inclusive lower bound on last_updated
    at: str | None = None  # versions current at this instant
    before: str | None = None  # cursor: only versions positioned before this one
    after: str | None = None  # incremental readers: only versions at or after this position
    count: int = 20
    # Only versions of resources that now satisfy this search-plan clause (authorization
    # narrowing); their deletions and resources gone since are left out. No total then.
    only: Any = None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    versions: list[ResourceVersion]
    total: int | None  # number of versions matching, ignoring the cursor
    next_cursor: str | None


def is_position(text: str) -> bool:
    """The shape every engine's positions have: 1 to 40 lowercase hex digits."""
    return 0 < len(text) <= 40 and all(c in "0123456789abcdef" for c in text)


@dataclass(frozen=True, slots=True)
class Record:
    """A small server document that is not a FHIR resource (a bulk job): never searched,
    never in history, versioned for compare-and-set."""

    kind: str
    key: str
    version: int
    body: bytes


class VersionConflict(Exception):
    """The resource's current version is not the one the writer expected."""


class StoreUnavailable(Exception):
    """The backing database cannot be reached (its message may name hosts: logged, not shown)."""


class StoreReadOnly(StoreUnavailable):
    """The store can serve reads but takes no writes; the message says why and may be shown."""


class TransactionConflict(Exception):
    """A concurrent unit changed what this one had read: nothing was written; retry."""


class StoreFull(Exception):
    """The store has no room left (disk full, size limit): nothing was written."""


def is_disk_full(exc: BaseException | None) -> bool:
    """Whether an error (or one it was raised from) is a full disk or store: SQLite's
    SQLITE_FULL, MongoDB's OutOfDiskSpace, the OS's ENOSPC."""
    import errno

    seen = 0
    while exc is not None and seen < 8:
        if getattr(exc, "sqlite_errorcode", None) == 13 or getattr(exc, "code", None) == 14031:
            return True
        if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


class StoreSession(Protocol):
    def current(self, type_: str, id_: str) -> ResourceVersion | None:
        """Latest version, including a delete marker (deleted=True, body None)."""

    def peek(self, type_: str, id_: str) -> ResourceVersion | None:
        """`current()` without claiming the resource in a write unit: for what the unit reads
        only as input and whose writers never read what the unit writes (a patient's
        record, a visit, a coverage, a prescriber's roles), so that units reading the same
        input share no document. SQLite: the same as `current()`."""
        ...

    def version(self, type_: str, id_: str, version: int) -> ResourceVersion | None: ...

    def put(self, rv: ResourceVersion, index: Sequence[Any], expected_version: int | None) -> ResourceVersion:
        """Write a new version and replace the resource's index entries.

        `expected_version` is the version the writer read (None: must not exist yet).
        Raises VersionConflict when it does not match. Returns the version with its `position` set.
        """

    def history(self, query: HistoryQuery) -> HistoryPage:
        """Versions newest first, only those positioned before `watermark()` (taken once
        per session), so a page never changes once served and a later page never gains
        a version that commits late."""
        ...

    def watermark(self) -> str:
        """The visibility watermark: every version positioned before it is committed, and
        no version positioned before it can appear any more (a write unit that began
        earlier and is still open holds it back). Every incremental reader uses it:
        history paging and `_since`, `$export` (read versions in [previous watermark,
        this one) for an increment with neither gaps nor repeats), the dashboards."""
        ...

    def search(self, plan: Any) -> Any:
        """Run a backend-neutral search plan (see fhir_server.search) and return its result."""

    def read_many(self, keys: Sequence[tuple[str, str]]) -> list[ResourceVersion]:
        """Current, non-deleted versions of the given (type, id) pairs, in any order."""

    def iter_current(self, type_: str | None, batch: int = 500) -> Iterator[ResourceVersion]:
        """All current, non-deleted resources (for reindexing)."""

    def replace_index(self, type_: str, id_: str, index: Sequence[Any]) -> None: ...

    def claim(self, key: str, owner: str) -> str:
        """Reserve the unique `key` for `owner` inside this unit; return who holds it.

        The holder is `owner` when this unit reserved the key or `owner` already held it,
        else the other owner (nothing is changed then). Uniqueness is the engine's unique
        index on the key, not a search: two units claiming one key at once can never both
        get it, on one process or many. A claim is part of the unit: rolled back with it.
        Keys name what they make unique, e.g. `prescription-id|<id>`."""
        ...

    def release(self, key: str, owner: str) -> None:
        """Give up `key` if `owner` holds it (so it can be claimed again)."""
        ...

    def stamp(self, key: str) -> int:
        """The change counter `key` (0 if never bumped). A view computed outside a write
        unit after reading the stamp is still current inside one that reads the same
        stamp: every write the view depends on bumps it. In a write session the engine
        makes the check hold until the unit commits (SQLite: the writer lock; MongoDB: the
        read claims the counter's document)."""
        ...

    def bump(self, key: str) -> None:
        """Raise the change counter `key` by one, as part of this unit."""

    def lock(self, key: str) -> None:
        """This unit depends on what `key` names (see `repository.conditional`): a
        concurrent unit locking the same key cannot commit on what it read before this one
        commits (SQLite: the single writer already serialises units; MongoDB: both write
        the key's lock document, and the later one waits, then reads again). Searches
        themselves lock nothing."""
        ...

    def record(self, kind: str, key: str) -> Record | None:
        """A server record (see `Record`), or None."""
        ...

    def put_record(self, record: Record, expected_version: int | None) -> Record:
        """Write a record if its stored version is `expected_version` (None: absent);
        VersionConflict otherwise. Returns it with version expected + 1."""
        ...

    def delete_record(self, kind: str, key: str) -> None: ...

    def record_keys(self, kind: str) -> list[str]:
        """The keys of every record of a kind."""
        ...


class Store(Protocol):
    def session(self, write: bool = False) -> AbstractContextManager[StoreSession]: ...

    def settled_instant(self) -> str:
        """An instant T such that every version with `last_updated` <= T is committed and
        seen by sessions begun after this returns, and none stamped <= T can commit any
        more (given versions reach the store within STAMP_WINDOW_SECONDS of their stamp).
        It trails the clock by about that window, more while an earlier unit is open."""
        ...

    def ping(self) -> bool: ...

    def ready(self) -> list[str]:
        """What keeps the store from taking writes now (none: ready). It writes to find out."""
        ...

    def close(self) -> None: ...
