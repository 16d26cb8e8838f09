"""History on MongoDB: one document per version in the `history` collection.

`q` is the version's position (see `mongo_units`): history is ordered by it, newest first,
the cursor is "versions positioned before this one", and nothing at or past the
watermark is shown (it may still be joined by a unit that commits late).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from pymongo.client_session import ClientSession
from pymongo.collection import Collection

from fhir_server.storage.base import HistoryPage, HistoryQuery, ResourceVersion

Key = tuple[str, str]
# Which of these (type, id) are visible now (HistoryQuery.only, compiled by the session).
Visible = Callable[[list[Key]], set[Key]]
_SCAN_BATCH = 200


def history_doc(key: str, rv: ResourceVersion) -> dict[str, Any]:
    return {
        "_id": f"{key}/{rv.version}",
        "t": rv.type,
        "i": rv.id,
        "v": rv.version,
        "lu": rv.last_updated,
        "d": rv.deleted,
        "m": rv.method,
        "b": rv.body,
        "q": rv.position,
    }


def from_history(doc: dict[str, Any]) -> ResourceVersion:
    return ResourceVersion(
        doc["t"], doc["i"], doc["v"], doc["lu"], doc["d"], doc.get("b"), doc["m"], str(doc["q"])
    )


def _filter(query: HistoryQuery, until: str) -> dict[str, Any]:
    cond: dict[str, Any] = {"q": {"$lt": until, **({"$gte": query.after} if query.after else {})}}
    if query.type is not None:
        cond["t"] = query.type
    if query.id is not None:
        cond["i"] = query.id
    if query.since is not None:
        cond["lu"] = {"$gte": query.since}
    return cond


def history_page(
    coll: Collection[Any],
    session: ClientSession | None,
    query: HistoryQuery,
    until: str,
    visible: Visible | None = None,
) -> HistoryPage:
    """The page of `query` among the versions positioned before `until` (the watermark)."""
    if query.at is not None:
        return _at_page(coll, session, query, until, visible)
    cond = _filter(query, until)
    total = coll.count_documents(cond, session=session) if visible is None else None
    if query.before is not None:
        cond["q"] = {**cond["q"], "$lt": min(query.before, until)}
    found = coll.find(cond, session=session).sort("q", -1)
    if visible is None:
        docs = list(found.limit(query.count + 1))
    else:
        docs = _visible_docs(found.batch_size(_SCAN_BATCH), visible, query.count + 1)
    versions = [from_history(d) for d in docs[: query.count]]
    next_cursor = versions[-1].position if len(docs) > query.count else None
    return HistoryPage(versions, total, next_cursor)


def _visible_docs(docs: Iterable[dict[str, Any]], visible: Visible, want: int) -> list[dict[str, Any]]:
    """The first `want` versions whose resource is visible now, checked a batch at a time."""
    kept: list[dict[str, Any]] = []
    batch: list[dict[str, Any]] = []

    def flush() -> None:
        shown = visible(list({(d["t"], d["i"]) for d in batch}))
        kept.extend(d for d in batch if (d["t"], d["i"]) in shown)
        batch.clear()

    for doc in docs:
        batch.append(doc)
        if len(batch) >= _SCAN_BATCH:
            flush()
            if len(kept) >= want:
                break
    if batch and len(kept) < want:
        flush()
    return kept[:want]


def _at_page(
    coll: Collection[Any],
    session: ClientSession | None,
    query: HistoryQuery,
    until: str,
    visible: Visible | None,
) -> HistoryPage:
    """Versions current at `query.at`: per resource, the newest version written by then."""
    assert query.at is not None
    cond = {
        **_filter(query, until),
        "lu": {"$lte": query.at, **({"$gte": query.since} if query.since else {})},
    }
    latest: dict[tuple[str, str], tuple[int, str]] = {}
    for d in coll.find(cond, {"t": 1, "i": 1, "v": 1, "q": 1}, session=session):
        key = (d["t"], d["i"])
        if key not in latest or d["v"] > latest[key][0]:
            latest[key] = (d["v"], d["q"])
    if visible is not None:
        keys = list(latest)
        shown: set[Key] = set()
        for start in range(0, len(keys), _SCAN_BATCH):
            shown |= visible(keys[start : start + _SCAN_BATCH])
        latest = {k: v for k, v in latest.items() if k in shown}
    seqs = sorted((q for _, q in latest.values()), reverse=True)
    total = len(seqs) if visible is None else None
    if query.before is not None:
        seqs = [q for q in seqs if q < query.before]
    page = seqs[: query.count + 1]
    docs = {d["q"]: d for d in coll.find({"q": {"$in": page[: query.count]}}, session=session)}
    versions = [from_history(docs[q]) for q in page[: query.count] if q in docs]
    next_cursor = versions[-1].position if len(page) > query.count and versions else None
    return HistoryPage(versions, total, next_cursor)
