"""What changed in the store between two positions of its history: the one place an
incremental reader (the measures' tallies) touches history ordering.

`position(s)` is where the store's history stands now, as far as a reader may trust it;
`changes(...)` lists each resource of the given types written after `since` and up to
`until`, with the version it had at `since` and the one it has at `until`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from fhir_server import authorization
from fhir_server.storage.base import HistoryQuery, ResourceVersion, StoreSession

if TYPE_CHECKING:
    from fhir_server.repository.resources import Repository

PAGE = 1000
Position = int


@dataclass(frozen=True)
class Change:
    type: str
    id: str
    before: int  # the version current at `since` (0: none)
    after: ResourceVersion  # the version current at `until` (a deletion: no body)


def position(repo: Repository, s: StoreSession) -> Position:
    """The newest history position visible now (0 for an empty store)."""
    with authorization.as_system():
        page = repo.history(s, HistoryQuery(count=1))
    return page.versions[0].seq if page.versions else 0


def changes(
    repo: Repository, s: StoreSession, types: frozenset[str], since: Position, until: Position, limit: int
) -> list[Change] | None:
    """The resources of `types` changed in (since, until]; None when more than `limit`
    versions were written (a rebuild is cheaper than replaying them)."""
    latest: dict[tuple[str, str], ResourceVersion] = {}
    earliest: dict[tuple[str, str], int] = {}
    seen = 0
    for type_ in sorted(types):
        cursor: int | None = until + 1
        while cursor is not None:
            with authorization.as_system():
                page = repo.history(s, HistoryQuery(type=type_, before_seq=cursor, count=PAGE))
            for rv in page.versions:
                if rv.seq <= since:
                    cursor = None
                    break
                seen += 1
                key = (rv.type, rv.id)
                latest.setdefault(key, rv)  # newest first: the first seen is the latest
                earliest[key] = rv.version
            else:
                cursor = page.next_cursor
            if seen > limit:
                return None
    return [Change(t, i, earliest[(t, i)] - 1, rv) for (t, i), rv in latest.items()]
