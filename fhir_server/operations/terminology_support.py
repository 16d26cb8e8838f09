"""What the terminology operations share: the server's TerminologyService kept in step
with the store, their inputs (query string and Parameters body), the target resource of
instance-level calls, and TerminologyError -> OperationOutcome."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson

import terminology
from fhir_server.operations.contract import OperationRequest
from fhir_server.outcome import FhirError
from fhir_server.storage.base import HistoryQuery, Store
from terminology.parameters import Args, read_parameters
from terminology.service import TerminologyService

KINDS = ("CodeSystem", "ValueSet", "ConceptMap")


class TerminologySync:
    """The server's TerminologyService, kept in step with the store: before answering, a
    worker registers the code systems that another worker (or another server on the same
    store) imported since it last looked."""

    def __init__(self, svc: TerminologyService, store: Store) -> None:
        self.svc, self.store = svc, store
        self._lock = threading.Lock()
        self.seen = latest_terminology_seq(store)

    def current(self) -> TerminologyService:
        latest = latest_terminology_seq(self.store)
        if latest != self.seen:
            with self._lock:
                register_stored(self.store, self.svc)
                self.seen = latest
        return self.svc


def arguments(req: OperationRequest) -> Args:
    """Inputs from the URL and, for POST with a JSON body, a Parameters resource."""
    with translated_errors():
        return read_parameters(req.query, req.body)


def instance(req: OperationRequest, kind: str) -> dict[str, Any] | None:
    """The resource of an instance-level call (``ValueSet/drugs/$expand``): from the store,
    else a shipped resource with that id; None for type- and system-level calls."""
    if req.id is None:
        return None
    if req.type != kind:
        raise FhirError.of(400, "invalid", f"This operation runs on {kind}, not {req.type}")
    svc = req.server.terminology
    with req.server.store.session() as s:
        current = s.current(kind, req.id)
    if current is not None and current.body is not None:
        resource: dict[str, Any] = orjson.loads(current.body)
        return prefer_registered(svc, kind, resource)
    shipped = svc.by_id(kind, req.id)
    if shipped is None:
        raise FhirError.of(404, "not-found", f"{kind}/{req.id} is not known")
    return shipped


def prefer_registered(svc: TerminologyService, kind: str, resource: dict[str, Any]) -> dict[str, Any]:
    """The service's own copy of a stored resource with the same url|version (its indexes
    are cached), else the resource itself."""
    url, version = resource.get("url"), resource.get("version")
    if isinstance(url, str) and isinstance(version, str):
        registered = svc.resource(kind, url, version)
        if registered is not None and registered.get("version") == version:
            return registered
    return resource


@contextmanager
def translated_errors() -> Iterator[None]:
    try:
        yield
    except terminology.TerminologyError as exc:
        raise FhirError.of(exc.status, exc.code, exc.message) from exc


def display_language(req: OperationRequest, args: Args) -> str | None:
    """displayLanguage, else the first language of Accept-Language (``fa``, ``en``)."""
    value = args.get("displayLanguage")
    if value and isinstance(value[0], str):
        return value[0]
    return req.display_language


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


def latest_terminology_seq(store: Store) -> str:
    """The position of the store's newest visible write of a CodeSystem, ValueSet or
    ConceptMap ("" if none): how a worker (or another machine on the same store) notices
    that a new version was imported."""
    with store.session() as s:
        pages = [s.history(HistoryQuery(type=kind, count=1)) for kind in KINDS]
    return max((page.versions[0].position for page in pages if page.versions), default="")
