"""What changed in the store between two positions of its history: the one place an
incremental reader (the measures' tallies) touches history ordering.

`position(s)` is the store's visibility watermark (`StoreSession.watermark()`): where its
history stands now, as far as a reader may trust it; `changes(...)` lists each resource of
the given types written from `since` up to (not including) `until`, with the version it
had at `since` and the one it has at `until`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fhir_server import authorization
from fhir_server.storage.base import HistoryQuery, ResourceVersion, StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

PAGE = 1000
Position = str  # a history position (see storage.base "Positions"); "" before the first


@dataclass(frozen=True)
class Change:
    type: str
    id: str
    before: int  # the version current at `since` (0: none)
    after: ResourceVersion  # the version current at `until` (a deletion: no body)


def position(repo: Repository, s: StoreSession) -> Position:
    """The store's visibility watermark now: every version positioned before it is
    committed, and none can appear there any more."""
    return s.watermark()


def changes(
    repo: Repository, s: StoreSession, types: frozenset[str], since: Position, until: Position, limit: int
) -> list[Change] | None:
    """The resources of `types` changed in [since, until) (two watermarks: neither gaps
    nor repeats); None when more than `limit` versions were written (a rebuild is cheaper
    than replaying them)."""
    latest: dict[tuple[str, str], ResourceVersion] = {}
    earliest: dict[tuple[str, str], int] = {}
    seen = 0
    for type_ in sorted(types):
        cursor: str | None = until
        while cursor is not None:
            query = HistoryQuery(type=type_, before=cursor, after=since or None, count=PAGE)
            with authorization.as_system():
                page = repo.history(s, query)
            for rv in page.versions:
                seen += 1
                key = (rv.type, rv.id)
                latest.setdefault(key, rv)  # newest first: the first seen is the latest
                earliest[key] = rv.version
            cursor = page.next_cursor
            if seen > limit:
                return None
    return [Change(t, i, earliest[(t, i)] - 1, rv) for (t, i), rv in latest.items()]
