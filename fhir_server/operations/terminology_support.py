"""What the terminology operations share: the app's TerminologyService, their inputs
(query string and Parameters body), the target resource of instance-level calls, and
TerminologyError -> OperationOutcome."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
from flask import current_app, request

import terminology
from fhir_server.api.context import ctx, query_pairs
from fhir_server.api.http import read_json_body
from fhir_server.outcome import FhirError
from fhir_server.storage.base import HistoryQuery, Store
from terminology.parameters import Args, read_parameters
from terminology.service import TerminologyService

EXTENSION_KEY = "terminology"
KINDS = ("CodeSystem", "ValueSet", "ConceptMap")
SEEN_KEY = "terminology_seq"  # the newest terminology write this worker has registered


def service() -> TerminologyService:
    """The app's service (app.extensions["terminology"]), else the shared shipped one.

    Before answering, the worker registers code systems that another worker (or another
    server on the same store) imported since it last looked."""
    found = current_app.extensions.get(EXTENSION_KEY)
    if not isinstance(found, TerminologyService):
        return terminology.default_service()
    store = ctx().store
    latest = latest_terminology_seq(store)
    if latest != current_app.extensions.get(SEEN_KEY):
        register_stored(store, found)
        current_app.extensions[SEEN_KEY] = latest
    return found


def arguments() -> Args:
    """Inputs from the URL and, for POST with a JSON body, a Parameters resource."""
    body = read_json_body() if request.method == "POST" and request.content_length else None
    with translated_errors():
        return read_parameters(query_pairs(), body)


def instance(kind: str, type_: str | None, id_: str | None) -> dict[str, Any] | None:
    """The resource of an instance-level call (``ValueSet/drugs/$expand``): from the store,
    else a shipped resource with that id; None for type- and system-level calls."""
    if id_ is None:
        return None
    if type_ != kind:
        raise FhirError.of(400, "invalid", f"This operation runs on {kind}, not {type_}")
    with ctx().store.session() as s:
        current = s.current(kind, id_)
    if current is not None and current.body is not None:
        resource: dict[str, Any] = orjson.loads(current.body)
        return prefer_registered(kind, resource)
    shipped = service().by_id(kind, id_)
    if shipped is None:
        raise FhirError.of(404, "not-found", f"{kind}/{id_} is not known")
    return shipped


def prefer_registered(kind: str, resource: dict[str, Any]) -> dict[str, Any]:
    """The service's own copy of a stored resource with the same url|version (its indexes
    are cached), else the resource itself."""
    url, version = resource.get("url"), resource.get("version")
    if isinstance(url, str) and isinstance(version, str):
        registered = service().resource(kind, url, version)
        if registered is not None and registered.get("version") == version:
            return registered
    return resource


def require_type(name: str, type_: str | None, allowed: tuple[str | None, ...]) -> None:
    if type_ not in allowed:
        where = " or ".join(f"{t}/${name}" if t else f"${name}" for t in allowed)
        raise FhirError.of(400, "invalid", f"${name} runs as {where}")


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except terminology.TerminologyError as exc:
        raise FhirError.of(exc.status, exc.code, exc.message) from exc


def display_language(args: Args) -> str | None:
    """displayLanguage, else the first language of Accept-Language (``fa``, ``en``)."""
    value = args.get("displayLanguage")
    if value and isinstance(value[0], str):
        return value[0]
    header = request.headers.get("Accept-Language", "")
    first = header.split(",")[0].split(";")[0].strip()
    return first or None


def register_stored(store: Store, svc: TerminologyService) -> int:
    """Register every stored CodeSystem, ValueSet and ConceptMap with the service (start-up)."""
    count = 0
    with store.session() as s:
        for kind in KINDS:
            for rv in s.iter_current(kind):
                if rv.body is not None:
                    svc.register(orjson.loads(rv.body))
                    count += 1
    return count


def latest_terminology_seq(store: Store) -> int:
    """The store's newest write of a CodeSystem, ValueSet or ConceptMap (0 if none):
    how a worker notices that another one imported a new version."""
    with store.session() as s:
        pages = [s.history(HistoryQuery(type=kind, count=1)) for kind in KINDS]
    return max((page.versions[0].seq for page in pages if page.versions), default=0)
