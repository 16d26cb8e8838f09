"""What the request handlers share: settings, store, repository. One per app."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import cast

from flask import current_app, request
from werkzeug.sansio.utils import get_current_url

from fhir_server.config import Settings
from fhir_server.outcome import FhirError
from fhir_server.repository import Repository
from fhir_server.storage.base import Store


@dataclass
class FhirContext:
    settings: Settings
    store: Store
    repo: Repository
    resource_types: frozenset[str]


def ctx() -> FhirContext:
    return cast(FhirContext, current_app.extensions["noskhe"])


def base_url() -> str:
    """The FHIR base URL, e.g. http://127.0.0.1:8080/fhir (settings win over the request)."""
    configured = ctx().settings.base_url
    if configured:
        return configured.rstrip("/")
    return _base_for(request.scheme, request.host)


@lru_cache(maxsize=64)
def _base_for(scheme: str, host: str) -> str:
    """`request.host_url` + /fhir, computed once per scheme and host: Werkzeug rebuilds it
    (IRI decoding, IDNA) on every request, 15-50 us of every write's Location header.
    `request.host` is still Werkzeug's (validated) value; the cache is bounded because
    the Host header is the client's."""
    return get_current_url(scheme, host).rstrip("/") + "/fhir"


def check_type(type_: str) -> str:
    if type_ not in ctx().resource_types:
        raise FhirError.of(404, "not-supported", f"Unknown resource type {type_!r}")
    return type_


def query_pairs() -> list[tuple[str, str]]:
    """Query parameters in order, repeats kept (AND), from the URL and a form body."""
    pairs = list(request.args.items(multi=True))
    if request.method == "POST" and request.mimetype == "application/x-www-form-urlencoded":
        pairs += list(request.form.items(multi=True))
    return pairs
