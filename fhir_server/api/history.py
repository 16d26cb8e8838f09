"""History bundles at instance, type and system level, newest first, cursor-paged.

Pages are anchored on the versions' positions (`_cursor`), below the store's visibility
watermark: a version written after the first page was served never shifts later pages,
unlike offset paging, and none that commits late appears among pages already served.

The first page's `Bundle.meta.lastUpdated` is the store's settled instant taken before
reading (`Store.settled_instant`): every version stamped at or before it is in that
history, so a poller that sends it back as `_since` misses nothing that committed late.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import orjson
from flask import request

from fhir_server.api.context import base_url, ctx
from fhir_server.outcome import FhirError
from fhir_server.repository.meta import etag
from fhir_server.storage.base import HistoryQuery, ResourceVersion, is_position


def history_bundle(type_: str | None, id_: str | None) -> dict[str, Any]:
    query = _history_query(type_, id_)
    settled = ctx().store.settled_instant() if query.before is None else None
    with ctx().store.session() as s:
        page = ctx().repo.history(s, query)
    path = "/".join(p for p in (base_url(), type_, id_, "_history") if p)
    links = [{"relation": "self", "url": _page_url(path, query.before)}]
    if page.next_cursor is not None:
        links.append({"relation": "next", "url": _page_url(path, page.next_cursor)})
    bundle: dict[str, Any] = {"resourceType": "Bundle", "type": "history"}
    if settled is not None:
        bundle["meta"] = {"lastUpdated": settled}
    if page.total is not None:  # none for a narrowed history: it would count what is not shown
        bundle["total"] = page.total
    return {**bundle, "link": links, "entry": [_history_entry(rv) for rv in page.versions]}


def _history_query(type_: str | None, id_: str | None) -> HistoryQuery:
    settings = ctx().settings
    count = _int_param("_count", settings.default_count)
    since, at = request.args.get("_since"), request.args.get("_at")
    return HistoryQuery(
        type=type_,
        id=id_,
        since=_utc("_since", since),
        at=_utc("_at", at),
        before=_cursor(),
        count=max(1, min(count or settings.default_count, settings.max_count)),
    )


def _int_param(name: str, default: int | None) -> int | None:
    value = request.args.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise FhirError.of(400, "invalid", f"{name} must be a non-negative integer")
    return int(value)


def _cursor() -> str | None:
    value = request.args.get("_cursor")
    if value is not None and not is_position(value):
        raise FhirError.of(400, "invalid", "_cursor is not one this server gave out")
    return value


def _utc(name: str, value: str | None) -> str | None:
    """Normalise an instant to the stored UTC text form so that it compares as text."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as exc:
        raise FhirError.of(400, "invalid", f"{name} must be an instant, got {value!r}") from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _page_url(path: str, cursor: str | None) -> str:
    params = [(k, v) for k, v in request.args.items(multi=True) if k != "_cursor"]
    if cursor is not None:
        params.append(("_cursor", cursor))
    return path + ("?" + urlencode(params) if params else "")


def _history_entry(rv: ResourceVersion) -> dict[str, Any]:
    url = f"{rv.type}/{rv.id}"
    entry: dict[str, Any] = {"fullUrl": f"{base_url()}/{url}"}
    if rv.body is not None:
        entry["resource"] = orjson.loads(rv.body)
    status = {"POST": "201 Created", "DELETE": "204 No Content"}.get(rv.method, "200 OK")
    entry["request"] = {"method": rv.method, "url": rv.type if rv.method == "POST" else url}
    entry["response"] = {
        "status": status,
        "etag": etag(rv.version),
        "lastModified": rv.last_updated,
    }
    return entry
