"""Helpers for the conformance suite: write resources with their index, run searches."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from fhir_server.search import extract_index, parse_search, search_bundle
from fhir_server.storage.base import ResourceVersion, Store

NC = "http://noskhe.ir/fhir/sid/national-code"


def write(store: Store, *resources: dict[str, Any], last_updated: str = "2026-01-01T00:00:00.000Z") -> None:
    with store.session(write=True) as session:
        for r in resources:
            current = session.current(r["resourceType"], r["id"])
            version = (current.version + 1) if current else 1
            rv = ResourceVersion(r["resourceType"], r["id"], version, last_updated, False, orjson.dumps(r))
            session.put(rv, extract_index(r), current.version if current else None)


def delete(store: Store, type_: str, id_: str) -> None:
    with store.session(write=True) as session:
        current = session.current(type_, id_)
        assert current is not None
        at = "2026-01-02T00:00:00.000Z"
        rv = ResourceVersion(type_, id_, current.version + 1, at, True, None, "DELETE")
        session.put(rv, [], current.version)


def bundle(store: Store, type_: str | None, params: list[tuple[str, str]], **kw: Any) -> dict[str, Any]:
    plan = parse_search(type_, params, **kw)
    with store.session() as session:
        return search_bundle(plan, session.search(plan), "http://test/fhir", f"/{type_ or ''}")


def parse_query(query: str) -> list[tuple[str, str]]:
    return [tuple(p.split("=", 1)) for p in query.split("&") if p]  # type: ignore[misc]


def ids(store: Store, type_: str | None, query: str, **kw: Any) -> list[str]:
    """Ids of the matches of `query` (`a=1&b=2`), in bundle order."""
    return page_ids(bundle(store, type_, parse_query(query), **kw))


def page_ids(b: dict[str, Any]) -> list[str]:
    return [e["resource"]["id"] for e in b["entry"] if e["search"]["mode"] == "match"]


def follow(store: Store, type_: str, b: dict[str, Any], rel: str) -> dict[str, Any] | None:
    link = next((x["url"] for x in b["link"] if x["relation"] == rel), None)
    if link is None:
        return None
    return bundle(store, type_, parse_qsl(urlsplit(link).query))


def patient(id_: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": id_, **extra}


def mr(id_: str, subject: str, **extra: Any) -> dict[str, Any]:
    base = {
        "resourceType": "MedicationRequest",
        "id": id_,
        "status": "active",
        "intent": "order",
        "subject": {"reference": subject},
    }
    return {**base, **extra}


def version(
    id_: str, n: int, *, deleted: bool = False, at: str = "2026-01-01T00:00:00.000Z"
) -> ResourceVersion:
    body = None if deleted else f'{{"resourceType":"Patient","id":"{id_}"}}'.encode()
    return ResourceVersion("Patient", id_, n, at, deleted, body, "DELETE" if deleted else "PUT")
