"""Helpers for search tests: write resources with their index, run searches."""

from __future__ import annotations

from typing import Any

import orjson

from fhir_server.search import extract_index, parse_search, search_bundle
from fhir_server.storage.base import ResourceVersion
from fhir_server.storage.sqlite import SQLiteStore


def write(
    store: SQLiteStore, *resources: dict[str, Any], last_updated: str = "2026-01-01T00:00:00.000Z"
) -> None:
    with store.session(write=True) as session:
        for r in resources:
            current = session.current(r["resourceType"], r["id"])
            version = (current.version + 1) if current else 1
            rv = ResourceVersion(r["resourceType"], r["id"], version, last_updated, False, orjson.dumps(r))
            session.put(rv, extract_index(r), current.version if current else None)


def delete(store: SQLiteStore, type_: str, id_: str) -> None:
    with store.session(write=True) as session:
        current = session.current(type_, id_)
        assert current is not None
        rv = ResourceVersion(
            type_, id_, current.version + 1, "2026-01-02T00:00:00.000Z", True, None, "DELETE"
        )
        session.put(rv, [], current.version)


def bundle(store: SQLiteStore, type_: str | None, params: list[tuple[str, str]], **kw: Any) -> dict[str, Any]:
    plan = parse_search(type_, params, **kw)
    with store.session() as session:
        return search_bundle(plan, session.search(plan), "http://test/fhir", f"/{type_ or ''}")


def ids(store: SQLiteStore, type_: str | None, query: str, **kw: Any) -> list[str]:
    """Ids of the matches of `query` (`a=1&b=2`), in bundle order."""
    params = [tuple(p.split("=", 1)) for p in query.split("&") if p] if query else []
    b = bundle(store, type_, params, **kw)  # type: ignore[arg-type]
    return [e["resource"]["id"] for e in b["entry"] if e["search"]["mode"] == "match"]
